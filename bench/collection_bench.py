#!/usr/bin/env python
"""Collection benchmark: N units of history with about 15% in arrears, then time the daily run.

    .venv/bin/python bench/collection_bench.py --units 100000 [--months 36] [--arrears-within 12] [--reset]

The history is the ledger benchmark's (`ledger_bench.build_history`); `--arrears-within K` puts
every owner in arrears' first unpaid month within the last K months, so 12 and 36 months of
history carry the same open arrears and the two runs can be compared. The run date is the 20th
of the current month: last month's charges and older are overdue, this month's is not billed.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from arrears.collection.models import (  # noqa: E402
    Case,
    CaseStep,
    CollectionPolicy,
    CollectionRun,
    ContactAttempt,
    LadderStep,
    OutgoingMessage,
    Promise,
    Task,
)
from arrears.collection.run import run_collection  # noqa: E402
from bench import ledger_bench  # noqa: E402

COLLECTION_MODELS = [OutgoingMessage, Task, CaseStep, Promise, ContactAttempt, Case, LadderStep, CollectionPolicy,
                     CollectionRun]


def reset_collection() -> None:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in COLLECTION_MODELS)
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        else:
            for model in COLLECTION_MODELS:
                model.objects.all()._raw_delete(connection.alias)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--arrears-within", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reset", action="store_true", help="empty the estate, ledger and collection tables first")
    parser.add_argument("--keep-history", action="store_true",
                        help="reuse the ledger history already in the database; empty only the collection tables")
    args = parser.parse_args(argv)
    call_command("migrate", verbosity=0)
    if args.keep_history and ledger_bench.has_data():
        reset_collection()
        print(f"backend {connection.vendor}, reusing the history in the database, {os.cpu_count()} cores", flush=True)
        return time_runs(args.units)
    if ledger_bench.has_data() or Case.objects.exists():
        if not args.reset:
            print("数据库中已有数据：基准测试只在空库上运行，或加 --reset 清空 / the database holds data: "
                  "use an empty database or pass --reset", file=sys.stderr)
            return 2
        reset_collection()
        ledger_bench.reset_data()
    print(f"backend {connection.vendor}, {args.units} units × {args.months} months, arrears within the last "
          f"{args.arrears_within} months, {os.cpu_count()} cores", flush=True)
    history, _ = ledger_bench.timed("build history", args.units, lambda: ledger_bench.build_history(
        units=args.units, months=args.months, seed=args.seed, arrears_within=args.arrears_within))
    print(f"  {history.charges} charges, {history.payments} payments, {history.allocations} allocations", flush=True)
    return time_runs(args.units)


def time_runs(units: int) -> int:
    """(a) the first run opens every case, (b) the same date again, (c) the next day."""
    today = timezone.localdate()
    first_day = date(today.year, today.month, 20)
    second_day = date(today.year, today.month, 21)
    summary, _ = ledger_bench.timed(f"(a) first run {first_day} (opens every case)", units,
                                    lambda: run_collection(as_of=first_day))
    print(f"  {summary.open_cases} open cases ({summary.open_cases / units:.1%}), {summary.steps} steps, "
          f"{summary.tasks} tasks, {summary.messages} messages", flush=True)
    again, _ = ledger_bench.timed("(b) the same date again (no-op)", units, lambda: run_collection(as_of=first_day))
    assert (again.opened, again.steps, again.tasks, again.messages) == (0, 0, 0, 0), "the run is not idempotent"
    nxt, _ = ledger_bench.timed(f"(c) next day {second_day}", units, lambda: run_collection(as_of=second_day))
    print(f"  {nxt.open_cases} open cases, {nxt.steps} steps, {nxt.tasks} tasks, {nxt.messages} messages", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
