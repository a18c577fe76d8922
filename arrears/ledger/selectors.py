"""Reads of the ledger as of any date: set-based, so cost follows open charges, not history."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import (
    DateField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least

from arrears.core.db import DaysBetween
from arrears.core.money import ZERO, MoneyField
from arrears.estate.models import Ownership, Unit
from arrears.ledger import rules
from arrears.ledger.models import (
    Allocation,
    Charge,
    Component,
    Payment,
    Waiver,
    WaiverStatus,
)

SUM_FIELD = MoneyField(max_digits=20)
HALF_FEN = Decimal("0.005")


@dataclass
class ChargeLine:
    charge_id: int
    unit_id: int
    owner_id: int
    charge_type: str
    period_start: date
    period_end: date
    due: date
    amount: Decimal
    paid: Decimal
    waived: Decimal
    outstanding: Decimal
    late_fee: Decimal
    late_fee_accrued: Decimal
    days_overdue: int


@dataclass
class UnitStatement:
    unit_id: int
    community: str
    building: str
    entrance: str
    room: str
    owner: str
    principal: Decimal = ZERO
    late_fee: Decimal = ZERO
    prepaid: Decimal = ZERO
    oldest_due: date | None = None
    days_overdue: int | None = None
    charges: list[ChargeLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.principal + self.late_fee


def _sum_subquery(queryset, expression):
    return Coalesce(
        Subquery(
            queryset.order_by().values("charge_id").annotate(total=Sum(expression, output_field=SUM_FIELD)).values("total")[:1],
            output_field=SUM_FIELD,
        ),
        Value(ZERO),
        output_field=SUM_FIELD,
    )


def annotate_as_of(charges, as_of: date):
    """Annotate paid, waived and the late fee's weighted sums of each charge as of `as_of`.

    The weight of a principal reduction dated t is days(max(t, s), D) = min(D − t, D − s), floored
    at 0, s = due + grace: the closed form of the issue, summed in SQL with no loop over days.
    """
    when = Value(as_of, output_field=DateField())
    start_days = ExpressionWrapper(DaysBetween(when, OuterRef("due_date")) - OuterRef("grace_days"), output_field=IntegerField())

    def weight(date_field):
        return Greatest(Value(0), Least(DaysBetween(when, F(date_field)), start_days), output_field=IntegerField())

    allocations = Allocation.objects.filter(charge_id=OuterRef("pk"), value_date__lte=as_of)
    waivers = Waiver.objects.filter(charge_id=OuterRef("pk"), status=WaiverStatus.APPROVED, decided_on__lte=as_of)
    principal_allocs = allocations.filter(component=Component.PRINCIPAL)
    principal_waivers = waivers.filter(component=Component.PRINCIPAL)
    return charges.annotate(
        paid=_sum_subquery(principal_allocs, F("amount")),
        waived=_sum_subquery(principal_waivers, F("amount")),
        late_fee_paid=_sum_subquery(allocations.filter(component=Component.LATE_FEE), F("amount")),
        late_fee_waived=_sum_subquery(waivers.filter(component=Component.LATE_FEE), F("amount")),
        weighted_paid=_sum_subquery(principal_allocs, ExpressionWrapper(F("amount") * weight("value_date"), output_field=SUM_FIELD)),
        weighted_waived=_sum_subquery(principal_waivers, ExpressionWrapper(F("amount") * weight("decided_on"), output_field=SUM_FIELD)),
        days_from_due=DaysBetween(when, F("due_date")),
    )


def overdue_principal_charges(as_of: date, *, units=None, community_ids=None, unit_ids=None):
    """Charges with principal overdue on `as_of`, annotated `paid`, `waived` and `left`.

    The one definition of arrears every page, report, count and desk answer reads (issue 14):
    a charge is overdue on D when its due date is before D (grace only delays the late fee,
    DESIGN.md §3), and its principal left on D is the amount less principal allocations valued
    by D (a reversal's negative rows included) and principal waivers approved by D. A charge not
    yet due is never arrears; a late fee alone is not arrears either. Cases are the workflow's
    snapshot of this read, refreshed by the daily run; they are never counted as arrears.
    """
    charges = Charge.objects.filter(due_date__lt=as_of).filter(Q(settled_on__isnull=True) | Q(settled_on__gt=as_of))
    if units is not None:
        charges = charges.filter(unit__in=units)
    if community_ids is not None:
        charges = charges.filter(community_id__in=list(community_ids))
    if unit_ids is not None:
        charges = charges.filter(unit_id__in=list(unit_ids))
    paid = Allocation.objects.filter(charge_id=OuterRef("pk"), component=Component.PRINCIPAL, value_date__lte=as_of)
    waived = Waiver.objects.filter(charge_id=OuterRef("pk"), component=Component.PRINCIPAL,
                                   status=WaiverStatus.APPROVED, decided_on__lte=as_of)
    return (
        charges.annotate(paid=_sum_subquery(paid, F("amount")), waived=_sum_subquery(waived, F("amount")))
        .annotate(left=ExpressionWrapper(F("amount") - F("paid") - F("waived"), output_field=SUM_FIELD))
        # Half a fen, not zero: SQLite sums decimals as floats, so a charge paid in full in three
        # parts can leave 0.00000000003 behind (the old rate counted 25 demo units so).
        .filter(left__gt=HALF_FEN)
    )


def arrears_by_owner_unit(as_of: date, *, units=None, community_ids=None, unit_ids=None) -> dict[tuple[int, int], Decimal]:
    """Overdue principal per (unit, owner) in arrears on `as_of`: one grouped query."""
    rows = (
        overdue_principal_charges(as_of, units=units, community_ids=community_ids, unit_ids=unit_ids)
        .order_by().values_list("unit_id", "owner_id").annotate(total=Sum("left", output_field=SUM_FIELD))
    )
    return {(unit_id, owner_id): total for unit_id, owner_id, total in rows}


def units_in_arrears(as_of: date, *, units=None, community_ids=None, unit_ids=None):
    """Ids of the units (households) with an owner in arrears on `as_of`, as a subquery-ready queryset.

    Count it with `.count()`; filter other querysets with `unit_id__in=units_in_arrears(...)`.
    """
    return (
        overdue_principal_charges(as_of, units=units, community_ids=community_ids, unit_ids=unit_ids)
        .order_by().values("unit_id").distinct()
    )


def charge_lines(as_of: date, *, community_ids=None, unit_ids=None, include_settled=False,
                 due_before: date | None = None) -> list[ChargeLine]:
    """Charges due before `as_of` (or `due_before`) with anything outstanding on `as_of`, oldest due first.

    The owner's statement passes a later `due_before` to show charges billed but not yet due.
    """
    charges = Charge.objects.filter(due_date__lt=due_before or as_of)
    if not include_settled:
        # settled_on is only a pruning hint: a charge settled by D stays settled for every later D.
        charges = charges.filter(Q(settled_on__isnull=True) | Q(settled_on__gt=as_of))
    if community_ids is not None:
        charges = charges.filter(community_id__in=list(community_ids))
    if unit_ids is not None:
        charges = charges.filter(unit_id__in=list(unit_ids))
    rows = annotate_as_of(charges, as_of).values_list(
        "pk", "unit_id", "owner_id", "charge_type__name", "period_start", "period_end", "due_date", "amount",
        "late_fee_daily_rate", "grace_days", "late_fee_cap", "paid", "waived", "late_fee_paid", "late_fee_waived",
        "weighted_paid", "weighted_waived", "days_from_due",
    ).order_by("unit_id", "due_date", "pk")
    lines = []
    for (pk, unit_id, owner_id, type_name, p_start, p_end, due, amount, rate, grace, cap, paid, waived,
         lf_paid, lf_waived, w_paid, w_waived, days_from_due) in rows:
        terms = rules.LateFeeTerms(rate, grace, cap)
        accrued = rules.late_fee_from_sums(
            amount=amount, terms=terms, days_from_start=days_from_due - grace, weighted_reductions=w_paid + w_waived,
        )
        outstanding = amount - paid - waived
        late_fee = accrued - lf_paid - lf_waived
        if outstanding == ZERO and late_fee == ZERO and not include_settled:
            continue
        lines.append(ChargeLine(pk, unit_id, owner_id, type_name, p_start, p_end, due, amount, paid, waived,
                                outstanding, late_fee, accrued, days_from_due))
    return lines


def prepaid_by_unit(as_of: date, *, community_ids=None, unit_ids=None) -> dict[int, Decimal]:
    """Unallocated credit per unit as of a date, read from the `Payment.unallocated` cache.

    Credit as of D = Σ (amount − allocations valued by D) over payments made by D and not reversed
    by D. Rewritten over the cache: today's credit of payments made by D, plus the amount of those
    reversed after D, plus their allocations valued after D. Each term reads only credit-holding
    payments (a partial index), late reversals or recent allocations, never the years before D.
    (Allocations of a payment reversed by D net to zero after D, so they need no exclusion.)
    """
    payments = Payment.objects.filter(paid_on__lte=as_of)
    credit_rows = payments.filter(unallocated__gt=0)
    reversed_later = payments.filter(reversal__reversed_on__gt=as_of)
    allocated_later = Allocation.objects.filter(value_date__gt=as_of, payment__paid_on__lte=as_of)
    if community_ids is not None:
        ids = list(community_ids)
        credit_rows, reversed_later = credit_rows.filter(community_id__in=ids), reversed_later.filter(community_id__in=ids)
        allocated_later = allocated_later.filter(community_id__in=ids)
    if unit_ids is not None:
        ids = list(unit_ids)
        credit_rows, reversed_later = credit_rows.filter(unit_id__in=ids), reversed_later.filter(unit_id__in=ids)
        allocated_later = allocated_later.filter(payment__unit_id__in=ids)
    credit = defaultdict(lambda: ZERO)
    for unit_id, total in credit_rows.order_by().values_list("unit_id").annotate(t=Sum("unallocated")):
        credit[unit_id] += total
    for unit_id, total in reversed_later.order_by().values_list("unit_id").annotate(t=Sum("amount")):
        credit[unit_id] += total
    for unit_id, total in allocated_later.order_by().values_list("payment__unit_id").annotate(t=Sum("amount")):
        credit[unit_id] += total
    return {unit_id: amount for unit_id, amount in credit.items() if amount != ZERO}


def current_owner_names(as_of: date, unit_ids) -> dict[int, str]:
    """The owner holding each unit on `as_of` (or the last one before it)."""
    names = {}
    rows = (
        Ownership.objects.filter(start__lte=as_of)
        .order_by("unit_id", "start", "pk")
        .values_list("unit_id", "owner__name")
    )
    if unit_ids is not None and len(unit_ids) < 500:
        rows = rows.filter(unit_id__in=list(unit_ids))
    wanted = set(unit_ids) if unit_ids is not None else None
    for unit_id, name in rows:
        if wanted is None or unit_id in wanted:
            names[unit_id] = name  # later starts win: the holder on as_of
    return names


def statement(as_of: date, *, community_ids=None, unit_ids=None) -> list[UnitStatement]:
    """Every unit with anything overdue or any prepaid credit as of `as_of`.

    Overdue = due before `as_of` with principal or late fee outstanding; a unit's oldest_due and
    days_overdue refer to its oldest charge with principal outstanding.
    """
    lines = charge_lines(as_of, community_ids=community_ids, unit_ids=unit_ids)
    prepaid = prepaid_by_unit(as_of, community_ids=community_ids, unit_ids=unit_ids)
    wanted = {line.unit_id for line in lines} | set(prepaid)
    if not wanted:
        return []
    units = Unit.objects.select_related("community", "building").order_by()
    if len(wanted) < 500:
        units = units.filter(pk__in=wanted)
    elif community_ids is not None:
        units = units.filter(community_id__in=list(community_ids))
    info = {
        pk: (community, building, entrance, room)
        for pk, community, building, entrance, room in units.values_list("pk", "community__name", "building__name", "entrance", "room")
        if pk in wanted
    }
    owners = current_owner_names(as_of, wanted)
    result = {}
    for unit_id in wanted:
        community, building, entrance, room = info[unit_id]
        result[unit_id] = UnitStatement(unit_id, community, building, entrance, room, owners.get(unit_id, ""),
                                        prepaid=prepaid.get(unit_id, ZERO))
    for line in lines:
        entry = result[line.unit_id]
        entry.charges.append(line)
        entry.principal += line.outstanding
        entry.late_fee += line.late_fee
        if line.outstanding > ZERO and (entry.oldest_due is None or line.due < entry.oldest_due):
            entry.oldest_due = line.due
            entry.days_overdue = (as_of - line.due).days
    return sorted(result.values(), key=lambda s: (s.community, s.building, s.entrance, s.room))


def unit_statement(unit_id: int, as_of: date) -> UnitStatement:
    """One unit's statement, present even when nothing is owed (the unit page shows it)."""
    found = statement(as_of, unit_ids=[unit_id])
    if found:
        return found[0]
    unit = Unit.objects.select_related("community", "building").get(pk=unit_id)
    owner = current_owner_names(as_of, [unit_id]).get(unit_id, "")
    return UnitStatement(unit_id, unit.community.name, unit.building.name, unit.entrance, unit.room, owner)


def statement_as_dicts(statements: list[UnitStatement]) -> list[dict]:
    """The JSON shape of `arrears report statement`: money as 2-decimal strings, dates ISO."""

    def money(value: Decimal) -> str:
        return f"{value:.2f}"

    return [
        {
            "community": s.community, "building": s.building, "unit": s.entrance, "room": s.room, "owner": s.owner,
            "principal": money(s.principal), "late_fee": money(s.late_fee), "total": money(s.total),
            "prepaid": money(s.prepaid), "oldest_due": s.oldest_due.isoformat() if s.oldest_due else None,
            "days_overdue": s.days_overdue,
            "charges": [
                {
                    "type": c.charge_type, "period_start": c.period_start.isoformat(), "period_end": c.period_end.isoformat(),
                    "due": c.due.isoformat(), "amount": money(c.amount), "paid": money(c.paid), "waived": money(c.waived),
                    "outstanding": money(c.outstanding), "late_fee": money(c.late_fee), "days_overdue": c.days_overdue,
                }
                for c in s.charges
            ],
        }
        for s in statements
    ]
