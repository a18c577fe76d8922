"""Reads the staff pages need that span estate and ledger, always within the user's scope."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q, Sum, Value
from django.db.models.functions import Coalesce

from arrears.core.money import ZERO
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Ownership
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger.models import Allocation, Charge, Payment, Waiver
from arrears.ledger.selectors import SUM_FIELD


@dataclass(frozen=True)
class ScopeSummary:
    units: int
    owners: int
    units_in_arrears: int | None  # None: not for this user (the front desk), and not computed
    overdue_total: Decimal | None
    communities: list[str]


def scope_summary(user, *, today: date, with_arrears: bool = True) -> ScopeSummary:
    """Counts for the home page: units, current owners, units in arrears and their overdue principal today.

    Without `with_arrears` (a user who sees no amounts) the ledger is not read at all."""
    units = estate_selectors.units_visible_to(user)
    owners = (
        Ownership.objects.filter(unit__in=units, start__lte=today)
        .filter(Q(end__isnull=True) | Q(end__gte=today))
        .values("owner_id")
        .distinct()
        .count()
    )
    communities = estate_selectors.communities_visible_to(user)
    names = list(communities.order_by("name").values_list("name", flat=True))
    if not with_arrears:
        return ScopeSummary(units=units.count(), owners=owners, units_in_arrears=None, overdue_total=None,
                            communities=names)
    overdue = ledger_selectors.overdue_principal_charges(today, units=units)
    return ScopeSummary(
        units=units.count(),
        owners=owners,
        units_in_arrears=ledger_selectors.units_in_arrears(today, units=units).count(),
        overdue_total=overdue.aggregate(total=Coalesce(Sum("left"), Value(ZERO), output_field=SUM_FIELD))["total"],
        communities=names,
    )


def overdue_totals(unit_ids, *, today: date) -> dict[int, Decimal]:
    """Principal plus late fee overdue per unit in arrears today; units not in arrears are left out.

    Which units are in arrears is the ledger's one definition (overdue principal > 0): a unit
    owing only a fee not yet due, or only a late fee, shows no arrears."""
    if not unit_ids:
        return {}
    owing = set(ledger_selectors.units_in_arrears(today, unit_ids=list(unit_ids)).values_list("unit_id", flat=True))
    if not owing:
        return {}
    return {s.unit_id: s.total for s in ledger_selectors.statement(today, unit_ids=list(owing))}


@dataclass
class HistoryEntry:
    """One line of a unit's ledger history; `lines` are the allocations a payment or reversal made."""

    on: date
    kind: str  # charge, payment, reversal, waiver
    amount: Decimal
    obj: object
    lines: list = field(default_factory=list)

    @property
    def sort_key(self):
        return (self.on, {"charge": 0, "payment": 1, "waiver": 2, "reversal": 3}[self.kind], self.obj.pk)


def unit_ledger_history(unit_id: int) -> list[HistoryEntry]:
    """Every charge, payment (with its allocations), reversal and waiver of a unit, newest first.

    Five queries however long the history: the page must not grow a query per row.
    """
    entries = []
    charges = Charge.objects.filter(unit_id=unit_id).select_related("charge_type", "owner")
    for charge in charges:
        entries.append(HistoryEntry(charge.due_date, "charge", charge.amount, charge))
    allocations = defaultdict(list)
    for allocation in (
        Allocation.objects.filter(payment__unit_id=unit_id)
        .select_related("charge__charge_type")
        .order_by("charge__due_date", "component", "pk")
    ):
        allocations[(allocation.payment_id, allocation.reversal_id)].append(allocation)
    payments = Payment.objects.filter(unit_id=unit_id).select_related("owner", "operator", "reversal__requested_by")
    for payment in payments:
        entries.append(HistoryEntry(payment.paid_on, "payment", payment.amount, payment,
                                    allocations.get((payment.pk, None), [])))
        reversal = getattr(payment, "reversal", None)
        if reversal is not None:
            entries.append(HistoryEntry(reversal.reversed_on, "reversal", -payment.amount, reversal,
                                        allocations.get((payment.pk, reversal.pk), [])))
    waivers = Waiver.objects.filter(charge__unit_id=unit_id).select_related(
        "charge__charge_type", "requested_by", "approved_by"
    )
    for waiver in waivers:
        entries.append(HistoryEntry(waiver.decided_on or waiver.requested_on, "waiver", -waiver.amount, waiver))
    return sorted(entries, key=lambda e: e.sort_key, reverse=True)
