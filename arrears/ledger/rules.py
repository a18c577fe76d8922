"""Ledger rules as plain functions and dataclasses: no ORM, no I/O, tested without a database.

Conventions (README §计费规则 repeats them for users):
- A charge's period is the tariff cycle's calendar months, cycles aligned to the calendar year
  (quarters start in Jan/Apr/Jul/Oct); its due date is the tariff's due day in the first month.
- Amount = area × price × months (or fixed price × months), rounded half-up to 0.01.
- A period the owner (or the tariff) covers only in part is billed by days: cumulative rounding
  makes every part amount × days / days-in-period rounded half-up, and the parts of a fully
  covered period add up to the amount exactly (the last part takes the rounding).
- Late fee as of D: rate × (amount × days(s, D) − Σ aᵢ × days(max(tᵢ, s), D)), s = due + grace,
  rounded half-up, capped at cap × amount; aᵢ are principal reductions (allocations, waivers,
  reversals negative) dated tᵢ ≤ D.
- Allocation (民法典第560/561条): money goes first to the charges its payer designated, in the
  payer's order; what is left goes by the company's rule (principal-first or civil-code), which
  passes by a held charge (one under dispute); what is still left is prepaid credit.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from arrears.core.money import ZERO, round_money

PRINCIPAL = "principal"
LATE_FEE = "late_fee"
PRINCIPAL_FIRST = "principal-first"
CIVIL_CODE = "civil-code"


# ----------------------------------------------------------------------------- dates


def month_start(value: date) -> date:
    return value.replace(day=1)


def add_months(value: date, months: int) -> date:
    """Same day `months` later, clipped to the month's last day."""
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


def parse_month(text: str) -> date:
    """'2026-11' → 2026-11-01; anything else is a ValueError with a bilingual message."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"月份格式应为 YYYY-MM / month must be YYYY-MM: {text!r}") from exc


def days_between(start: date, end: date) -> int:
    return (end - start).days


# ----------------------------------------------------------------------------- billing


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    due: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def billing_periods(
    *, cycle_months: int, due_day: int, effective_from: date, effective_to: date | None,
    first_month: date, last_month: date,
) -> Iterator[Period]:
    """Periods that start in [first_month, last_month] and overlap the tariff's validity."""
    anchor = month_start(effective_from)
    # Align to the calendar year: a quarterly cycle always starts in Jan/Apr/Jul/Oct.
    offset = (anchor.month - 1) % cycle_months
    start = add_months(anchor, -offset)
    while start <= last_month:
        end = add_months(start, cycle_months) - timedelta(days=1)
        if start >= month_start(first_month) and (effective_to is None or start <= effective_to):
            yield Period(start=start, end=end, due=start.replace(day=due_day))
        start = add_months(start, cycle_months)


def full_amount(*, basis: str, price: Decimal, floor_area: Decimal, months: int) -> Decimal:
    if basis == "per_area":
        return round_money(floor_area * price * months)
    return round_money(price * months)


@dataclass(frozen=True)
class Share:
    key: object
    start: date
    end: date
    amount: Decimal


def split_by_days(amount: Decimal, period: Period, holders: Iterable[tuple[object, date, date | None]],
                  *, window: tuple[date, date | None] | None = None) -> list[Share]:
    """Split a period's amount among holders by the days each holds it (end inclusive).

    `window` clips further (the tariff's validity). Cumulative rounding keeps Σ parts equal to
    amount × covered days / period days, rounded once: no 分 appears or vanishes in a split.
    """
    lo, hi = period.start, period.end
    if window is not None:
        lo = max(lo, window[0])
        hi = min(hi, window[1]) if window[1] else hi
    pieces = []
    for key, start, end in holders:
        piece_start = max(lo, start)
        piece_end = min(hi, end) if end else hi
        if piece_start <= piece_end:
            pieces.append((piece_start, piece_end, key))
    pieces.sort(key=lambda item: item[0])
    shares, covered, billed = [], 0, ZERO
    for piece_start, piece_end, key in pieces:
        covered += (piece_end - piece_start).days + 1
        cumulative = round_money(amount * covered / period.days)
        part = cumulative - billed
        billed = cumulative
        if part > ZERO:
            shares.append(Share(key=key, start=piece_start, end=piece_end, amount=part))
    return shares


# ----------------------------------------------------------------------------- late fee


@dataclass(frozen=True)
class LateFeeTerms:
    daily_rate: Decimal
    grace_days: int
    cap: Decimal


def late_fee_from_sums(*, amount: Decimal, terms: LateFeeTerms, days_from_start: int,
                       weighted_reductions: Decimal) -> Decimal:
    """The closed form, given amount × days(s, D) pieces already summed (by SQL or Python)."""
    if days_from_start <= 0 or terms.daily_rate <= 0:
        return ZERO
    unpaid_days = amount * days_from_start - weighted_reductions
    if unpaid_days <= 0:
        return ZERO
    fee = round_money(terms.daily_rate * unpaid_days)
    return min(fee, round_money(terms.cap * amount))


def late_fee(*, amount: Decimal, due_date: date, terms: LateFeeTerms, as_of: date,
             reductions: Iterable[tuple[date, Decimal]]) -> Decimal:
    """Late fee (违约金) of one charge as of `as_of`; reductions are (date, principal amount)."""
    start = due_date + timedelta(days=terms.grace_days)
    days_from_start = (as_of - start).days
    weighted = sum(
        (amount_i * max(0, (as_of - max(when, start)).days) for when, amount_i in reductions if when <= as_of),
        ZERO,
    )
    return late_fee_from_sums(amount=amount, terms=terms, days_from_start=days_from_start, weighted_reductions=weighted)


# ----------------------------------------------------------------------------- allocation


@dataclass
class ChargeState:
    id: object
    period_start: date
    due_date: date
    amount: Decimal
    terms: LateFeeTerms
    principal_events: list[tuple[date, Decimal]] = field(default_factory=list)
    late_fee_events: list[tuple[date, Decimal]] = field(default_factory=list)
    # Under an open dispute: the company's rule passes it by; only a designation pays it.
    held: bool = False

    @property
    def principal_outstanding(self) -> Decimal:
        return self.amount - sum((a for _, a in self.principal_events), ZERO)

    def late_fee_accrued(self, as_of: date) -> Decimal:
        return late_fee(amount=self.amount, due_date=self.due_date, terms=self.terms, as_of=as_of,
                        reductions=self.principal_events)

    def late_fee_outstanding(self, as_of: date) -> Decimal:
        return self.late_fee_accrued(as_of) - sum((a for _, a in self.late_fee_events), ZERO)

    def outstanding(self, component: str, as_of: date) -> Decimal:
        return self.principal_outstanding if component == PRINCIPAL else self.late_fee_outstanding(as_of)

    def settled_on(self) -> date | None:
        """The value date on which nothing was left; after it the late fee cannot grow."""
        if self.principal_outstanding != ZERO:
            return None
        dates = [when for when, _ in self.principal_events + self.late_fee_events]
        last = max(dates, default=self.due_date)
        if self.late_fee_outstanding(max(last, self.due_date)) != ZERO:
            return None
        return last


@dataclass
class PaymentState:
    id: object
    paid_on: date
    unallocated: Decimal


@dataclass(frozen=True)
class PlannedAllocation:
    payment_id: object
    charge_id: object
    component: str
    amount: Decimal
    value_date: date


def _slots(charges: list[ChargeState], rule: str, *, as_given: bool = False) -> Iterator[tuple[ChargeState, str]]:
    """(charge, component) in the order money reaches them; `as_given` keeps the payer's order of charges."""
    ordered = list(charges) if as_given else sorted(charges, key=lambda c: (c.due_date, c.period_start, c.id))
    if rule == CIVIL_CODE:
        # 民法典第561条: costs, then interest (the late fee), then principal; 第560条: oldest due first.
        for charge in ordered:
            yield charge, LATE_FEE
            yield charge, PRINCIPAL
    else:
        for charge in ordered:
            yield charge, PRINCIPAL
        for charge in ordered:
            yield charge, LATE_FEE


def _put(payment: PaymentState, charge: ChargeState, component: str, amount: Decimal,
         value_date: date) -> PlannedAllocation:
    payment.unallocated -= amount
    events = charge.principal_events if component == PRINCIPAL else charge.late_fee_events
    events.append((value_date, amount))
    return PlannedAllocation(payment.id, charge.id, component, amount, value_date)


def designated(*, charges: list[ChargeState], payment: PaymentState, designation: Iterable[object],
               rule: str, not_before: date | None = None) -> list[PlannedAllocation]:
    """Put one payment's money on the charges its payer designated, before any rule (民法典第560条).

    The charges are taken in the order given; within them the company's rule orders the
    components (principal-first: every principal, then every late fee; civil code: each charge's
    late fee, then its principal, 第561条). The value date is the later of the payment date and the
    charge's period start (never before `not_before`, as in `allocate`), and the late fee is the
    one owed on that date. A held charge is paid
    here: the designation is the payer's explicit choice. Ids not among `charges` (settled) are
    passed by. What is left stays on the payment for the rule. Mutates the states, as `allocate`.
    """
    by_id = {c.id: c for c in charges}
    chosen = [by_id[pk] for pk in dict.fromkeys(designation) if pk in by_id]
    planned: list[PlannedAllocation] = []
    for charge, component in _slots(chosen, rule, as_given=True):
        if payment.unallocated <= 0:
            break
        value_date = max(payment.paid_on, charge.period_start, not_before or payment.paid_on)
        outstanding = charge.outstanding(component, value_date)
        if outstanding > 0:
            planned.append(_put(payment, charge, component, min(outstanding, payment.unallocated), value_date))
    return planned


def allocate(*, charges: list[ChargeState], payments: list[PaymentState], as_of: date,
             rule: str, not_before: date | None = None) -> list[PlannedAllocation]:
    """Put the credit of payments made by `as_of` on charges that exist by `as_of` and are not held.

    Mutates the states so a caller can chain calls (replay). Oldest payment is spent first.
    The value date is the later of the payment date and the period start, and never before
    `not_before`: credit re-applied after a reversal cannot pay a charge on days when the
    reversed payment still covered it (that would count the same principal twice).
    """
    funds = sorted((p for p in payments if p.paid_on <= as_of and p.unallocated > 0), key=lambda p: (p.paid_on, p.id))
    targets = [c for c in charges if c.period_start <= as_of and not c.held]
    planned: list[PlannedAllocation] = []
    if not funds:
        return planned
    for charge, component in _slots(targets, rule):
        while funds:
            outstanding = charge.outstanding(component, as_of)
            if outstanding <= 0:
                break
            payment = funds[0]
            value_date = max(payment.paid_on, charge.period_start, not_before or payment.paid_on)
            planned.append(_put(payment, charge, component, min(outstanding, payment.unallocated), value_date))
            if payment.unallocated == 0:
                funds.pop(0)
        if not funds:
            break
    return planned


def replay(*, charges: list[ChargeState], payments: list[PaymentState], since: date,
           rule: str, designations: Mapping[object, Iterable[object]] | None = None) -> list[PlannedAllocation]:
    """Allocate as the days go by from `since`: on each payment date and each new period start.

    This is what makes imported history give the same figures as history entered day by day.
    `designations` (payment id → charge ids): on its own date, a designating payment's money goes
    to its designated charges before the rule spends any credit of that day; the rest joins the
    credit. Taken in date order, so no allocation is ever computed before an earlier-dated one.
    """
    designations = designations or {}
    pending = sorted((p for p in payments if p.id in designations), key=lambda p: (p.paid_on, p.id))
    moments = sorted({p.paid_on for p in payments if p.paid_on >= since and p.unallocated > 0}
                     | {c.period_start for c in charges if c.period_start >= since}
                     | {since})
    planned: list[PlannedAllocation] = []
    for moment in moments:
        while pending and pending[0].paid_on <= moment:
            payment = pending.pop(0)
            planned.extend(designated(charges=charges, payment=payment, designation=designations[payment.id], rule=rule,
                                      not_before=since))
        if not any(p.unallocated > 0 and p.paid_on <= moment for p in payments):
            continue
        planned.extend(allocate(charges=charges, payments=payments, as_of=moment, rule=rule, not_before=since))
    return planned


# ----------------------------------------------------------------------------- incentives (seed 000)


def incentive_discount(*, amount: Decimal, percent: Decimal | None, fixed: Decimal | None,
                       granted: Decimal = ZERO) -> Decimal:
    """The discount a programme gives one charge of `amount`: percent × amount rounded half-up to 分,
    or the fixed amount less what the same award already `granted`, never more than the charge."""
    if percent is not None:
        return min(round_money(amount * percent / 100), amount)
    return max(ZERO, min((fixed or ZERO) - granted, amount))


def early_payment_deadline(due_date: date, days: int) -> date:
    """The last day on which paying the charge earns the early-payment discount: `days` before it falls due."""
    return due_date - timedelta(days=days)


def reached_on(events: Iterable[tuple[date, Decimal]], target: Decimal) -> date | None:
    """The first date on which the running sum of dated reductions reached `target`, or None.

    Reversals are negative events: a sum that reached the target and fell back below it counts
    from the later date it reached it again.
    """
    total, found = ZERO, None
    by_day: dict[date, Decimal] = {}
    for when, amount in events:
        by_day[when] = by_day.get(when, ZERO) + amount
    for when in sorted(by_day):
        total += by_day[when]
        if total >= target and found is None:
            found = when
        elif total < target:
            found = None
    return found


def prepay_year_span(paid_on: date) -> tuple[date, date]:
    """The coming twelve months a prepayment on `paid_on` covers: from the next month's first day."""
    starts = add_months(month_start(paid_on), 1)
    return starts, add_months(starts, 12) - timedelta(days=1)
