"""The arrears list's rates per building, written once a day by the daily run.

The list shows three rates over the user's scope (selectors.ArrearsRates). Read live they walk a
year of charges with their allocations on every view; here they are summed per building as of the
run's date, in four grouped queries, and the page adds up the rows of the buildings in scope. A
rerun that finds the ledger and the owners unchanged (the same fingerprint) writes nothing.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date

from django.db import connection, transaction
from django.db.models import Case as SqlCase
from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from arrears.collection.models import ArrearsSummary
from arrears.core.money import ZERO, MoneyField
from arrears.estate.models import Building, Community, Ownership
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger.models import Allocation, Charge, Component, Waiver, WaiverStatus

SUM_FIELD = MoneyField(max_digits=20)
FIGURES = ("overdue_principal", "earlier_overdue", "this_year_due", "month_due", "month_paid", "units_owing",
           "units_owned")


def _money(expression):
    return Coalesce(Sum(expression, output_field=SUM_FIELD), Value(ZERO), output_field=SUM_FIELD)


def _when(condition: Q, then) -> SqlCase:
    return SqlCase(When(condition, then=then), default=Value(ZERO), output_field=SUM_FIELD)


def figures_by_building(as_of: date, *, community_ids) -> dict[int, dict]:
    """The rates' figures of each building of the communities as of `as_of`, in four grouped queries.

    The same definitions as the live read (selectors.live_arrears_rates): overdue principal is the
    ledger's one definition of arrears (ledger_selectors.overdue_principal_charges), split at the
    first of the year; the base adds the amounts due this year up to `as_of`; the month's
    collection is what was paid by `as_of` of the charges due this month.
    """
    ids = list(community_ids)
    year_start, month_start = date(as_of.year, 1, 1), as_of.replace(day=1)
    month_end = as_of.replace(day=calendar.monthrange(as_of.year, as_of.month)[1])
    figures: dict[int, dict] = defaultdict(lambda: {name: 0 if name.startswith("units") else ZERO for name in FIGURES})
    owing: set[int] = set()
    owing_building: dict[int, int] = {}
    # The two halves of "open on D" (settled_on unset, or set after D) read apart: the first through
    # the open-charge partial index, rather than one OR that makes the planner scan every charge.
    for half in (Q(settled_on__isnull=True), Q(settled_on__gt=as_of)):
        overdue = (
            ledger_selectors.overdue_principal_charges(as_of, community_ids=ids).filter(half).order_by()
            .values("unit_id", "unit__building_id")
            .annotate(overdue=_money("left"), earlier=_money(_when(Q(due_date__lt=year_start), F("left"))))
        )
        for row in overdue:  # per unit: a unit owing in both halves is counted once
            entry = figures[row["unit__building_id"]]
            entry["overdue_principal"] += row["overdue"]
            entry["earlier_overdue"] += row["earlier"]
            owing.add(row["unit_id"])
            owing_building[row["unit_id"]] = row["unit__building_id"]
    for unit_id in owing:
        figures[owing_building[unit_id]]["units_owing"] += 1
    # One pass over this year's charges; the month's payments are summed only for the month's charges.
    paid = (Allocation.objects.filter(charge_id=OuterRef("pk"), component=Component.PRINCIPAL, value_date__lte=as_of)
            .order_by().values("charge_id").annotate(total=Sum("amount", output_field=SUM_FIELD)).values("total")[:1])
    billed = (
        Charge.objects.filter(community_id__in=ids, due_date__gte=year_start, due_date__lte=month_end).order_by()
        .values("unit__building_id")
        .annotate(this_year=_money(_when(Q(due_date__lte=as_of), F("amount"))),
                  month=_money(_when(Q(due_date__gte=month_start), F("amount"))),
                  paid=_money(_when(Q(due_date__gte=month_start), Subquery(paid, output_field=SUM_FIELD)))))
    for row in billed:
        entry = figures[row["unit__building_id"]]
        entry["this_year_due"], entry["month_due"], entry["month_paid"] = row["this_year"], row["month"], row["paid"]
    owned = (
        Ownership.objects.filter(community_id__in=ids, start__lte=as_of).filter(Q(end__isnull=True) | Q(end__gte=as_of))
        .order_by().values("unit__building_id").annotate(units=Count("unit_id", distinct=True))
    )
    for row in owned:
        figures[row["unit__building_id"]]["units_owned"] = row["units"]
    return figures


def _marks() -> tuple[int, int, str]:
    """The highest allocation id, the `waiver_mark`, and a fingerprint of everything the figures read.

    Charges and allocations are append-only, so their highest ids say whether any was written;
    a waiver's approval and an ownership's end are updates, so their counts are in it too."""
    tables = {model: connection.ops.quote_name(model._meta.db_table) for model in (Allocation, Charge, Waiver, Ownership)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {tables[Allocation]}), (SELECT MAX(id) FROM {tables[Charge]}),"
            f" (SELECT MAX(id) FROM {tables[Waiver]}),"
            f" (SELECT COUNT(*) FROM {tables[Waiver]} WHERE status = %s),"
            f" (SELECT MAX(id) FROM {tables[Ownership]}),"
            f" (SELECT COUNT(*) FROM {tables[Ownership]} WHERE {connection.ops.quote_name('end')} IS NOT NULL)",
            [WaiverStatus.APPROVED],
        )
        allocation, charge, waiver, approved, ownership, ended = (value or 0 for value in cursor.fetchone())
    return allocation, waiver_mark(), f"{allocation}:{charge}:{waiver}:{approved}:{ownership}:{ended}"


def waiver_mark() -> int:
    """A waiver above the mark may have been approved since it was read.

    A waiver approved later was either written later (a higher id) or already waiting for its
    decision, and its decision may be dated back before the run: so the mark stays below the
    oldest waiver still waiting, not at the highest id."""
    waiting = Waiver.objects.filter(status=WaiverStatus.REQUESTED).aggregate(low=Min("pk"))["low"]
    highest = Waiver.objects.aggregate(top=Max("pk"))["top"] or 0
    return highest if waiting is None else min(highest, waiting - 1)


def refresh_arrears_summary(*, as_of: date, community_ids=None, start_marks: tuple[int, int] | None = None,
                            force: bool = False) -> int:
    """Write the rates' figures of every building of the communities as of `as_of`; return the rows written.

    Nothing is written when every community already holds figures of this date with the same
    fingerprint (a same-date rerun with nothing changed). `start_marks` are the highest allocation id
    and the `waiver_mark` read when the run began, before it read the ledger: what moved after them is what the arrears
    list re-checks (a payment committed while the run went on is above them). The daily run
    passes `force`: it redoes only communities whose data moved (collection/marks.py), and the
    fingerprint does not see every move (an ownership's dates corrected in place)."""
    communities = Community.objects.order_by("pk")
    if community_ids is not None:
        communities = communities.filter(pk__in=list(community_ids))
    ids = list(communities.values_list("pk", flat=True))
    allocation_mark, waiver_mark, fingerprint = _marks()
    if start_marks is not None:
        allocation_mark, waiver_mark = min(allocation_mark, start_marks[0]), min(waiver_mark, start_marks[1])
    fingerprint = f"{as_of.isoformat()}:{fingerprint}"
    current = set(ArrearsSummary.objects.filter(community_id__in=ids, fingerprint=fingerprint)
                  .values_list("community_id", flat=True).distinct())
    buildings = list(Building.objects.filter(community_id__in=ids).values_list("pk", "community_id"))
    if not force and current >= {community_id for _, community_id in buildings}:
        return 0
    figures = figures_by_building(as_of, community_ids=ids)
    now = timezone.now()
    rows = [
        ArrearsSummary(community_id=community_id, building_id=building_id, as_of=as_of, computed_at=now,
                       allocation_mark=allocation_mark, waiver_mark=waiver_mark, fingerprint=fingerprint,
                       **figures[building_id])
        for building_id, community_id in buildings
    ]
    with transaction.atomic():
        # Not evidence: the rows are a cache of the ledger, replaced whole per community.
        ArrearsSummary.objects.filter(community_id__in=ids).delete()
        ArrearsSummary.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def summary_marks(community_ids) -> dict[int, tuple[date, int, int]]:
    """Per community with figures: (as of, allocation mark, waiver mark) — one small grouped query."""
    rows = (ArrearsSummary.objects.filter(community_id__in=community_ids).order_by().values("community_id")
            .annotate(as_of=Max("as_of"), allocation=Max("allocation_mark"), waiver=Max("waiver_mark")))
    return {row["community_id"]: (row["as_of"], row["allocation"], row["waiver"]) for row in rows}
