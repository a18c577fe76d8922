#!/usr/bin/env python
"""Ledger benchmark: build N units × 36 months of history, then time billing and the statement.

    .venv/bin/python bench/ledger_bench.py --units 10000 [--months 36] [--reset]

The database is the one DATABASE_URL names (default: the SQLite file of the data folder). It is
migrated first; one that already holds data is refused unless --reset, which empties the estate
and ledger tables. History goes in with COPY (PostgreSQL) or executemany (SQLite) and explicit
ids, because building it through the services would take hours and prove nothing about them.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from arrears.core.money import ZERO, round_money  # noqa: E402
from arrears.core.text import natural_key  # noqa: E402
from arrears.estate.models import (  # noqa: E402
    Building,
    Community,
    Company,
    Contact,
    Owner,
    Ownership,
    StaffScope,
    Unit,
    Vehicle,
)
from arrears.ledger import rules, selectors, services  # noqa: E402
from arrears.ledger.models import (  # noqa: E402
    Allocation,
    Charge,
    ChargeOrigin,
    ChargeType,
    Component,
    Payment,
    PaymentReversal,
    Tariff,
    Waiver,
)

UNITS_PER_COMMUNITY = 5000
UNITS_PER_BUILDING = 100
PRICE = Decimal("2.50")
DUE_DAY = 5
# Emptied by --reset, children first (ChargeType stays: a migration seeds it).
DATA_MODELS = [Allocation, Waiver, PaymentReversal, Payment, Charge, Tariff, Vehicle, Contact, Ownership, Owner,
               StaffScope, Unit, Building, Community, Company]


# ----------------------------------------------------------------------------- raw bulk insert


def _sql_value(value):
    """SQLite gets the text Django itself writes; PostgreSQL's COPY takes Python values."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


def insert_rows(model, columns: list[str], rows) -> int:
    """Insert tuples into a model's table, fast: COPY on PostgreSQL, executemany on SQLite."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            marks = ", ".join(["%s"] * len(columns))
            batch = []
            for row in rows:
                batch.append(tuple(_sql_value(v) for v in row))
                if len(batch) == 10000:
                    cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)
                    count, batch = count + len(batch), []
            if batch:
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)
                count += len(batch)
    return count


def _next_id(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


# ----------------------------------------------------------------------------- history


@dataclass
class History:
    units: int
    months: int
    first_month: date
    new_month: date
    charges: int = 0
    payments: int = 0
    allocations: int = 0


def build_history(*, units: int, months: int = 36, today: date | None = None, seed: int = 1,
                  arrears_within: int | None = None) -> History:
    """N units, one owner each, `months` of monthly property-fee charges ending last month.

    Pattern (seeded): 80% pay a year ahead on time, one payment per 12 months; 5% do the same
    and hold a further year of prepaid credit; 15% paid monthly on the due date until a month
    from which they stopped (half of them paid 40% of that month). Allocations carry value
    dates, paid charges their settled_on, every payment its unallocated remainder.
    `arrears_within=K` makes them stop within the last K months: the same open arrears whatever
    the length of history (the same seed draws the same stop, counted back from the end).
    """
    rng = random.Random(seed)
    today = today or timezone.localdate()
    new_month = rules.month_start(today)
    first_month = rules.add_months(new_month, -months)
    history = History(units, months, first_month, new_month)
    now = timezone.now()
    property_fee = ChargeType.objects.get(code="property_fee")
    with transaction.atomic():
        company = Company.objects.create(name="基准测试物业", phone="0755-0000 0000")
        communities, tariffs = [], {}
        for n in range((units + UNITS_PER_COMMUNITY - 1) // UNITS_PER_COMMUNITY):
            community = Community.objects.create(company=company, name=f"基准小区{n + 1:03d}")
            communities.append(community)
            tariffs[community.pk] = services.create_tariff(
                community=community, charge_type=property_fee, basis="per_area", price=PRICE, cycle_months=1,
                due_day=DUE_DAY, late_fee_daily_rate=Decimal("0.0005"), grace_days=15, late_fee_cap=Decimal("0.3"),
                effective_from=first_month,
            )
        layout = []  # (unit_id, owner_id, community_id, area)
        unit_id, owner_id, ownership_id = _next_id(Unit), _next_id(Owner), _next_id(Ownership)
        unit_rows, owner_rows, ownership_rows = [], [], []
        for index in range(units):
            community = communities[index // UNITS_PER_COMMUNITY]
            local = index % UNITS_PER_COMMUNITY
            if local % UNITS_PER_BUILDING == 0:
                building = Building.objects.create(community=community, name=f"{local // UNITS_PER_BUILDING + 1}栋")
            area = Decimal(6000 + rng.randrange(12000)) / 100
            floor, room = divmod(local % UNITS_PER_BUILDING, 4)
            uid, oid = unit_id + index, owner_id + index
            room_name = f"{floor + 1}{room + 1:02d}"
            unit_rows.append((uid, community.pk, building.pk, "1", room_name, area, "occupied",
                              f"{natural_key('1')} {natural_key(room_name)}"))
            owner_rows.append((oid, community.pk, "person", f"业主{index + 1:06d}", "", False))
            ownership_rows.append((ownership_id + index, community.pk, uid, oid, rules.add_months(first_month, -12)))
            layout.append((uid, oid, community.pk, area))
        insert_rows(Unit, ["id", "community", "building", "entrance", "room", "floor_area", "status", "sort_key"],
                    unit_rows)
        insert_rows(Owner, ["id", "community", "kind", "name", "id_number", "do_not_contact"], owner_rows)
        insert_rows(Ownership, ["id", "community", "unit", "owner", "start"], ownership_rows)

        charge_id, payment_id, allocation_id = _next_id(Charge), _next_id(Payment), _next_id(Allocation)
        charge_rows, payment_rows, allocation_rows = [], [], []

        def flush():
            history.charges += insert_rows(Charge, CHARGE_COLUMNS, charge_rows)
            history.payments += insert_rows(Payment, PAYMENT_COLUMNS, payment_rows)
            history.allocations += insert_rows(Allocation, ALLOCATION_COLUMNS, allocation_rows)
            for rows in (charge_rows, payment_rows, allocation_rows):
                rows.clear()

        for index, (uid, oid, cid, area) in enumerate(layout):
            tariff = tariffs[cid]
            amount = round_money(area * PRICE)
            periods = []
            for k in range(months):
                start = rules.add_months(first_month, k)
                periods.append((charge_id, start, rules.add_months(start, 1) - timedelta(days=1), start.replace(day=DUE_DAY)))
                charge_id += 1
            # The first two units are one prepaid and one in arrears, so even N=20 has both.
            draw = {0: 82, 1: 90}.get(index, rng.randrange(100))
            settled = {}
            if draw < 85:
                for block in range(0, months, 12):
                    chunk = periods[block:block + 12]
                    paid_on = chunk[0][1] - timedelta(days=3)
                    total = amount * len(chunk)
                    extra = amount * 12 if draw >= 80 and block + 12 >= months else ZERO
                    payment_rows.append(_payment(payment_id, company.pk, cid, uid, oid, total + extra, extra, paid_on, now))
                    for cid_, start, _end, _due in chunk:
                        allocation_rows.append((allocation_id, cid, payment_id, cid_, Component.PRINCIPAL, amount, start))
                        allocation_id += 1
                        settled[cid_] = start
                    payment_id += 1
            else:
                window = min(arrears_within or months, months)
                stop = months - window + rng.randrange(window)
                for cid_, _start, _end, due in periods[:stop]:
                    payment_rows.append(_payment(payment_id, company.pk, cid, uid, oid, amount, ZERO, due, now))
                    allocation_rows.append((allocation_id, cid, payment_id, cid_, Component.PRINCIPAL, amount, due))
                    settled[cid_] = due
                    payment_id, allocation_id = payment_id + 1, allocation_id + 1
                if rng.randrange(2):
                    cid_, _start, _end, due = periods[stop]
                    part = round_money(amount * Decimal("0.4"))
                    payment_rows.append(_payment(payment_id, company.pk, cid, uid, oid, part, ZERO, due, now))
                    allocation_rows.append((allocation_id, cid, payment_id, cid_, Component.PRINCIPAL, part, due))
                    payment_id, allocation_id = payment_id + 1, allocation_id + 1
            for cid_, start, end, due in periods:
                charge_rows.append((
                    cid_, cid, uid, oid, property_fee.pk, tariff.pk, start, end, amount, due, ChargeOrigin.BILLED,
                    tariff.late_fee_daily_rate, tariff.grace_days, tariff.late_fee_cap, settled.get(cid_), "", now,
                ))
            if len(charge_rows) >= 100_000:
                flush()
        flush()
        _reset_sequences()
    _analyze()
    return history


CHARGE_COLUMNS = ["id", "community", "unit", "owner", "charge_type", "tariff", "period_start", "period_end", "amount",
                  "due_date", "origin", "late_fee_daily_rate", "grace_days", "late_fee_cap", "settled_on", "note",
                  "created_at"]
PAYMENT_COLUMNS = ["id", "company", "community", "unit", "owner", "amount", "unallocated", "paid_on", "method",
                   "reference", "receipt_number", "created_at"]
ALLOCATION_COLUMNS = ["id", "community", "payment", "charge", "component", "amount", "value_date"]


def _payment(pk, company_id, community_id, unit_id, owner_id, amount, unallocated, paid_on, now):
    return (pk, company_id, community_id, unit_id, owner_id, amount, unallocated, paid_on, "bank_transfer", "",
            f"B{pk:09d}", now)


def _reset_sequences() -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the rows."""
    statements = connection.ops.sequence_reset_sql(no_style(), [Unit, Owner, Ownership, Charge, Payment, Allocation])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _analyze() -> None:
    """Fresh statistics, as a live database would have: the planner needs them after a bulk load."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def has_data() -> bool:
    return Company.objects.exists() or Unit.objects.exists() or Charge.objects.exists() or Payment.objects.exists()


def reset_data() -> None:
    """Empty the estate and ledger tables (users, groups and charge types stay)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in DATA_MODELS)
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        else:
            for model in DATA_MODELS:
                model.objects.all()._raw_delete(connection.alias)


# ----------------------------------------------------------------------------- timings


def timed(label: str, units: int, action):
    started = time.monotonic()
    result = action()
    seconds = time.monotonic() - started
    print(f"{label:<44} {seconds:8.2f} s  {units / seconds if seconds else 0:10.0f} units/s", flush=True)
    return result, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reset", action="store_true", help="empty the estate and ledger tables first")
    args = parser.parse_args(argv)
    call_command("migrate", verbosity=0)
    if has_data():
        if not args.reset:
            print("数据库中已有数据：基准测试只在空库上运行，或加 --reset 清空 / the database holds data: "
                  "use an empty database or pass --reset", file=sys.stderr)
            return 2
        reset_data()
    vendor = connection.vendor
    print(f"backend {vendor}, {args.units} units × {args.months} months, {os.cpu_count()} cores", flush=True)
    history, _ = timed("build history", args.units, lambda: build_history(units=args.units, months=args.months, seed=args.seed))
    print(f"  {history.charges} charges, {history.payments} payments, {history.allocations} allocations", flush=True)
    month, as_of = history.new_month, timezone.localdate()
    first, _ = timed("(a) bill one month: bill(through=M, since=M)", args.units, lambda: services.bill(through=month, since=month))
    print(f"  {first.charges_created} charges, {first.allocations_made} credit allocations", flush=True)
    again, _ = timed("(b) the same again (no-op)", args.units, lambda: services.bill(through=month, since=month))
    scan, _ = timed("(c) bill(through=M), full idempotent scan", args.units, lambda: services.bill(through=month))
    assert again.charges_created == 0 and scan.charges_created == 0, "billing is not idempotent"
    statements, _ = timed(f"(d) statement of every unit as of {as_of}", args.units, lambda: selectors.statement(as_of))
    print(f"  {len(statements)} units with arrears or credit", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
