"""Reconciliation (对账): a provider's statement against our payment orders of that provider.

Notifications can be lost (our server down for longer than the provider retries) or credited
against the wrong trade; the provider's daily statement is the other side's record of the money.
Every success in it must be an order we credited with the same trade number and amount, and
every order we credited in the days it covers must be in it. Reading only: a difference is for
a person to look at (a lost notification is credited with `payments.credit_order` by hand).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from arrears.core.errors import DomainError
from arrears.core.money import ZERO
from arrears.portal.models import OrderStatus, PaymentOrder
from arrears.portal.providers import get_provider

MISSING_HERE = "missing_here"
MISSING_THERE = "missing_there"
AMOUNT_MISMATCH = "amount_mismatch"
TRADE_NO_MISMATCH = "trade_no_mismatch"
KIND_LABELS = {
    MISSING_HERE: "渠道已收款，我方未入账",
    MISSING_THERE: "我方已入账，渠道无此成功交易",
    AMOUNT_MISMATCH: "金额不符",
    TRADE_NO_MISMATCH: "交易号不符",
}


@dataclass(frozen=True)
class Difference:
    kind: str
    order_number: str
    trade_no: str  # the provider's; ours when the provider has no such success
    provider_amount: Decimal | None
    our_amount: Decimal | None
    our_trade_no: str = ""

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class Report:
    provider: str
    span: tuple[datetime, datetime] | None
    differences: list[Difference] = field(default_factory=list)
    provider_count: int = 0  # successes in the statement
    provider_total: Decimal = ZERO
    our_count: int = 0  # orders we credited within the span
    our_total: Decimal = ZERO
    matched_count: int = 0
    matched_total: Decimal = ZERO

    @property
    def ok(self) -> bool:
        return not self.differences


def reconcile(provider_code: str, text: str) -> Report:
    provider = get_provider(provider_code)
    try:
        rows = provider.parse_statement(text)
        span = provider.statement_span(text)
    except (KeyError, ValueError, InvalidOperation) as exc:  # DomainError passes: it already says what is wrong
        raise DomainError("对账单无法读取：格式不对", f"cannot read the statement: {exc!r}", code="statement") from exc
    successes = [row for row in rows if row.status == "SUCCESS"]
    report = Report(provider=provider_code, span=span, provider_count=len(successes),
                    provider_total=sum((row.amount for row in successes), ZERO))
    orders = PaymentOrder.objects.filter(provider=provider_code)
    ours = {order.number: order for order in orders.filter(number__in=[row.order_number for row in successes])}
    for row in successes:
        order = ours.get(row.order_number)
        if order is None or order.status != OrderStatus.PAID:
            report.differences.append(Difference(MISSING_HERE, row.order_number, row.trade_no, row.amount,
                                                 order.amount if order else None))
            continue
        found = []
        if row.amount != order.amount:
            found.append(Difference(AMOUNT_MISMATCH, row.order_number, row.trade_no, row.amount, order.amount,
                                    order.provider_trade_no))
        if row.trade_no != order.provider_trade_no:
            found.append(Difference(TRADE_NO_MISMATCH, row.order_number, row.trade_no, row.amount, order.amount,
                                    order.provider_trade_no))
        report.differences += found
        if not found:
            report.matched_count += 1
            report.matched_total += order.amount
    if span is not None:
        paid = orders.filter(status=OrderStatus.PAID, paid_at__gte=span[0], paid_at__lt=span[1]).order_by("paid_at", "number")
        listed = {row.order_number for row in successes}
        for order in paid:
            report.our_count += 1
            report.our_total += order.amount
            if order.number not in listed:
                report.differences.append(Difference(MISSING_THERE, order.number, order.provider_trade_no, None,
                                                     order.amount, order.provider_trade_no))
    return report
