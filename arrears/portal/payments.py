"""Online payment: an order for chosen charges, then the provider's notification credits the ledger once.

The charges the owner ticked are the payer's designation (民法典第560条): the money goes to them
first, whatever the company's rule would pick, and a disputed charge is paid only when ticked.

Every notification is kept (`PaymentNotification`) whatever happens to it. One is credited only
when its signature verifies, its order is ours, and its amount is the order's; a repeat of a
credited notification is acknowledged and changes nothing. The order row is locked while it is
credited and the provider's trade number is unique, so two deliveries racing credit once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arrears.core.errors import DomainError
from arrears.core.money import ZERO
from arrears.ledger.models import Charge
from arrears.portal import receipts
from arrears.portal.models import (
    NotificationOutcome,
    OrderStatus,
    PaymentNotification,
    PaymentOrder,
)
from arrears.portal.providers import get_provider
from arrears.portal.providers.base import Ack, InvalidNotification, Notification
from arrears.portal.statements import owner_lines


def new_order_number(now: datetime) -> str:
    """PO + local time + 10 random hex digits: 28 characters, within WeChat's 32 and Alipay's 64."""
    return f"PO{timezone.localtime(now):%Y%m%d%H%M%S}{secrets.token_hex(5).upper()}"


def create_order(*, owner, unit, charge_ids, provider_code: str, now: datetime | None = None) -> PaymentOrder:
    """An order for the chosen open charges of this owner on this unit, priced as of today."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    provider = get_provider(provider_code)
    wanted = {int(pk) for pk in charge_ids}
    if not wanted:
        raise DomainError("请选择要缴纳的费用", "choose the charges to pay", code="no_charges")
    lines = {line.charge_id: line for line in owner_lines(unit_id=unit.pk, owner_id=owner.pk, today=today)}
    unknown = wanted - set(lines)
    if unknown:
        raise DomainError("所选费用不存在或已结清，请刷新页面", "a chosen charge is not open on this account: reload the page",
                          code="charge")
    amount = sum((lines[pk].outstanding + lines[pk].late_fee for pk in wanted), ZERO)
    if amount <= ZERO:
        raise DomainError("所选费用无需缴纳", "nothing is due on the chosen charges", code="amount")
    with transaction.atomic():
        order = PaymentOrder.objects.create(
            number=new_order_number(now), provider=provider.code, company_id=unit.community.company_id,
            community_id=unit.community_id, unit=unit, owner=owner, amount=amount, charge_ids=sorted(wanted),
            created_at=now, expires_at=now + timedelta(minutes=settings.PORTAL_ORDER_MINUTES),
        )
    return order


def start_checkout(order: PaymentOrder, *, mobile: bool, return_url: str, notify_url: str, client_ip: str = ""):
    """The provider's page or QR code for an order (kept on the order for the owner to come back to)."""
    if order.status != OrderStatus.CREATED:
        raise DomainError("该订单已支付或已关闭", "the order is already paid or closed", code="order_status")
    order.client_ip = client_ip  # WeChat H5 needs the payer's address (scene_info.payer_client_ip); not stored
    checkout = get_provider(order.provider).checkout(order, mobile=mobile, return_url=return_url, notify_url=notify_url)
    PaymentOrder.objects.filter(pk=order.pk).update(checkout_url=checkout.url)
    return checkout


@dataclass(frozen=True)
class Handled:
    ack: Ack
    notification: PaymentNotification


def _keep(provider_code, body: bytes, outcome, reason="", order=None, order_number="") -> PaymentNotification:
    return PaymentNotification.objects.create(
        provider=provider_code, received_at=timezone.now(), order=order, order_number=order_number[:64],
        outcome=outcome, reason=reason[:300], body=body.decode("utf-8", "replace"),
        body_sha256=hashlib.sha256(body).hexdigest(),
    )


def handle_notification(*, provider_code: str, headers: dict, body: bytes) -> Handled:
    """Verify, match and credit one provider notification (or refuse it, saying why)."""
    provider = get_provider(provider_code)
    try:
        note = provider.parse_notification(headers=headers, body=body)
    except InvalidNotification as exc:
        return Handled(provider.ack(False), _keep(provider_code, body, NotificationOutcome.REFUSED, f"验签失败 / bad signature: {exc}"))
    with transaction.atomic():
        order = PaymentOrder.objects.select_for_update().filter(number=note.order_number, provider=provider_code).first()
        if order is None:
            kept = _keep(provider_code, body, NotificationOutcome.REFUSED, "未知订单 / unknown order",
                         order_number=note.order_number)
            return Handled(provider.ack(False), kept)
        if note.amount != order.amount:
            kept = _keep(provider_code, body, NotificationOutcome.REFUSED,
                         f"金额不符：通知 {note.amount}，订单 {order.amount} / amount does not match the order",
                         order=order, order_number=note.order_number)
            return Handled(provider.ack(False), kept)
        if not note.succeeded:
            kept = _keep(provider_code, body, NotificationOutcome.IGNORED, "支付未成功 / not a success",
                         order=order, order_number=note.order_number)
            return Handled(provider.ack(True), kept)
        if order.status == OrderStatus.PAID:
            if order.provider_trade_no == note.trade_no:
                kept = _keep(provider_code, body, NotificationOutcome.DUPLICATE, "重复通知 / repeated notification",
                             order=order, order_number=note.order_number)
                return Handled(provider.ack(True), kept)
            kept = _keep(provider_code, body, NotificationOutcome.REFUSED,
                         "订单已由另一笔交易支付，需人工核对 / order already paid by another trade: check by hand",
                         order=order, order_number=note.order_number)
            return Handled(provider.ack(False), kept)
        try:
            with transaction.atomic():  # a refusal takes back the receipt number too
                credit_order(order, note)
        except DomainError as refused:  # the trade number is already a payment of the company: never twice
            kept = _keep(provider_code, body, NotificationOutcome.REFUSED, f"{refused}: 需人工核对 / check by hand",
                         order=order, order_number=note.order_number)
            return Handled(provider.ack(False), kept)
        kept = _keep(provider_code, body, NotificationOutcome.CREDITED, order=order, order_number=note.order_number)
    return Handled(provider.ack(True), kept)


def designation_of(order: PaymentOrder) -> list[int]:
    """The order's chosen charges still open, oldest due first: the payer's designation.

    A chosen charge settled since the order was made (at the desk, say) is left out rather than
    refusing money the provider has already taken; what it would have had goes by the rule.
    """
    return list(
        Charge.objects.filter(pk__in=order.charge_ids, unit_id=order.unit_id, owner_id=order.owner_id, settled_on__isnull=True)
        .order_by("due_date", "period_start", "pk").values_list("pk", flat=True)
    )


def credit_order(order: PaymentOrder, note: Notification) -> PaymentOrder:
    """Record the payment on the owner's chosen charges, with its receipt (and close the case it
    clears), then mark the order paid."""
    provider = get_provider(order.provider)
    paid_at = note.paid_at or timezone.now()
    paid_on = min(timezone.localdate(paid_at), timezone.localdate())
    number = receipts.next_number(company_id=order.company_id, year=paid_on.year)
    payment = receipts.record_with_receipt(
        unit_id=order.unit_id, owner_id=order.owner_id, amount=order.amount, paid_on=paid_on, method=provider.method,
        reference=f"{order.provider}:{note.trade_no}"[:100], number=number, channel_label=order.get_provider_display(),
        designation=designation_of(order),
    )
    order.status, order.paid_at, order.provider_trade_no, order.payment = OrderStatus.PAID, paid_at, note.trade_no, payment
    order.save(update_fields=["status", "paid_at", "provider_trade_no", "payment"])
    return order


def close_expired_orders(now: datetime | None = None) -> int:
    """Orders not paid in time are closed (a late notification still credits: the money was taken)."""
    now = now or timezone.now()
    return PaymentOrder.objects.filter(status=OrderStatus.CREATED, expires_at__lt=now).update(
        status=OrderStatus.CLOSED, closed_at=now,
    )
