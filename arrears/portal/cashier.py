"""The cashier desk: money taken in person, its receipt, and reversals decided by a second person.

Money enters the ledger only through `ledger.services.record_payment`: first to the charges the
cashier ticked for the payer (the payer's designation, 民法典第560条), then by the company's rule,
which never pays a charge under dispute. The preview runs the same rules (`rules.replay`) on the
states `load_accounts` reads, so what the cashier shows before taking the money is what the
ledger then writes, to the fen.

A payment, its receipt number, its receipt and the closing of a cleared collection case are one
transaction: a refusal anywhere leaves no payment without a receipt and no number used up (the
counter row is locked until commit, so numbers never repeat or skip). A reversal is asked for by
one person and decided by another (four eyes); the approved one mirrors the allocations and voids
the receipt, the declined one leaves the payment as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent, record
from arrears.core.money import ZERO, MoneyError, to_money
from arrears.core.text import normalise_key
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Owner, Ownership, Unit
from arrears.ledger import rules
from arrears.ledger.models import Charge, Component, Payment, PaymentMethod, PaymentReversal
from arrears.ledger.selectors import ChargeLine
from arrears.ledger.services import check_designation as check_ledger_designation
from arrears.ledger.services import check_reference as check_ledger_reference
from arrears.ledger.services import desk_reference, load_accounts, reverse_payment
from arrears.portal import receipts
from arrears.portal.models import Receipt, RequestStatus, ReversalRequest
from arrears.portal.statements import credit_by_owner, owner_lines

# What the desk takes: cash, a transfer to the company's account, a card on the POS terminal, and
# WeChat/Alipay on the QR stand at the counter. Online orders and direct debits come in elsewhere.
DESK_METHODS = (PaymentMethod.CASH, PaymentMethod.BANK_TRANSFER, PaymentMethod.POS, PaymentMethod.WECHAT,
                PaymentMethod.ALIPAY)
CHANNEL_LABEL = "前台收银"
PAYMENT_ACTION = "cashier.payment"
REFUSED_ACTION = "cashier.payment_refused"
REFUSALS_LOGGED = {"duplicate_reference", "correction", "duplicate"}  # a second entry of the same money
REASON_MAX = 300
# The earliest payment date the desk or the API records: older money is a data import, and the
# holiday calendar a closed case's messages are timed by starts long after it anyway.
EARLIEST_PAID_ON = date(2000, 1, 1)
COMPONENT_LABELS = dict(Component.choices)


# ----------------------------------------------------------------------------- reads


@dataclass
class OwnerAccount:
    """What one current owner of the unit owes today: overdue charges and those due soon, and credit."""

    owner: Owner
    lines: list[ChargeLine] = field(default_factory=list)
    credit: Decimal = ZERO
    held: frozenset[int] = frozenset()  # charges under dispute: paid only when ticked

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
    def overdue(self) -> Decimal:
        return sum((line.outstanding + line.late_fee for line in self.lines if line.days_overdue > 0), ZERO)

    @property
    def to_pay(self) -> Decimal:
        """The amount the form suggests: everything open, less credit not yet spent."""
        return max(self.total - self.credit, ZERO)


def owner_accounts(unit_id: int, *, today: date) -> list[OwnerAccount]:
    """The unit's current owners with what each owes, as the owner's own statement page shows it
    (the same `owner_lines`), so the desk and the owner's link agree to the fen."""
    ownerships = estate_selectors.current_ownerships([unit_id], today=today).get(unit_id, [])
    owners = list(dict.fromkeys(o.owner for o in ownerships))
    credit = credit_by_owner(unit_ids=[unit_id], owner_ids=[o.pk for o in owners])
    lines = {owner.pk: owner_lines(unit_id=unit_id, owner_id=owner.pk, today=today) for owner in owners}
    held = frozenset(Charge.objects.filter(pk__in=[line.charge_id for found in lines.values() for line in found],
                                           on_hold=True).values_list("pk", flat=True))
    return [OwnerAccount(owner, lines[owner.pk], credit.get((unit_id, owner.pk), ZERO), held) for owner in owners]


@dataclass(frozen=True)
class PaymentRow:
    payment: Payment
    receipt: Receipt | None
    reversed_on: date | None
    open_request: ReversalRequest | None

    @property
    def reversible(self) -> bool:
        return self.reversed_on is None and self.open_request is None


def recent_payments(unit_id: int, *, limit: int = 20) -> list[PaymentRow]:
    """The unit's latest payments with their receipt, reversal and any open reversal request."""
    payments = list(
        Payment.objects.filter(unit_id=unit_id).select_related("owner", "receipt", "reversal", "operator")
        .order_by("-paid_on", "-pk")[:limit]
    )
    open_requests = {
        r.payment_id: r
        for r in ReversalRequest.objects.filter(payment__in=payments, status=RequestStatus.REQUESTED).select_related("requested_by")
    }
    rows = []
    for payment in payments:
        receipt, reversal = related_or_none(payment, "receipt"), related_or_none(payment, "reversal")
        rows.append(PaymentRow(payment, receipt, reversal.reversed_on if reversal else None, open_requests.get(payment.pk)))
    return rows


def related_or_none(obj, name: str):
    """A reverse one-to-one, or None where there is none (Django raises instead)."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


# ----------------------------------------------------------------------------- checks


def check_payment(*, unit_id: int, owner_id: int, amount, paid_on: date) -> tuple[Decimal, Unit]:
    """What the ledger would refuse, refused before anything is computed or written."""
    try:
        amount = to_money(amount)
    except MoneyError as exc:
        raise DomainError("金额格式不正确（单位：元，最多两位小数）", "amount must be yuan with at most two decimals",
                          code="amount") from exc
    if amount <= ZERO:
        raise DomainError("收款金额必须大于零", "payment amount must be positive", code="amount")
    if paid_on > timezone.localdate():
        raise DomainError("缴费日期不能晚于今天", "payment date is in the future", code="future")
    if paid_on < EARLIEST_PAID_ON:
        raise DomainError(f"缴费日期不能早于 {EARLIEST_PAID_ON.isoformat()}",
                          f"payment date cannot be before {EARLIEST_PAID_ON.isoformat()}", code="paid_on")
    unit = Unit.objects.select_related("community__company").filter(pk=unit_id).first()
    if unit is None:
        raise DomainError("房屋不存在", "no such unit", code="unit")
    if not Ownership.objects.filter(unit_id=unit_id, owner_id=owner_id).exists():
        raise DomainError("该业主不是此房屋的业主", "this owner has never owned the unit", code="not_owner")
    return amount, unit


def check_method(*, method: str, reference: str) -> str:
    """Only the desk's methods; a non-cash payment names its voucher or transaction number, the
    evidence the bank or terminal statement is reconciled with."""
    if method not in DESK_METHODS:
        raise DomainError("前台收银只能选择现金、银行转账、POS刷卡、微信或支付宝", "method not taken at the desk",
                          code="method")
    # A pasted invisible character, another letter case or the slip's digit grouping would make a
    # second "different" reference for one transfer.
    reference = desk_reference(reference)
    if method != PaymentMethod.CASH and not reference:
        raise DomainError(
            f"{PaymentMethod(method).label!s}收款须填写交易参考号（转账流水号、POS凭证号或扫码订单号）",
            "a non-cash payment needs its transaction reference", code="reference",
        )
    return reference


def check_reference(*, unit: Unit, method: str, reference: str, corrects: str = "") -> int | None:
    """The reference not yet taken in the company for this method, or the re-entry of a reversed
    payment named by its receipt number (`corrects`); the id of that payment.

    The preview says so early; `record_payment` checks again under its locks, and the database
    refuses a second payment of one reference whatever the timing.
    """
    corrects = normalise_key(corrects)
    corrects_id = None
    if corrects:
        corrects_id = (Payment.objects.filter(company_id=unit.community.company_id, receipt_number=corrects)
                       .values_list("pk", flat=True).first())
        if corrects_id is None:
            raise DomainError(f"更正的收据号 {corrects} 不存在", f"no receipt {corrects} to correct", code="correction")
    check_ledger_reference(company_id=unit.community.company_id, method=method, reference=reference,
                           corrects_id=corrects_id)
    return corrects_id


def check_designation(*, unit_id: int, owner_id: int, charge_ids) -> tuple[int, ...]:
    """The charges ticked for the payer, oldest due first (a tick carries no order); refused unless
    every one is an open charge of this owner on this unit (the ledger's own check)."""
    ids = check_ledger_designation(unit_id=unit_id, owner_id=owner_id, designation=charge_ids)
    oldest_first = Charge.objects.filter(pk__in=ids).order_by("due_date", "period_start", "pk").values_list("pk", flat=True)
    return tuple(oldest_first)


# ----------------------------------------------------------------------------- preview


@dataclass(frozen=True)
class PreviewLine:
    charge_id: int
    charge_type: str
    period_start: date
    period_end: date
    component: str
    amount: Decimal
    designated: bool = False

    @property
    def component_label(self) -> str:
        return str(COMPONENT_LABELS[self.component])


@dataclass(frozen=True)
class Preview:
    amount: Decimal
    paid_on: date
    lines: tuple[PreviewLine, ...]
    credit: Decimal  # what stays as prepaid credit
    designation: tuple[int, ...] = ()  # the charges ticked for the payer, oldest due first

    @property
    def allocated(self) -> Decimal:
        return self.amount - self.credit


def preview(*, unit_id: int, owner_id: int, amount, paid_on: date, charge_ids=()) -> Preview:
    """Where this money would go, written nowhere: the ticked charges first, then the company's rule.

    The states come fresh from `load_accounts` and are thrown away after: the rules run on them
    exactly as `record_payment` runs them (replay from the payment date, the designation first,
    older credit spent before the new money), with the new payment last among the owner's
    payments, as its id will be.
    """
    amount, _ = check_payment(unit_id=unit_id, owner_id=owner_id, amount=amount, paid_on=paid_on)
    designation = check_designation(unit_id=unit_id, owner_id=owner_id, charge_ids=charge_ids)
    account = load_accounts([(unit_id, owner_id)])[(unit_id, owner_id)]
    new_id = max((p.id for p in account.payments), default=0) + 1
    mine = rules.PaymentState(new_id, paid_on, amount)
    planned = rules.replay(charges=account.charges, payments=[*account.payments, mine], since=paid_on, rule=account.rule,
                           designations={new_id: designation})
    planned = [p for p in planned if p.payment_id == new_id]
    charges = Charge.objects.filter(pk__in={p.charge_id for p in planned}).select_related("charge_type").in_bulk()
    # The receipt's order (due date, charge, component), so the preview reads as the receipt will.
    planned.sort(key=lambda p: (charges[p.charge_id].due_date, p.charge_id, p.component))
    lines = tuple(
        PreviewLine(p.charge_id, charges[p.charge_id].charge_type.name, charges[p.charge_id].period_start,
                    charges[p.charge_id].period_end, p.component, p.amount, p.charge_id in designation)
        for p in planned
    )
    return Preview(amount=amount, paid_on=paid_on, lines=lines, credit=mine.unallocated, designation=designation)


# ----------------------------------------------------------------------------- payments


def take_payment(*, unit_id: int, owner_id: int, amount, method: str, paid_on: date, reference: str, operator,
                 key: str = "", charge_ids=(), corrects: str = "", channel_label: str = CHANNEL_LABEL) -> Payment:
    """Take money at the desk (or from the finance system through the API, `channel_label` says which): record it (first to the charges ticked for the payer, then by the
    company's rule), issue its numbered receipt, close the owner's case if nothing is overdue any
    more; all or nothing.

    `key` names one confirmation (the page's preview token): a second request with the same key,
    a double click or a resubmitted form, is refused instead of taking the money twice. It is
    checked under the receipt counter's lock, which the first request holds until it commits.
    A reference already taken in the company (any unit) is refused under the same locks, and by
    the database; `corrects` names the reversed receipt this payment enters again.
    """
    amount, unit = check_payment(unit_id=unit_id, owner_id=owner_id, amount=amount, paid_on=paid_on)
    reference = check_method(method=method, reference=reference)
    designation = check_designation(unit_id=unit_id, owner_id=owner_id, charge_ids=charge_ids)
    corrects_id = check_reference(unit=unit, method=method, reference=reference, corrects=corrects)
    with transaction.atomic():
        number = receipts.next_number(company_id=unit.community.company_id, year=paid_on.year)
        if key and AuditEvent.objects.filter(action=PAYMENT_ACTION, at__gte=timezone.now() - timedelta(days=1),
                                             detail__key=key).exists():
            raise DomainError("这笔收款已经确认过，请勿重复提交", "this payment was already confirmed", code="duplicate")
        payment = receipts.record_with_receipt(unit_id=unit_id, owner_id=owner_id, amount=amount, paid_on=paid_on,
                                               method=method, reference=reference, number=number, operator=operator,
                                               channel_label=channel_label, designation=designation,
                                               corrects_id=corrects_id)
        record(actor=operator, action=PAYMENT_ACTION, community_id=unit.community_id, payment=payment.pk,
               receipt=number, amount=str(amount), method=method, key=key, designation=list(designation),
               corrects=corrects_id)
    return payment


def record_refusal(*, operator, unit: Unit, error: DomainError, step: str, method: str, reference: str,
                   corrects: str = "") -> None:
    """Keep a refused second entry of the same money in the audit log (who, where, what, why): a
    pattern of them is what a reviewer looks for; other refusals are typing errors, told and not kept."""
    if error.code not in REFUSALS_LOGGED:
        return
    record(actor=operator, action=REFUSED_ACTION, community_id=unit.community_id, unit=unit.pk, step=step,
           code=error.code, method=method, reference=normalise_key(reference), corrects=normalise_key(corrects),
           reason=error.zh)


# ----------------------------------------------------------------------------- reversals


def request_reversal(*, payment: Payment, reason: str, requested_by) -> ReversalRequest:
    """Ask for a payment to be reversed; someone else decides."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("申请冲正必须填写原因", "a reversal request needs a reason", code="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(f"原因最多 {REASON_MAX} 个字", f"the reason is longer than {REASON_MAX} characters", code="reason")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if PaymentReversal.objects.filter(payment=payment).exists():
            raise DomainError("该笔缴费已冲正", "this payment was already reversed", code="reversed")
        if ReversalRequest.objects.filter(payment=payment, status=RequestStatus.REQUESTED).exists():
            raise DomainError("该笔缴费已有待审批的冲正申请", "this payment already has an open reversal request",
                              code="open_request")
        request = ReversalRequest.objects.create(
            community_id=payment.community_id, payment=payment, reason=reason, requested_by=requested_by,
            requested_at=timezone.now(),
        )
        record(actor=requested_by, action="cashier.reversal_requested", community_id=payment.community_id,
               payment=payment.pk, request=request.pk, receipt=payment.receipt_number)
    return request


def _open_request(request: ReversalRequest, decider) -> ReversalRequest:
    """The request, locked, refused when already decided or when the decider asked for it."""
    locked = ReversalRequest.objects.select_for_update().select_related("payment").get(pk=request.pk)
    if locked.status != RequestStatus.REQUESTED:
        raise DomainError(f"该冲正申请已处理（{locked.get_status_display()}）", "this reversal request was already decided",
                          code="decided")
    if locked.requested_by_id == decider.pk:
        raise DomainError(
            "不能审批自己提出的冲正申请：冲正须由申请人以外的另一位有审批权限的人员审批（双人复核），以防收款被单人撤销",
            "the requester cannot decide their own reversal request (four eyes)", code="four_eyes",
        )
    return locked


def approve_reversal(*, request: ReversalRequest, approver, on: date) -> ReversalRequest:
    """Reverse the payment as of `on` (mirror allocations), link the reversal, void the receipt."""
    if on > timezone.localdate():
        raise DomainError("冲正日期不能晚于今天", "the reversal date is in the future", code="future")
    with transaction.atomic():
        locked = _open_request(request, approver)
        reversal = reverse_payment(payment_id=locked.payment_id, reversed_on=on, reason=locked.reason,
                                   requested_by=locked.requested_by, approved_by=approver)
        now = timezone.now()
        locked.status, locked.decided_by, locked.decided_at, locked.reversal = RequestStatus.ACCEPTED, approver, now, reversal
        locked.save(update_fields=["status", "decided_by", "decided_at", "reversal"])
        receipts.void_receipt(locked.payment, at=now)
        record(actor=approver, action="cashier.reversal_approved", community_id=locked.community_id,
               payment=locked.payment_id, request=locked.pk, reversal=reversal.pk, receipt=locked.payment.receipt_number)
    return locked


def decline_reversal(*, request: ReversalRequest, decider, note: str) -> ReversalRequest:
    """Decline the request, saying why; the payment and its receipt stay as they are."""
    note = (note or "").strip()
    if not note:
        raise DomainError("拒绝冲正申请须填写意见，告知申请人原因", "declining needs a note for the requester", code="note")
    if len(note) > REASON_MAX:
        raise DomainError(f"意见最多 {REASON_MAX} 个字", f"the note is longer than {REASON_MAX} characters", code="note")
    with transaction.atomic():
        locked = _open_request(request, decider)
        locked.status, locked.decided_by, locked.decided_at, locked.decision_note = (
            RequestStatus.DECLINED, decider, timezone.now(), note)
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        record(actor=decider, action="cashier.reversal_declined", community_id=locked.community_id,
               payment=locked.payment_id, request=locked.pk)
    return locked
