#!/usr/bin/env python
"""Fast history generator: the shape of `ledger_bench.build_history`, built by PostgreSQL itself.

`build_history` draws every unit in Python and COPYs the rows: about 480 s at 100,000 units, far
too slow for a million. Here each table is one `INSERT … SELECT` over `generate_series`, run by
the server in chunks of units; every draw is a hash of the unit's index and the seed
(`hashint8extended`), so the same arguments build the same database. Indexes that back no
constraint are dropped before the load and built after it, foreign-key triggers are off during
the load (`session_replication_role = replica`: the ids are computed, and tests/test_bench.py
proves the references at small scale), and the tables are vacuumed and analysed at the end.

The pattern is `build_history`'s (same proportions, not the same draws): 80% pay a year ahead,
one payment per 12 months, three days before the block, allocations value-dated on each period
start; 5% do the same and hold a further year of prepaid credit; 15% paid monthly on the due
date until a month from which they stopped (half of them paid 40% of that month), within the
last `arrears_within` months when given. The current month is not billed.

Ids are arithmetic, so no lookup is needed to link rows: unit i's k-th charge is
`charge_base + i·months + k`, its allocation (at most one per charge) `allocation_base + i·months + k`,
its payments `payment_base + i·(months + 1) + j` (payment ids have gaps).

SQLite has no `generate_series` worth the name here: `build` falls back to `build_history` there.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_1m .venv/bin/python bench/generate.py --units 1000000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from arrears.core.text import natural_key  # noqa: E402
from arrears.estate.models import Building, Community, Company, Owner, Ownership, Unit  # noqa: E402
from arrears.ledger import rules, services  # noqa: E402
from arrears.ledger.models import Allocation, Charge, ChargeType, Payment  # noqa: E402
from bench import ledger_bench  # noqa: E402

UNITS_PER_COMMUNITY = ledger_bench.UNITS_PER_COMMUNITY
UNITS_PER_BUILDING = ledger_bench.UNITS_PER_BUILDING
CHUNK_UNITS = 50_000  # one INSERT per table per chunk: progress to print, bounded statements
BIG_TABLES = [Charge, Payment, Allocation, Unit, Owner, Ownership]


def build(*, units: int, months: int = 36, today: date | None = None, seed: int = 1, arrears_within: int | None = None,
          progress: Callable[[str], None] | None = None) -> ledger_bench.History:
    """Build the history into an empty database; PostgreSQL set-based, SQLite through `build_history`."""
    if connection.vendor != "postgresql":
        return ledger_bench.build_history(units=units, months=months, today=today, seed=seed,
                                          arrears_within=arrears_within)
    say = progress or (lambda _text: None)
    today = today or timezone.localdate()
    new_month = rules.month_start(today)
    first_month = rules.add_months(new_month, -months)
    history = ledger_bench.History(units, months, first_month, new_month)
    started = time.monotonic()
    with transaction.atomic():
        communities = _estate(units, first_month)
        dropped = _drop_indexes()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("SET LOCAL synchronous_commit = off")
            _unit_table(cursor, units, months, first_month, seed, arrears_within, communities)
            for low in range(0, units, CHUNK_UNITS):
                high = min(units, low + CHUNK_UNITS)
                _load_chunk(cursor, low, high, months, first_month)
                say(f"  units {high:,}/{units:,} loaded ({time.monotonic() - started:.0f} s)")
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            for name, sql in dropped:
                index_started = time.monotonic()
                cursor.execute(sql)
                say(f"  index {name} ({time.monotonic() - index_started:.0f} s)")
            cursor.execute("DROP TABLE bench_units, bench_periods")
            # SET LOCAL lasts to the end of the outermost transaction: a caller's (a test's) must not inherit it.
            cursor.execute("SET LOCAL session_replication_role = origin")
        ledger_bench._reset_sequences()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM ledger_charge")
            history.charges = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM ledger_payment")
            history.payments = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM ledger_allocation")
            history.allocations = cursor.fetchone()[0]
    _vacuum(say)
    return history


# ----------------------------------------------------------------------------- estate


def _estate(units: int, first_month: date) -> list[tuple[int, int, int]]:
    """Company, communities, tariffs and buildings through the ORM (few rows); (community, tariff, first building)."""
    property_fee = ChargeType.objects.get(code="property_fee")
    company = Company.objects.create(name="基准测试物业", phone="0755-0000 0000")
    made = []
    for n in range((units + UNITS_PER_COMMUNITY - 1) // UNITS_PER_COMMUNITY):
        community = Community.objects.create(company=company, name=f"基准小区{n + 1:03d}")
        tariff = services.create_tariff(
            community=community, charge_type=property_fee, basis="per_area", price=ledger_bench.PRICE, cycle_months=1,
            due_day=ledger_bench.DUE_DAY, late_fee_daily_rate=ledger_bench.Decimal("0.0005"), grace_days=15,
            late_fee_cap=ledger_bench.Decimal("0.3"), effective_from=first_month,
        )
        in_community = min(UNITS_PER_COMMUNITY, units - n * UNITS_PER_COMMUNITY)
        names = [f"{b + 1}栋" for b in range((in_community + UNITS_PER_BUILDING - 1) // UNITS_PER_BUILDING)]
        buildings = Building.objects.bulk_create(
            [Building(community=community, name=name, sort_key=natural_key(name)) for name in names])
        made.append((community.pk, tariff.pk, buildings[0].pk, company.pk))
    return made


def _drop_indexes() -> list[tuple[str, str]]:
    """Drop the indexes of the big tables that back no constraint; return (name, CREATE statement) to rebuild."""
    tables = [m._meta.db_table for m in BIG_TABLES]
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               JOIN pg_class c ON c.relname = i.indexname AND c.relkind = 'i'
               WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)
               ORDER BY i.tablename, i.indexname""", [tables])
        dropped = cursor.fetchall()
        for name, _sql in dropped:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return dropped


# ----------------------------------------------------------------------------- the load

# A draw in [0, n): a hash of the unit index and a salt, never negative.
_DRAW = "((hashint8extended(u.i::bigint, %(seed)s * 16 + {salt}) & 9223372036854775807) %% {n})"


def _unit_table(cursor, units, months, first_month, seed, arrears_within, communities) -> None:
    """One row per unit with its ids and draws: what every later INSERT reads."""
    window = min(arrears_within or months, months)
    rooms = [f"{floor + 1}{room + 1:02d}" for floor in range(UNITS_PER_BUILDING // 4) for room in range(4)]
    sort_keys = [f"{natural_key('1')} {natural_key(room)}" for room in rooms]
    ids = {
        "unit": ledger_bench._next_id(Unit), "owner": ledger_bench._next_id(Owner),
        "ownership": ledger_bench._next_id(Ownership), "charge": ledger_bench._next_id(Charge),
        "payment": ledger_bench._next_id(Payment), "allocation": ledger_bench._next_id(Allocation),
    }
    cursor.execute("""
        CREATE TEMP TABLE bench_communities (n int PRIMARY KEY, community_id bigint, tariff_id bigint,
                                             building_base bigint, company_id bigint)""")
    cursor.executemany("INSERT INTO bench_communities VALUES (%s, %s, %s, %s, %s)",
                       [(n, *row) for n, row in enumerate(communities)])
    cursor.execute("CREATE TEMP TABLE bench_rooms (local int PRIMARY KEY, room text, sort_key text)")
    cursor.executemany("INSERT INTO bench_rooms VALUES (%s, %s, %s)",
                       [(n, room, key) for n, (room, key) in enumerate(zip(rooms, sort_keys, strict=True))])
    draw, area, stop, partial = (_DRAW.format(salt=1, n=100), _DRAW.format(salt=2, n=12000),
                                 _DRAW.format(salt=3, n=window), _DRAW.format(salt=4, n=2))
    cursor.execute(f"""
        CREATE TEMP TABLE bench_units AS
        SELECT u.i, %(unit)s + u.i AS unit_id, %(owner)s + u.i AS owner_id, %(ownership)s + u.i AS ownership_id,
               c.community_id, c.tariff_id, c.company_id,
               c.building_base + (u.i %% {UNITS_PER_COMMUNITY}) / {UNITS_PER_BUILDING} AS building_id,
               r.room, r.sort_key,
               a.area, round(a.area * {ledger_bench.PRICE}, 2) AS amount,
               CASE u.i WHEN 0 THEN 82 WHEN 1 THEN 90 ELSE {draw} END AS draw,
               {months - window} + {stop} AS stop,
               {partial} = 1 AS partial
        FROM generate_series(0, %(units)s - 1) AS u(i)
        JOIN bench_communities c ON c.n = u.i / {UNITS_PER_COMMUNITY}
        JOIN bench_rooms r ON r.local = u.i %% {UNITS_PER_BUILDING}
        CROSS JOIN LATERAL (SELECT ((6000 + {area}) / 100.0)::numeric(10, 2) AS area) a
        """, {**ids, "units": units, "seed": seed})
    cursor.execute("CREATE INDEX ON bench_units (i)")
    cursor.execute("CREATE TEMP TABLE bench_periods (k int PRIMARY KEY, start date, end_ date, due date)")
    starts = [rules.add_months(first_month, k) for k in range(months + 1)]
    cursor.executemany("INSERT INTO bench_periods VALUES (%s, %s, %s, %s)", [
        (k, starts[k], starts[k + 1] - timedelta(days=1), starts[k].replace(day=ledger_bench.DUE_DAY)) for k in range(months)])
    cursor.execute("ANALYZE bench_periods")
    cursor.execute("DROP TABLE bench_communities, bench_rooms")
    cursor.execute("ANALYZE bench_units")
    _load_chunk.ids = ids  # the bases the chunks compute ids from


def _load_chunk(cursor, low: int, high: int, months: int, first_month: date) -> None:
    ids = _load_chunk.ids
    now = timezone.now()
    params = {"low": low, "high": high, "months": months, "first": first_month, "now": now,
              "charge": ids["charge"], "payment": ids["payment"], "allocation": ids["allocation"],
              "ownership_start": rules.add_months(first_month, -12), "due": ledger_bench.DUE_DAY - 1}
    chunk = "FROM bench_units u WHERE u.i >= %(low)s AND u.i < %(high)s"
    cursor.execute(f"""
        INSERT INTO estate_unit (id, community_id, building_id, entrance, room, floor_area, status, sort_key)
        SELECT u.unit_id, u.community_id, u.building_id, '1', u.room, u.area, 'occupied', u.sort_key {chunk}""", params)
    cursor.execute(f"""
        INSERT INTO estate_owner (id, community_id, kind, name, id_number, do_not_contact)
        SELECT u.owner_id, u.community_id, 'person', '业主' || lpad((u.i + 1)::text, 6, '0'), '', false {chunk}""",
                   params)
    cursor.execute(f"""
        INSERT INTO estate_ownership (id, community_id, unit_id, owner_id, start)
        SELECT u.ownership_id, u.community_id, u.unit_id, u.owner_id, %(ownership_start)s {chunk}""", params)
    # Periods of the chunk: k, start, end, due; prepaid units settle on the period start, the
    # others on the due date of each month they paid.
    periods = "bench_periods p"
    cursor.execute(f"""
        INSERT INTO ledger_charge (id, community_id, unit_id, owner_id, charge_type_id, tariff_id, period_start,
                                   period_end, amount, due_date, origin, late_fee_daily_rate, grace_days, late_fee_cap,
                                   settled_on, note, created_at, on_hold)
        SELECT %(charge)s + u.i * %(months)s + p.k, u.community_id, u.unit_id, u.owner_id, t.charge_type_id, t.id,
               p.start, p.end_, u.amount, p.due, 'billed', t.late_fee_daily_rate, t.grace_days, t.late_fee_cap,
               CASE WHEN u.draw < 85 THEN p.start WHEN p.k < u.stop THEN p.due END, '', %(now)s, false
        FROM bench_units u JOIN ledger_tariff t ON t.id = u.tariff_id CROSS JOIN {periods}
        WHERE u.i >= %(low)s AND u.i < %(high)s""", params)
    # Payments: a prepaid unit's one per block of 12 months (the last block with a year's extra
    # credit for 80 ≤ draw < 85); an owner in arrears' one per month paid, plus the part payment.
    cursor.execute("""
        INSERT INTO ledger_payment (id, company_id, community_id, unit_id, owner_id, amount, unallocated, paid_on,
                                    method, reference, receipt_number, created_at, designation, repeats_reference)
        SELECT x.id, u.company_id, u.community_id, u.unit_id, u.owner_id, x.amount + x.extra, x.extra, x.paid_on,
               'bank_transfer', '', 'B' || lpad(x.id::text, greatest(9, length(x.id::text)), '0'), %(now)s, '[]', false
        FROM bench_units u
        CROSS JOIN LATERAL (
            SELECT %(payment)s + u.i * (%(months)s + 1) + b.b AS id,
                   u.amount * (least(%(months)s, 12 * b.b + 12) - 12 * b.b) AS amount,
                   CASE WHEN u.draw >= 80 AND 12 * b.b + 12 >= %(months)s THEN u.amount * 12 ELSE 0 END AS extra,
                   (%(first)s::date + make_interval(months => (12 * b.b)::int))::date - 3 AS paid_on
            FROM generate_series(0, (%(months)s + 11) / 12 - 1) AS b(b) WHERE u.draw < 85
            UNION ALL
            SELECT %(payment)s + u.i * (%(months)s + 1) + k.k,
                   CASE WHEN k.k < u.stop THEN u.amount ELSE round(u.amount * 0.4, 2) END, 0,
                   (%(first)s::date + make_interval(months => k.k::int))::date + %(due)s
            FROM generate_series(0, u.stop) AS k(k)
            WHERE u.draw >= 85 AND (k.k < u.stop OR u.partial)
        ) x
        WHERE u.i >= %(low)s AND u.i < %(high)s""", params)
    cursor.execute(f"""
        INSERT INTO ledger_allocation (id, community_id, payment_id, charge_id, component, amount, value_date)
        SELECT %(allocation)s + u.i * %(months)s + p.k, u.community_id,
               %(payment)s + u.i * (%(months)s + 1) + CASE WHEN u.draw < 85 THEN p.k / 12 ELSE p.k END,
               %(charge)s + u.i * %(months)s + p.k, 'principal',
               CASE WHEN u.draw < 85 OR p.k < u.stop THEN u.amount ELSE round(u.amount * 0.4, 2) END,
               CASE WHEN u.draw < 85 THEN p.start ELSE p.due END
        FROM bench_units u CROSS JOIN {periods}
        WHERE u.i >= %(low)s AND u.i < %(high)s
          AND (u.draw < 85 OR p.k < u.stop OR (p.k = u.stop AND u.partial))""", params)


def _vacuum(say) -> None:
    """Statistics and the visibility map, as a live database would have them (VACUUM cannot run in a transaction)."""
    started = time.monotonic()
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            cursor.execute("ANALYZE")
        else:
            for model in BIG_TABLES:
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
            cursor.execute("ANALYZE")
    say(f"  vacuum and analyse ({time.monotonic() - started:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build N units × M months of history into an empty database.")
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--arrears-within", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reset", action="store_true", help="empty the estate and ledger tables first")
    args = parser.parse_args(argv)
    call_command("migrate", verbosity=0)
    if ledger_bench.has_data():
        if not args.reset:
            print("数据库中已有数据：只在空库上生成，或加 --reset 清空 / the database holds data: "
                  "use an empty database or pass --reset", file=sys.stderr)
            return 2
        ledger_bench.reset_data()
    started = time.monotonic()
    print(f"backend {connection.vendor}, {args.units:,} units × {args.months} months, arrears within the last "
          f"{args.arrears_within} months, seed {args.seed}", flush=True)
    history = build(units=args.units, months=args.months, seed=args.seed, arrears_within=args.arrears_within,
                    progress=lambda text: print(text, flush=True))
    print(f"built in {time.monotonic() - started:.0f} s: {history.charges:,} charges, {history.payments:,} payments, "
          f"{history.allocations:,} allocations; month {history.new_month} unbilled", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            print(f"database size {cursor.fetchone()[0]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
