#!/usr/bin/env python
"""Portfolio benchmark: the month's slow days, billing and the staff pages, in one process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_p .venv/bin/python bench/portfolio_bench.py \\
        --build --units 100000 [--repeats 3] [--requests 20] [--skip-pages] [--profile DIR]

On a history of N units × M months with the current month M unbilled (built by `--build` with
`bench/generate.py`, or already in the database), each repeat walks one stretch of a company's
month inside a transaction that is rolled back afterwards, so every repeat starts from the same
database:

  scan        one sequential scan of the charge table (`count(*)`, `sum(amount)`): the yardstick
  mid-month   `run_collection` on the 20th of month M−1 (every charge up to M−1 billed, ~15% in arrears)
  mid rerun   the same date again: nothing to do
  bill        `services.bill(through=M, since=M)`: the new month for every unit, prepaid credit applied
  bill again  the same again: the idempotent no-op
  month start `run_collection` on the 2nd of M: the cases of the 20th move on, ~80% get pre-due reminders
  start rerun the same date again
  pages       p95 of --requests requests after two warm-ups, with the query count of one request:
              /cases/ as a company-wide manager and as a one-community manager, the workbench of a
              collector with about 50 cases, the unit page of a unit with an open case

The pages are timed as staff meet them the next morning: on PostgreSQL, after the repeats, in a
copy of the database (`CREATE DATABASE … TEMPLATE`, dropped at the end) where the same stretch is
committed and vacuumed, as autovacuum would have left it; inside the repeats' uncommitted
transaction they would measure a state no user ever sees. Elsewhere they are timed inside the
last repeat's transaction.

Between the mid-month day and billing the collection tables are analysed (untimed), as autovacuum
would have done in the twelve days between. Each run is timed with the clock travelled (time_machine) to 06:00 of its date, the pages to
10:00 of the 2nd. Peak memory per step is the process's VmHWM after resetting it
(`echo 5 > /proc/self/clear_refs`; Linux only). The table gives min and median over the repeats,
and the runs' ratio to the scan.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import sys
import time
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from arrears.collection.models import (  # noqa: E402
    Case,
    CaseStatus,
    CaseStep,
    CollectionRun,
    CollectorAssignment,
    OutgoingMessage,
    Task,
)
from arrears.collection.run import run_collection  # noqa: E402
from arrears.core import roles  # noqa: E402
from arrears.estate.models import Building, Community, StaffScope  # noqa: E402
from arrears.ledger import rules, services  # noqa: E402
from arrears.ledger.models import Charge  # noqa: E402
from bench import collection_bench, generate, ledger_bench  # noqa: E402

COLLECTOR_BUILDINGS = 4  # ~15 cases a building of 100 units: a collector with about 50 cases
USERS = {"company": "bench_company_manager", "community": "bench_community_manager", "collector": "bench_collector"}


# ----------------------------------------------------------------------------- measuring


def _clear_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class Results:
    """Seconds, peak MB and a note per step, over the repeats."""

    def __init__(self):
        self.seconds: dict[str, list[float]] = {}
        self.peaks: dict[str, list[float]] = {}
        self.notes: dict[str, str] = {}

    def add(self, step: str, seconds: float, peak: float | None = None, note: str = "") -> None:
        self.seconds.setdefault(step, []).append(seconds)
        if peak is not None:
            self.peaks.setdefault(step, []).append(peak)
        if note:
            self.notes[step] = note
        print(f"  {step:<28} {seconds * 1000 if step.startswith('page') else seconds:10.3f}"
              f" {'ms' if step.startswith('page') else 's '}"
              f"{f'  peak {peak:,.0f} MB' if peak is not None else ''}  {note}", flush=True)

    def median(self, step: str) -> float | None:
        return statistics.median(self.seconds[step]) if step in self.seconds else None

    def table(self) -> str:
        scan = self.median("scan")
        lines = ["| step | min | median | × scan | peak RSS | notes |", "|---|---:|---:|---:|---:|---|"]
        for step, values in self.seconds.items():
            page = step.startswith("page")
            unit, factor = ("ms", 1000) if page else ("s", 1)
            ratio = "" if page or step == "scan" or not scan else f"{statistics.median(values) / scan:.1f}×"
            peak = f"{max(self.peaks[step]):,.0f} MB" if step in self.peaks else ""
            lines.append(f"| {step} | {min(values) * factor:.3f} {unit} | {statistics.median(values) * factor:.3f} {unit}"
                         f" | {ratio} | {peak} | {self.notes.get(step, '')} |")
        return "\n".join(lines)


def timed_step(results: Results, step: str, action, *, profile_dir: Path | None = None, note=None):
    """Run `action` once, timing it, its peak memory and (first repeat, when asked) its profile."""
    profiler = cProfile.Profile() if profile_dir else None
    _clear_peak()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    result = action()
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    peak = _peak_mb()
    if profiler:
        profile_dir.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(profile_dir / f"{step.replace(' ', '_')}.prof")
    results.add(step, seconds, peak, note(result) if note else "")
    return result


def _local(day: date, at: clock) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def _run_note(summary) -> str:
    return (f"{summary.open_cases:,} open cases, {summary.opened:,} opened, {summary.steps:,} steps, "
            f"{summary.tasks:,} tasks, {summary.messages:,} messages")


# ----------------------------------------------------------------------------- the users of the pages


def ensure_users() -> dict[str, object]:
    """A company-wide manager, a one-community manager and a collector of a few buildings (committed, idempotent)."""
    User = get_user_model()
    communities = list(Community.objects.order_by("pk"))
    first = communities[0]
    made = {}
    with transaction.atomic():
        for key, username in USERS.items():
            user, _ = User.objects.get_or_create(username=username, defaults={"is_staff": True, "last_name": key})
            role = roles.COLLECTOR if key == "collector" else roles.MANAGER
            user.groups.add(Group.objects.get(name=role))
            made[key] = user
        have = set(StaffScope.objects.filter(user=made["company"]).values_list("community_id", flat=True))
        StaffScope.objects.bulk_create([StaffScope(user=made["company"], community=c) for c in communities
                                        if c.pk not in have])
        StaffScope.objects.get_or_create(user=made["community"], community=first, building=None)
        for building in Building.objects.filter(community=first).order_by("pk")[:COLLECTOR_BUILDINGS]:
            StaffScope.objects.get_or_create(user=made["collector"], community=first, building=building)
            CollectorAssignment.objects.get_or_create(community=first, building=building, user=made["collector"])
    return made


def count_queries(client, url) -> int:
    """The number of SQL statements one request runs."""
    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(url)
    return len(statements)


def measure_pages(results: Results, users: dict, *, requests: int, community_id: int) -> None:
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    case = Case.objects.filter(status=CaseStatus.OPEN, community_id=community_id).order_by("pk").first()
    collector_cases = Case.objects.filter(status=CaseStatus.OPEN, collector=users["collector"]).count() \
        if hasattr(Case, "collector") else None
    pages = [
        ("page /cases/ company-wide", users["company"], "/cases/"),
        ("page /cases/ one community", users["community"], "/cases/"),
        ("page workbench", users["collector"], "/workbench/"),
    ]
    if case is not None:
        pages.append(("page unit with open case", users["community"], f"/units/{case.unit_id}/"))
    for step, user, url in pages:
        client = Client()
        client.force_login(user)
        for _ in range(2):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        queries = count_queries(client, url)
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url)
            timings.append(time.perf_counter() - started)
        timings.sort()
        p95 = timings[min(len(timings) - 1, max(0, round(0.95 * len(timings)) - 1))]
        note = f"{queries} queries, median {statistics.median(timings) * 1000:.0f} ms"
        if step == "page workbench" and collector_cases is not None:
            note += f", {collector_cases} cases of the collector"
        results.add(step, p95, None, note)


# ----------------------------------------------------------------------------- one repeat


def scan_charges() -> tuple[int, object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(amount) FROM ledger_charge")
        return cursor.fetchone()


def analyze_collection() -> None:
    """Fresh statistics of the tables the run wrote (ANALYZE counts the transaction's own rows); not timed."""
    if connection.vendor != "postgresql":
        return
    tables = [m._meta.db_table for m in (Case, CaseStep, Task, OutgoingMessage, CollectionRun)]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(connection.ops.quote_name(t) for t in tables)}")


def one_repeat(results: Results, *, month: date, users, requests: int, skip_pages: bool,
               profile_dir: Path | None) -> None:
    mid, start = date(rules.add_months(month, -1).year, rules.add_months(month, -1).month, 20), month.replace(day=2)
    community_id = Community.objects.order_by("pk").values_list("pk", flat=True).first()
    with transaction.atomic():
        timed_step(results, "scan", scan_charges, note=lambda row: f"{row[0]:,} charges")
        with time_machine.travel(_local(mid, clock(6)), tick=True):
            timed_step(results, f"mid-month run {mid}", lambda: run_collection(as_of=mid), profile_dir=profile_dir,
                       note=_run_note)
            again = timed_step(results, "mid-month rerun", lambda: run_collection(as_of=mid), profile_dir=profile_dir,
                               note=_run_note)
            assert (again.opened, again.steps, again.tasks, again.messages) == (0, 0, 0, 0), "the rerun did something"
        analyze_collection()  # twelve days pass: autovacuum would have analysed the new cases, steps and tasks
        with time_machine.travel(_local(start.replace(day=1), clock(1)), tick=True):
            timed_step(results, f"bill {month:%Y-%m}", lambda: services.bill(through=month, since=month),
                       profile_dir=profile_dir,
                       note=lambda r: f"{r.charges_created:,} charges, {r.allocations_made:,} credit allocations")
            noop = timed_step(results, "bill again (no-op)", lambda: services.bill(through=month, since=month),
                              profile_dir=profile_dir)
            assert noop.charges_created == 0, "billing is not idempotent"
        with time_machine.travel(_local(start, clock(6)), tick=True):
            timed_step(results, f"month-start run {start}", lambda: run_collection(as_of=start),
                       profile_dir=profile_dir, note=_run_note)
            again = timed_step(results, "month-start rerun", lambda: run_collection(as_of=start),
                               profile_dir=profile_dir, note=_run_note)
            assert (again.opened, again.steps, again.tasks, again.messages) == (0, 0, 0, 0), "the rerun did something"
        if not skip_pages:
            with time_machine.travel(_local(start, clock(10)), tick=True):
                measure_pages(results, users, requests=requests, community_id=community_id)
        transaction.set_rollback(True)


def the_month(month: date) -> None:
    """The repeats' stretch of the month, committed: mid-month run, billing, month-start run (untimed)."""
    mid, start = date(rules.add_months(month, -1).year, rules.add_months(month, -1).month, 20), month.replace(day=2)
    with time_machine.travel(_local(mid, clock(6)), tick=True):
        run_collection(as_of=mid)
    with time_machine.travel(_local(start.replace(day=1), clock(1)), tick=True):
        services.bill(through=month, since=month)
    with time_machine.travel(_local(start, clock(6)), tick=True):
        run_collection(as_of=start)


def _server(dbname: str):
    import psycopg

    params = connection.get_connection_params()
    keep = {key: params[key] for key in ("host", "port", "user", "password") if params.get(key)}
    return psycopg.connect(dbname=dbname, autocommit=True, **keep)


def pages_on_a_committed_copy(results: Results, users: dict, *, month: date, requests: int) -> None:
    """Time the pages in a copy of this database holding the month's stretch committed and vacuumed."""
    source = connection.settings_dict["NAME"]
    copy = f"{source}_pages"
    connection.close()
    with _server("postgres") as server:
        server.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        for attempt in range(30):  # autovacuum may be visiting the source: it must be alone to be copied
            try:
                server.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{source}"')
                break
            except Exception as error:  # noqa: BLE001 - "being accessed by other users"
                if attempt == 29:
                    raise
                print(f"  copy: {error}; again in 2 s", flush=True)
                time.sleep(2)
    connection.settings_dict["NAME"] = copy
    try:
        started = time.monotonic()
        the_month(month)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"pages: the month committed and vacuumed in a copy ({time.monotonic() - started:.0f} s)", flush=True)
        community_id = Community.objects.order_by("pk").values_list("pk", flat=True).first()
        with time_machine.travel(_local(month.replace(day=2), clock(10)), tick=True):
            measure_pages(results, users, requests=requests, community_id=community_id)
    finally:
        connection.close()
        connection.settings_dict["NAME"] = source
        with _server("postgres") as server:
            server.execute(f'DROP DATABASE IF EXISTS "{copy}"')


# ----------------------------------------------------------------------------- main


def unbilled_month() -> date:
    latest = Charge.objects.aggregate(latest=Max("period_start"))["latest"]
    if latest is None:
        raise SystemExit("no history: build one with --build")
    return rules.add_months(rules.month_start(latest), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="build the history first (bench/generate.py)")
    parser.add_argument("--reset", action="store_true", help="with --build: empty the estate, ledger and collection "
                                                             "tables first; without: empty only the collection tables")
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--arrears-within", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page (after two warm-ups)")
    parser.add_argument("--skip-pages", action="store_true", help="no page timings (e.g. at 1,000,000 units)")
    parser.add_argument("--profile", type=Path,
                        help="first an extra, untabulated repeat writing a cProfile file per step here")
    args = parser.parse_args(argv)
    call_command("migrate", verbosity=0)
    if args.build:
        if ledger_bench.has_data():
            if not args.reset:
                print("数据库中已有数据：加 --reset 清空后重建 / the database holds data: pass --reset to rebuild",
                      file=sys.stderr)
                return 2
            collection_bench.reset_collection()
            ledger_bench.reset_data()
        started = time.monotonic()
        history = generate.build(units=args.units, months=args.months, seed=args.seed,
                                 arrears_within=args.arrears_within, progress=lambda text: print(text, flush=True))
        print(f"built {args.units:,} units × {args.months} months in {time.monotonic() - started:.0f} s: "
              f"{history.charges:,} charges, {history.payments:,} payments, {history.allocations:,} allocations",
              flush=True)
    if CollectionRun.objects.exists() or Case.objects.exists():
        if not args.reset:
            print("催收表中已有数据：加 --reset 清空 / the collection tables hold data: pass --reset to empty them",
                  file=sys.stderr)
            return 2
        collection_bench.reset_collection()
    month = unbilled_month()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            size = cursor.fetchone()[0]
    else:
        size = "n/a"
    units = ledger_bench.Unit.objects.count()
    print(f"backend {connection.vendor}, {units:,} units, month {month:%Y-%m} unbilled, database {size}, "
          f"{os.cpu_count()} cores, {args.repeats} repeats, {timezone.now():%Y-%m-%d %H:%M} UTC", flush=True)
    users = None if args.skip_pages else ensure_users()
    if args.profile:
        # cProfile doubles the Python time: a repeat of its own, kept out of the table.
        print(f"profiled repeat (not in the table), profiles in {args.profile}", flush=True)
        one_repeat(Results(), month=month, users=users, requests=args.requests, skip_pages=True,
                   profile_dir=args.profile)
    results = Results()
    # Inside a caller's transaction (the test suite) no copy can be made: the pages are timed in the last repeat.
    committed_pages = connection.vendor == "postgresql" and not connection.in_atomic_block
    for repeat in range(args.repeats):
        print(f"repeat {repeat + 1}/{args.repeats}", flush=True)
        in_transaction = not args.skip_pages and not committed_pages and repeat == args.repeats - 1
        one_repeat(results, month=month, users=users, requests=args.requests, skip_pages=not in_transaction,
                   profile_dir=None)
    if not args.skip_pages and committed_pages:
        pages_on_a_committed_copy(results, users, month=month, requests=args.requests)
    print()
    print(results.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
