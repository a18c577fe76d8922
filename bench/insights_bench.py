#!/usr/bin/env python
"""Insights benchmark: the KPIs read live, the snapshots written and read, the dashboard's data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_ins .venv/bin/python bench/generate.py --units 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_ins .venv/bin/python bench/insights_bench.py [--repeats 3]

On a history built by `bench/generate.py` (N units × 36 months, the current month unbilled), as of
the last day of the last billed month:

  live        `kpis.building_figures(D)` for every building: what one point costs without snapshots
  refresh     `snapshots.refresh(as_of=D)` from nothing: 24 points for every building (the first night)
  again       the same again: nothing moved, nothing written (every later night without back-dated rows)
  trend       `snapshots.monthly(all buildings, as_of=D)`: the 24-month trend the dashboard draws
  dashboard   `insights.dashboard.dashboard_data` as a company-wide superuser, as of the snapshots' day

Each step is timed `--repeats` times (refresh once: it writes); the table gives min and median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from arrears.estate.models import Unit  # noqa: E402
from arrears.insights import dashboard, kpis, snapshots  # noqa: E402
from arrears.insights.models import KpiSnapshot, SnapshotState  # noqa: E402
from arrears.ledger.models import Charge  # noqa: E402


def timed(action, repeats: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return times, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    call_command("migrate", verbosity=0)
    last_due = Charge.objects.order_by("-due_date").values_list("due_date", flat=True).first()
    if last_due is None:
        print("没有账务数据：先运行 bench/generate.py / no ledger: run bench/generate.py first", file=sys.stderr)
        return 2
    as_of = kpis.month_end(last_due.year, last_due.month)
    KpiSnapshot.objects.all().delete()
    SnapshotState.objects.all().delete()
    print(f"backend {connection.vendor}, {Unit.objects.count():,} units, {Charge.objects.count():,} charges, as of {as_of}")
    rows = []
    times, figures = timed(lambda: kpis.building_figures(as_of), args.repeats)
    rows.append(("live: one point, every building", times, f"arrears rate {kpis.total(figures.values()).arrears_rate_amount}"))
    times, written = timed(lambda: snapshots.refresh(as_of=as_of), 1)
    rows.append(("refresh: 24 points from nothing", times, f"{written:,} rows"))
    times, written = timed(lambda: snapshots.refresh(as_of=as_of), args.repeats)
    rows.append(("refresh again: nothing moved", times, f"{written:,} rows"))
    times, trend = timed(lambda: snapshots.monthly(None, as_of=as_of), args.repeats)
    rows.append(("trend: 24 points read", times, f"{len(trend)} points"))
    user = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser(
        "bench-admin", password="bench-admin-pass")
    times, _ = timed(lambda: dashboard.dashboard_data(user, as_of=as_of), args.repeats)
    rows.append(("dashboard data, company-wide", times, ""))
    print(f"{'step':<36} {'min':>8} {'median':>8}  note")
    for name, times, note in rows:
        print(f"{name:<36} {min(times):>7.2f}s {statistics.median(times):>7.2f}s  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
