#!/usr/bin/env python
"""Dashboard benchmark: `insights.dashboard.dashboard_data` and the 报表 page on a company of N units.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_dash .venv/bin/python bench/dashboard_bench.py \\
        --build --units 100000 [--repeats 3]
    DATABASE_URL=sqlite:////tmp/bench_dash.sqlite3 .venv/bin/python bench/dashboard_bench.py --build --units 5000

`--build` writes the history (`bench/generate.py`: N units × 36 months, about 15% in arrears, the
current month unbilled) into an empty database (`--reset` empties it first), gives every
`--buildings-per-collector` buildings a collector, runs the daily collection run as of D (the last
day of the last billed month) so the open cases have their buckets and tiers, and stores the
snapshots as the nightly task would (`snapshots.refresh` as of D − 1: month ends and yesterday).
Without `--build` it times what is in the database (built by an earlier `--build`).

Then, each `--repeats` times (min and median, and the query count of one call):

  data D       `dashboard_data` as a company-wide superuser as of D: 23 stored points, today's read live
  data D−1     the same as of D − 1: every point stored (the nightly snapshot's own date)
  community    `dashboard_data` as a manager of one community as of D
  page D−1     GET /dashboard/?as_of=D−1 as the superuser, the day the page opens on: data, template, JSON
  page D       the same as of D
  workbook     GET /dashboard/?as_of=D&format=xlsx
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from arrears.collection.models import Case, CollectorAssignment  # noqa: E402
from arrears.collection.run import run_collection  # noqa: E402
from arrears.core import roles  # noqa: E402
from arrears.estate.models import Building, Community, StaffScope, Unit  # noqa: E402
from arrears.insights import kpis, snapshots  # noqa: E402
from arrears.insights.dashboard import dashboard_data  # noqa: E402
from arrears.ledger.models import Charge  # noqa: E402
from bench import collection_bench, generate, ledger_bench  # noqa: E402

BENCH_USERS = "bench-dash-"


def build(units: int, buildings_per_collector: int) -> None:
    """History, collectors, the daily run as of D and the nightly snapshots as of D − 1."""
    started = time.perf_counter()
    history = generate.build(units=units, months=36, arrears_within=12, progress=lambda text: print(text, flush=True))
    print(f"history: {history.charges:,} charges, {history.payments:,} payments ({time.perf_counter() - started:.0f} s)",
          flush=True)
    as_of = last_billed_day()
    users = get_user_model()
    group = Group.objects.get(name=roles.COLLECTOR)
    buildings = list(Building.objects.order_by("community_id", "sort_key", "pk").values_list("pk", "community_id"))
    people = users.objects.bulk_create([users(username=f"{BENCH_USERS}collector{n:05d}", last_name="催", first_name=f"{n}号")
                                        for n in range((len(buildings) + buildings_per_collector - 1) // buildings_per_collector)])
    group.user_set.add(*people)
    CollectorAssignment.objects.bulk_create([
        CollectorAssignment(community_id=community_id, building_id=pk, user=people[i // buildings_per_collector])
        for i, (pk, community_id) in enumerate(buildings)])
    step = time.perf_counter()
    summary = run_collection(as_of=as_of)
    print(f"daily run as of {as_of}: {summary.open_cases:,} open cases ({time.perf_counter() - step:.0f} s)", flush=True)
    step = time.perf_counter()
    written = snapshots.refresh(as_of=as_of - timedelta(days=1))
    print(f"snapshots as of {as_of - timedelta(days=1)}: {written:,} rows ({time.perf_counter() - step:.0f} s)", flush=True)


def last_billed_day():
    last_due = Charge.objects.order_by("-due_date").values_list("due_date", flat=True).first()
    return kpis.month_end(last_due.year, last_due.month)


def timed(action, repeats: int) -> tuple[list[float], int]:
    times = []
    with CaptureQueriesContext(connection) as captured:
        action()
    queries = len(captured)
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times, queries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--build", action="store_true", help="build the company first (into an empty database)")
    parser.add_argument("--reset", action="store_true", help="with --build: empty the estate, ledger and collection tables")
    parser.add_argument("--buildings-per-collector", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    call_command("migrate", verbosity=0)
    if args.build:
        if ledger_bench.has_data() or Case.objects.exists():
            if not args.reset:
                print("数据库中已有数据：只在空库上生成，或加 --reset 清空 / the database holds data: "
                      "use an empty database or pass --reset", file=sys.stderr)
                return 2
            collection_bench.reset_collection()
            CollectorAssignment.objects.all().delete()
            ledger_bench.reset_data()
            get_user_model().objects.filter(username__startswith=BENCH_USERS).delete()
        build(args.units, args.buildings_per_collector)
    if not Charge.objects.exists():
        print("没有账务数据：加 --build / no ledger: pass --build", file=sys.stderr)
        return 2
    as_of = last_billed_day()
    users = get_user_model()
    root, _ = users.objects.get_or_create(username=f"{BENCH_USERS}root", defaults={"is_superuser": True, "is_staff": True})
    community = Community.objects.order_by("pk").first()
    manager, made = users.objects.get_or_create(username=f"{BENCH_USERS}manager")
    if made:
        manager.groups.add(Group.objects.get(name=roles.MANAGER))
        StaffScope.objects.create(user=manager, community=community)
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(root)
    print(f"backend {connection.vendor}, {Unit.objects.count():,} units, {Building.objects.count():,} buildings, "
          f"{Community.objects.count()} communities, {CollectorAssignment.objects.values('user').distinct().count():,} "
          f"collectors, {Case.objects.filter(status='open').count():,} open cases; D = {as_of}; {os.cpu_count()} cores",
          flush=True)

    def page(day=as_of, **extra):
        response = client.get("/dashboard/", {"as_of": day.isoformat(), **extra})
        assert response.status_code == 200, response.status_code

    steps = [
        ("data D (today live)", lambda: dashboard_data(root, as_of=as_of)),
        ("data D−1 (all stored)", lambda: dashboard_data(root, as_of=as_of - timedelta(days=1))),
        ("one community, D", lambda: dashboard_data(manager, as_of=as_of, community=community.pk)),
        ("page D−1 (as it opens)", lambda: page(as_of - timedelta(days=1))),
        ("page D", page),
        ("workbook D", lambda: page(format="xlsx")),
    ]
    print(f"{'step':<26} {'min':>8} {'median':>8} {'queries':>8}", flush=True)
    for label, action in steps:
        times, queries = timed(action, args.repeats)
        print(f"{label:<26} {min(times):7.3f}s {statistics.median(times):7.3f}s {queries:8d}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
