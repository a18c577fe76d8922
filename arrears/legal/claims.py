"""What the company claims of one owner on one unit as of a date: each charge with its late fee.

The figures are the ledger's own (ledger.selectors.charge_lines): principal outstanding and the
late fee at the contract's daily rate after its grace days, capped at the contract's cap (民法典
第585条 lets a court cut it further; the claim states the contract figure). A matter's complaint,
its payment-order application and the evidence pack's statement all read this one computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from arrears.core.money import ZERO
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger.models import Charge


@dataclass(frozen=True)
class ClaimLine:
    charge_id: int
    charge_type: str
    period_start: date
    period_end: date
    due: date
    amount: Decimal
    paid: Decimal
    waived: Decimal
    outstanding: Decimal
    late_fee: Decimal
    daily_rate: Decimal
    grace_days: int
    cap: Decimal
    # Days since the grace days ended, by the date. The fee is rate × amount × these days (capped)
    # only for a charge nothing was paid or waived on; otherwise it ran piecewise on what remained.
    late_fee_days: int

    @property
    def piecewise(self) -> bool:
        return self.paid > 0 or self.waived > 0


@dataclass(frozen=True)
class Claim:
    as_of: date
    unit_id: int
    owner_id: int
    lines: tuple[ClaimLine, ...]

    @property
    def principal(self) -> Decimal:
        return sum((line.outstanding for line in self.lines), ZERO)

    @property
    def late_fee(self) -> Decimal:
        return sum((line.late_fee for line in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return self.principal + self.late_fee

    @property
    def charge_ids(self) -> list[int]:
        return [line.charge_id for line in self.lines]

    @property
    def first_due(self) -> date | None:
        return min((line.due for line in self.lines), default=None)

    @property
    def last_due(self) -> date | None:
        return max((line.due for line in self.lines), default=None)


def claim(*, unit_id: int, owner_id: int, as_of: date, charge_ids=None) -> Claim:
    """The owner's overdue charges on the unit as of `as_of` (only `charge_ids` when given), oldest first."""
    lines = [line for line in ledger_selectors.charge_lines(as_of, unit_ids=[unit_id]) if line.owner_id == owner_id]
    if charge_ids is not None:
        wanted = set(charge_ids)
        lines = [line for line in lines if line.charge_id in wanted]
    terms = {pk: (rate, grace, cap) for pk, rate, grace, cap in Charge.objects.filter(
        pk__in=[line.charge_id for line in lines]).values_list("pk", "late_fee_daily_rate", "grace_days", "late_fee_cap")}
    out = []
    for line in lines:
        rate, grace, cap = terms[line.charge_id]
        out.append(ClaimLine(
            charge_id=line.charge_id, charge_type=line.charge_type, period_start=line.period_start,
            period_end=line.period_end, due=line.due, amount=line.amount, paid=line.paid, waived=line.waived,
            outstanding=line.outstanding, late_fee=line.late_fee, daily_rate=rate, grace_days=grace, cap=cap,
            late_fee_days=max(0, line.days_overdue - grace),
        ))
    return Claim(as_of=as_of, unit_id=unit_id, owner_id=owner_id, lines=tuple(out))
