"""Every write to the ledger: lock the unit, run the rules, write in one transaction.

The lock is always the unit row (`Unit ... select_for_update()`): every money change of a unit
goes through here, so two cashiers cannot spend the same credit twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from arrears.core.errors import DomainError
from arrears.core.money import ZERO, to_money
from arrears.core.text import normalise_key
from arrears.estate.models import Ownership, Unit, Vehicle
from arrears.ledger import grants, rules
from arrears.ledger.models import (
    Allocation,
    Charge,
    ChargeOrigin,
    Component,
    Payment,
    PaymentMethod,
    PaymentReversal,
    Tariff,
    TariffBasis,
    TariffScope,
    Waiver,
    WaiverStatus,
)


def today() -> date:
    return timezone.localdate()


# ----------------------------------------------------------------------------- tariffs


def overlapping_tariffs(*, community_id, charge_type_id, effective_from: date, effective_to: date | None,
                        exclude_pk=None):
    qs = Tariff.objects.filter(community_id=community_id, charge_type_id=charge_type_id)
    if effective_to is not None:
        qs = qs.filter(effective_from__lte=effective_to)
    qs = qs.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=effective_from))
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs


def create_tariff(**fields) -> Tariff:
    """Refuse a tariff whose dates overlap another of the same community and charge type."""
    tariff = Tariff(**fields)
    validate_tariff(tariff)
    tariff.save()
    return tariff


def validate_tariff(tariff: Tariff) -> None:
    if tariff.effective_to and tariff.effective_to < tariff.effective_from:
        raise DomainError("失效日期早于生效日期", "effective_to is before effective_from")
    if overlapping_tariffs(
        community_id=tariff.community_id, charge_type_id=tariff.charge_type_id,
        effective_from=tariff.effective_from, effective_to=tariff.effective_to, exclude_pk=tariff.pk,
    ).exists():
        raise DomainError(
            "与同一小区同一收费项目的现有收费标准日期重叠",
            "overlaps an existing tariff of the same community and charge type",
            code="overlap",
        )


def tariff_on(*, community_id, charge_type_id, on: date) -> Tariff | None:
    return (
        overlapping_tariffs(community_id=community_id, charge_type_id=charge_type_id, effective_from=on, effective_to=on)
        .order_by("-effective_from")
        .first()
    )


# ----------------------------------------------------------------------------- accounts


@dataclass
class Account:
    """The money of one owner on one unit, loaded for the rules to work on."""

    unit_id: int
    community_id: int
    owner_id: int
    rule: str
    charges: list[rules.ChargeState]
    payments: list[rules.PaymentState]


def _lock_unit(unit_id) -> Unit:
    return Unit.objects.select_for_update().select_related("community__company").get(pk=unit_id)


def load_accounts(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Account]:
    """Load open charges and credit of many (unit, owner) pairs in a fixed number of queries.

    Plain values, no model instances: billing loads the accounts of every payer holding credit.
    """
    pairs = set(pairs)
    if not pairs:
        return {}
    unit_ids = sorted({u for u, _ in pairs})
    units = {pk: (community_id, rule) for pk, community_id, rule in Unit.objects.filter(pk__in=unit_ids).values_list(
        "pk", "community_id", "community__company__allocation_rule")}
    charges = defaultdict(list)
    by_id = {}
    open_charges = (
        Charge.objects.filter(unit_id__in=unit_ids, settled_on__isnull=True).order_by("due_date", "id")
        .values_list("pk", "unit_id", "owner_id", "period_start", "due_date", "amount", "late_fee_daily_rate",
                     "grace_days", "late_fee_cap", "on_hold")
    )
    for pk, unit_id, owner_id, period_start, due_date, amount, rate, grace_days, cap, on_hold in open_charges:
        if (unit_id, owner_id) not in pairs:
            continue
        state = rules.ChargeState(pk, period_start, due_date, amount, rules.LateFeeTerms(rate, grace_days, cap),
                                  held=on_hold)
        charges[(unit_id, owner_id)].append(state)
        by_id[pk] = state
    if by_id:
        allocations = Allocation.objects.filter(charge_id__in=list(by_id))
        for charge_id, component, amount, value_date in allocations.values_list("charge_id", "component", "amount", "value_date"):
            state = by_id[charge_id]
            target = state.principal_events if component == Component.PRINCIPAL else state.late_fee_events
            target.append((value_date, amount))
        waivers = Waiver.objects.filter(charge_id__in=list(by_id), status=WaiverStatus.APPROVED)
        for charge_id, component, amount, decided_on in waivers.values_list("charge_id", "component", "amount", "decided_on"):
            state = by_id[charge_id]
            target = state.principal_events if component == Component.PRINCIPAL else state.late_fee_events
            target.append((decided_on, amount))
    payments = defaultdict(list)
    credit = Payment.objects.filter(unit_id__in=unit_ids, unallocated__gt=0)
    for pk, unit_id, owner_id, paid_on, unallocated in credit.values_list("pk", "unit_id", "owner_id", "paid_on", "unallocated"):
        payments[(unit_id, owner_id)].append(rules.PaymentState(pk, paid_on, unallocated))
    return {
        pair: Account(pair[0], units[pair[0]][0], pair[1], units[pair[0]][1], charges[pair], payments[pair])
        for pair in pairs
    }


def _write_allocations(accounts: Iterable[Account], planned: list[rules.PlannedAllocation]) -> None:
    """Write planned allocations, the payments' remaining credit and the charges' settled_on.

    Set-based: the allocations as tuples in one COPY (one executemany on SQLite), the credit and
    settled_on each in one UPDATE … FROM of arrays on PostgreSQL: a month's billing spends the
    credit of thousands of payers, and a statement per payment cost a round trip each.
    """
    if not planned:
        return
    community_of = {}
    for account in accounts:
        for c in account.charges:
            community_of[c.id] = account.community_id
    _insert_rows(Allocation, ("community_id", "payment_id", "charge_id", "component", "amount", "value_date"),
                 [(community_of[p.charge_id], p.payment_id, p.charge_id, p.component, p.amount, p.value_date)
                  for p in planned])
    # The rules already hold each payment's remaining credit; write that exact value (under the
    # unit lock) rather than F() arithmetic, which SQLite would do in binary floating point.
    remaining = {p.id: p.unallocated for account in accounts for p in account.payments}
    _set_unallocated({payment_id: remaining[payment_id] for payment_id in {p.payment_id for p in planned}})
    _refresh_settled(accounts, {p.charge_id for p in planned})


def _set_column(model, attname: str, values: dict) -> None:
    """Set one column of many rows (pk → value): one UPDATE … FROM unnest of two arrays on PostgreSQL,
    one executemany on SQLite (embedded: no round trips). Names come from _meta, values are bound."""
    if not values:
        return
    meta = model._meta
    field = next(f for f in meta.concrete_fields if f.attname == attname)
    quote = connection.ops.quote_name
    table, column, key = quote(meta.db_table), quote(field.column), quote(meta.pk.column)
    items = sorted(values.items())
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS t SET {column} = v.value FROM unnest(%s::{meta.pk.db_type(connection)}[], "
                f"%s::{field.db_type(connection)}[]) AS v(key, value) WHERE t.{key} = v.key",
                [[pk for pk, _ in items], [value for _, value in items]],
            )
        else:
            cursor.executemany(f"UPDATE {table} SET {column} = %s WHERE {key} = %s",
                               [(field.get_db_prep_save(value, connection), pk) for pk, value in items])


def _set_unallocated(values: dict) -> None:
    """Write exact remaining credit of many payments in one statement."""
    _set_column(Payment, "unallocated", values)


def _refresh_settled(accounts: Iterable[Account], charge_ids: set) -> None:
    settled = {}
    for account in accounts:
        for c in account.charges:
            if c.id in charge_ids:
                on = c.settled_on()
                if on is not None:
                    settled[c.id] = on
    _set_column(Charge, "settled_on", settled)


@transaction.atomic
def apply_credit(*, pairs: Iterable[tuple[int, int]], since: date,
                 designations: dict[int, tuple[int, ...]] | None = None) -> int:
    """Spend prepaid credit of these (unit, owner) pairs on their open charges, day by day.

    Held charges are passed by (`rules.allocate`); `designations` (payment id → charge ids, from
    `record_payment`) put a payment's money on the charges its payer chose before any rule.
    """
    pairs = set(pairs)
    # The unit locks of record_payment, taken in pk order: credit is written as exact values, so
    # a payment taken while billing runs must wait rather than spend the same credit twice.
    list(Unit.objects.select_for_update().filter(pk__in=sorted({u for u, _ in pairs})).order_by("pk").values_list("pk", flat=True))
    accounts = load_accounts(pairs)
    planned = _plan(accounts, since=since, designations=designations)
    # Incentives first (ledger/grants.py): a discount the money earns is waived before the money is
    # spent, so what the discount frees stays as the owner's credit. Then plan again with it.
    # Money a discount frees may earn the next charge its own: again until nothing more is granted.
    granted = new = grants.grant_discounts(accounts.values(), planned)
    while new:
        accounts = load_accounts(pairs)
        planned = _plan(accounts, since=since, designations=designations)
        new = grants.grant_discounts(accounts.values(), planned)
        granted |= new
    _write_allocations(accounts.values(), planned)
    if granted:  # a discount alone may settle a charge the money did not reach this time
        _refresh_settled(accounts.values(), granted - {p.charge_id for p in planned})
    return len(planned)


def _plan(accounts: dict, *, since: date, designations) -> list[rules.PlannedAllocation]:
    planned = []
    for account in accounts.values():
        if account.payments:
            planned.extend(rules.replay(charges=account.charges, payments=account.payments, since=since, rule=account.rule,
                                        designations=designations))
    return planned


# ----------------------------------------------------------------------------- payments


def _check_owner_of_unit(unit_id, owner_id) -> None:
    if not Ownership.objects.filter(unit_id=unit_id, owner_id=owner_id).exists():
        raise DomainError("该业主不是此房屋的业主", "this owner has never owned the unit", code="not_owner")


def check_designation(*, unit_id, owner_id, designation: Iterable) -> tuple[int, ...]:
    """The payer's designated charges (民法典第560条), in the payer's order, each once.

    Refused unless every one is an open charge of this owner on this unit: money is never put on
    another unit's or another owner's debt, and never on a charge already settled.
    """
    try:
        ids = tuple(dict.fromkeys(int(pk) for pk in designation))
    except (TypeError, ValueError) as exc:
        raise DomainError("指定冲抵的费用编号无效", "a designated charge id is not a number", code="designation") from exc
    found = Charge.objects.in_bulk(ids)
    for pk in ids:
        charge = found.get(pk)
        if charge is None or charge.unit_id != int(unit_id) or charge.owner_id != int(owner_id):
            raise DomainError(
                f"指定冲抵的费用（编号 {pk}）不是该业主在此房屋的费用，不能冲抵",
                f"designated charge {pk} is not a charge of this owner on this unit", code="designation",
            )
        if charge.settled_on is not None:
            raise DomainError(
                f"指定冲抵的费用（{charge.charge_type} {charge.period_start:%Y-%m}）已结清，不能再冲抵",
                f"designated charge {pk} is already settled", code="designation_settled",
            )
    return ids


def _receipt_label(payment: Payment) -> str:
    return payment.receipt_number or f"#{payment.pk}"


def desk_reference(value: str | None) -> str:
    """A reference a person typed, as stored and compared: a bank serial or voucher number means the
    same in any letter case and with or without the spaces that group its digits on a slip."""
    return normalise_key(value).replace(" ", "").upper()


WALLET_METHODS = (PaymentMethod.WECHAT, PaymentMethod.ALIPAY)


def _same_transaction(company_id, method: str, reference: str):
    """The company's payments of this method carrying the reference, oldest first.

    Letter case is ignored, for references stored before desk_reference upper-cased them. A WeChat
    or Alipay payment credited online is stored as "provider:trade number" and the same trade
    number typed at the desk (from the payer's bill) is bare: each finds the other.
    """
    match = Q(reference__iexact=reference)
    bare = reference.rpartition(":")[2]
    if method in WALLET_METHODS and bare:
        match |= Q(reference__iexact=bare) | Q(reference__iendswith=f":{bare}")
    return Payment.objects.filter(match, company_id=company_id, method=method).order_by("pk")


def check_reference(*, company_id, method: str, reference: str, corrects_id=None) -> PaymentReversal | None:
    """Refuse a reference already taken in the company for this method; the reversal a correction re-enters.

    One bank transfer (POS voucher, QR order) is one payment: a second entry of its reference
    would credit the owner twice. A payment reversed for a typing mistake is entered again by
    naming it (`corrects_id`): it must be reversed, carry this method and reference, and not have
    been re-entered already; then at most one payment of the reference is ever in force. The
    database enforces the same (`payment_reference_unique`, one correction per reversal), so two
    desks racing past this check still end with one payment.
    """
    if not reference:
        if corrects_id:
            raise DomainError("重新登记冲正的缴费须填写原交易参考号", "a re-entry needs the reversed payment's reference",
                              code="correction")
        return None
    same = _same_transaction(company_id, method, reference)
    live = same.filter(reversal__isnull=True).first()
    if live is not None:
        raise DomainError(
            f"交易参考号 {reference} 已登记（收据号 {_receipt_label(live)}），请勿重复收款",
            f"reference {reference} is already recorded (receipt {_receipt_label(live)})", code="duplicate_reference",
        )
    if corrects_id is None:
        waiting = same.filter(repeats_reference=False, reversal__correction__isnull=True).last()
        if waiting is not None:  # every payment of it was reversed: a re-entry must say which one it corrects
            raise DomainError(
                f"交易参考号 {reference} 已登记（收据号 {_receipt_label(waiting)}，已冲正）；"
                f"冲正后重新登记的，请填写“更正的收据号”{_receipt_label(waiting)}",
                f"reference {reference} is already recorded (receipt {_receipt_label(waiting)}, reversed): "
                f"to enter it again, give {_receipt_label(waiting)} in “Receipt this corrects”", code="duplicate_reference",
            )
        return None
    target = same.filter(pk=corrects_id).first()
    reversal = PaymentReversal.objects.filter(payment_id=corrects_id).first()
    named = target or Payment.objects.filter(pk=corrects_id).first()
    if named is not None and reversal is None:
        raise DomainError(
            f"收据号 {_receipt_label(named)} 的缴费尚未冲正：请先申请冲正并经另一位同事审批，再重新登记",
            f"receipt {_receipt_label(named)} is not reversed yet: have it reversed (four eyes) first",
            code="correction",
        )
    if named is not None and target is None:  # the typo was in the reference itself: this one is simply new
        raise DomainError(
            f"收据号 {_receipt_label(named)} 的交易参考号是 {named.reference or '（空）'}，收款方式是"
            f"{named.get_method_display()}，与本次不同：原参考号录错的，冲正后请清空“更正的收据号”，按正确的参考号直接登记",
            f"receipt {_receipt_label(named)} has another method or reference: if its reference was mistyped, "
            f"leave the corrected receipt blank and enter the right reference", code="correction",
        )
    if target is None or reversal is None or target.repeats_reference:
        raise DomainError(
            f"更正的收据须是一笔已冲正、收款方式和交易参考号（{reference}）都相同的缴费",
            "the corrected payment must be reversed and carry the same method and reference", code="correction",
        )
    again = Payment.objects.filter(corrects=reversal).first()
    if again is not None:
        raise DomainError(
            f"收据号 {_receipt_label(target)} 的缴费已重新登记过（收据号 {_receipt_label(again)}），请勿重复收款",
            f"receipt {_receipt_label(target)} was already entered again (receipt {_receipt_label(again)})",
            code="duplicate_reference",
        )
    return reversal


def _check_receipt_number(company_id, receipt_number: str) -> None:
    if receipt_number and Payment.objects.filter(company_id=company_id, receipt_number=receipt_number).exists():
        raise DomainError(f"票据号 {receipt_number} 已登记", f"receipt number {receipt_number} is already recorded",
                          code="receipt")


@transaction.atomic
def record_payment(*, unit_id, owner_id, amount, paid_on: date, method: str, reference: str = "",
                   receipt_number: str = "", operator=None, designation: Iterable = (), corrects_id=None) -> Payment:
    """Take a payment: first to the charges the payer designated, then by the company's rule.

    民法典第560条: the debtor's designation comes first; only what it leaves is allocated by the
    rule (which passes by held charges), and what is still left stays as prepaid credit.
    `corrects_id` names the reversed payment this one enters again (`check_reference`).
    """
    amount = to_money(amount)
    if amount <= 0:
        raise DomainError("缴费金额必须大于零", "payment amount must be positive", code="amount")
    if paid_on > today():
        raise DomainError("缴费日期不能晚于今天", "payment date is in the future", code="future")
    unit = _lock_unit(unit_id)
    _check_owner_of_unit(unit_id, owner_id)
    designation = check_designation(unit_id=unit.pk, owner_id=owner_id, designation=designation)
    company_id = unit.community.company_id
    _check_receipt_number(company_id, receipt_number)
    corrects = check_reference(company_id=company_id, method=method, reference=reference, corrects_id=corrects_id)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                company_id=company_id, community_id=unit.community_id, unit_id=unit_id, owner_id=owner_id,
                amount=amount, unallocated=amount, paid_on=paid_on, method=method, reference=reference,
                receipt_number=receipt_number, operator=operator, designation=list(designation), corrects=corrects,
            )
    except IntegrityError:
        # Another desk (of another unit: this unit is locked) took the reference or the number
        # between the check and the insert, and has committed: say so as the check would have.
        _check_receipt_number(company_id, receipt_number)
        check_reference(company_id=company_id, method=method, reference=reference, corrects_id=corrects_id)
        raise
    programme = None if designation else grants.prepay_programme(payment)  # a payer naming charges pays those
    if programme is not None:
        account = load_accounts([(unit.pk, int(owner_id))])[(unit.pk, int(owner_id))]
        grants.award_prepaid_year(programme=programme, payment=payment, unit=unit, account=account)
    apply_credit(pairs=[(unit.pk, int(owner_id))], since=paid_on, designations={payment.pk: designation})
    payment.refresh_from_db(fields=["unallocated"])
    return payment


@transaction.atomic
def reverse_payment(*, payment_id, reversed_on: date, reason: str, requested_by=None, approved_by=None) -> PaymentReversal:
    """Undo a payment with mirror entries; the charges it paid are open again from `reversed_on`."""
    if not reason.strip():
        raise DomainError("冲正必须填写原因", "a reversal needs a reason", code="reason")
    if requested_by is not None and approved_by is not None and requested_by.pk == approved_by.pk:
        raise DomainError("申请人不能审批自己的冲正", "the requester cannot approve their own reversal", code="four_eyes")
    payment = Payment.objects.get(pk=payment_id)
    _lock_unit(payment.unit_id)
    payment.refresh_from_db()
    if PaymentReversal.objects.filter(payment_id=payment_id).exists():
        raise DomainError("该笔缴费已冲正", "this payment was already reversed", code="reversed")
    if reversed_on < payment.paid_on:
        raise DomainError("冲正日期早于缴费日期", "reversal date is before the payment date", code="date")
    reversal = PaymentReversal.objects.create(
        community_id=payment.community_id, payment=payment, reversed_on=reversed_on, reason=reason,
        requested_by=requested_by, approved_by=approved_by,
    )
    net = (
        Allocation.objects.filter(payment_id=payment_id)
        .values("charge_id", "component", "charge__period_start")
        .annotate(total=Sum("amount"))
        .filter(total__gt=0)
    )
    Allocation.objects.bulk_create([
        Allocation(community_id=payment.community_id, payment_id=payment_id, charge_id=row["charge_id"],
                   component=row["component"], amount=-row["total"], reversal=reversal,
                   value_date=max(reversed_on, row["charge__period_start"]))
        for row in net
    ])
    Payment.objects.filter(pk=payment_id).update(unallocated=ZERO)
    Charge.objects.filter(pk__in=[row["charge_id"] for row in net]).update(settled_on=None)
    # A discount the payment had earned is withdrawn by new records (ledger/grants.py).
    grants.withdraw_for_reversal(payment=payment, reversed_on=reversed_on)
    # Other credit of the owner may now cover what the reversal reopened.
    apply_credit(pairs=[(payment.unit_id, payment.owner_id)], since=reversed_on)
    return reversal


# ----------------------------------------------------------------------------- holds


@transaction.atomic
def set_charge_hold(*, charge_id, held: bool, on: date) -> bool:
    """Hold a charge from the company's rule (an open dispute) or release it; True if it changed.

    Collection calls this when a dispute opens or closes: the ledger keeps the hold, not the
    dispute. On release the owner's waiting prepaid credit is applied by the company's rule from
    `on` (never earlier: while held, the credit did not pay the charge), as it would have been had
    the charge never been held; approve any waiver agreed in the dispute before closing it.
    """
    charge = Charge.objects.only("unit_id", "owner_id").get(pk=charge_id)
    _lock_unit(charge.unit_id)
    changed = Charge.objects.filter(pk=charge_id).exclude(on_hold=held).update(on_hold=held) == 1
    if changed and not held:
        apply_credit(pairs=[(charge.unit_id, charge.owner_id)], since=on)
    return changed


# ----------------------------------------------------------------------------- waivers


@transaction.atomic
def request_waiver(*, charge_id, component: str, amount, reason: str, requested_by, requested_on: date | None = None) -> Waiver:
    amount = to_money(amount)
    if amount <= 0:
        raise DomainError("减免金额必须大于零", "waiver amount must be positive", code="amount")
    if not reason.strip():
        raise DomainError("减免必须填写原因", "a waiver needs a reason", code="reason")
    charge = Charge.objects.get(pk=charge_id)
    return Waiver.objects.create(
        community_id=charge.community_id, charge=charge, component=component, amount=amount, reason=reason,
        requested_by=requested_by, requested_on=requested_on or today(),
    )


@transaction.atomic
def approve_waiver(*, waiver_id, approved_by, decided_on: date | None = None) -> Waiver:
    """Approve a waiver: never by its requester, never more than is outstanding on that day."""
    waiver = Waiver.objects.select_related("charge").get(pk=waiver_id)
    _lock_unit(waiver.charge.unit_id)
    waiver.refresh_from_db()
    if waiver.status != WaiverStatus.REQUESTED:
        raise DomainError("该减免已处理", "this waiver was already decided", code="decided")
    if waiver.requested_by_id == approved_by.pk:
        raise DomainError("申请人不能审批自己的减免", "the requester cannot approve their own waiver", code="four_eyes")
    decided_on = decided_on or today()
    account = load_accounts([(waiver.charge.unit_id, waiver.charge.owner_id)])[(waiver.charge.unit_id, waiver.charge.owner_id)]
    state = next((c for c in account.charges if c.id == waiver.charge_id), None)
    if state is None:
        raise DomainError("该笔应收已结清，无可减免", "the charge is settled: nothing to waive", code="settled")
    outstanding = state.principal_outstanding if waiver.component == Component.PRINCIPAL else state.late_fee_outstanding(decided_on)
    if waiver.amount > outstanding:
        raise DomainError(
            f"减免金额 {waiver.amount} 超过未缴金额 {outstanding}",
            f"waiver {waiver.amount} exceeds the outstanding {outstanding}", code="too_much",
        )
    waiver.status, waiver.approved_by, waiver.decided_on = WaiverStatus.APPROVED, approved_by, decided_on
    waiver.save(update_fields=["status", "approved_by", "decided_on"])
    events = state.principal_events if waiver.component == Component.PRINCIPAL else state.late_fee_events
    events.append((decided_on, waiver.amount))
    _refresh_settled([account], {state.id})
    return waiver


@transaction.atomic
def reject_waiver(*, waiver_id, decided_by, decided_on: date | None = None) -> Waiver:
    """Reject a waiver; the unit's lock (as approve takes) lets one of two managers deciding at once win."""
    waiver = Waiver.objects.select_related("charge").get(pk=waiver_id)
    _lock_unit(waiver.charge.unit_id)
    waiver.refresh_from_db()
    if waiver.status != WaiverStatus.REQUESTED:
        raise DomainError("该减免已处理", "this waiver was already decided", code="decided")
    if waiver.requested_by_id == decided_by.pk:
        raise DomainError("申请人不能审批自己的减免", "the requester cannot decide their own waiver", code="four_eyes")
    waiver.status, waiver.approved_by, waiver.decided_on = WaiverStatus.REJECTED, decided_by, decided_on or today()
    waiver.save(update_fields=["status", "approved_by", "decided_on"])
    return waiver


# ----------------------------------------------------------------------------- charges


@transaction.atomic
def create_charge(*, unit_id, owner_id, charge_type_id, period_start: date, period_end: date, amount, due_date: date,
                  origin: str = ChargeOrigin.ADJUSTMENT, note: str = "") -> Charge:
    """A single charge (adjustment or import); late-fee terms from the tariff in force on its due date."""
    amount = to_money(amount)
    if amount <= 0:
        raise DomainError("金额必须大于零", "amount must be positive", code="amount")
    if period_end < period_start:
        raise DomainError("账期止早于账期起", "period end is before period start", code="period")
    unit = _lock_unit(unit_id)
    _check_owner_of_unit(unit_id, owner_id)
    tariff = tariff_on(community_id=unit.community_id, charge_type_id=charge_type_id, on=due_date)
    charge = Charge.objects.create(
        community_id=unit.community_id, unit_id=unit_id, owner_id=owner_id, charge_type_id=charge_type_id,
        tariff=tariff, period_start=period_start, period_end=period_end, amount=amount, due_date=due_date,
        origin=origin, note=note,
        late_fee_daily_rate=tariff.late_fee_daily_rate if tariff else Decimal("0"),
        grace_days=tariff.grace_days if tariff else 0,
        late_fee_cap=tariff.late_fee_cap if tariff else Decimal("1"),
    )
    apply_credit(pairs=[(unit_id, owner_id)], since=period_start)
    return charge


# ----------------------------------------------------------------------------- billing


@dataclass(frozen=True)
class BillingResult:
    charges_created: int
    amount_billed: Decimal
    allocations_made: int


def bill(*, through: date, since: date | None = None, community_ids: Iterable[int] | None = None) -> BillingResult:
    """Create every charge the tariffs make due for periods starting up to `through`'s month.

    Idempotent: a period already holding a billed or imported charge of the same unit and type is
    skipped, so running it twice is running it once. Tariff periods are taken in tariff order, a
    later one seeing what an earlier one wrote. On PostgreSQL, periods that cannot see each other
    (another community or charge type, or days that do not overlap) go together in one INSERT …
    SELECT (`_bill_periods_sql`): a month is one statement. On SQLite, whose decimals are floats,
    each period is plain tuples through `rules.split_by_days` (`_bill_period`).
    """
    tariffs = Tariff.objects.select_related("charge_type")
    if community_ids is not None:
        tariffs = tariffs.filter(community_id__in=list(community_ids))
    jobs = [
        (tariff, period)
        for tariff in tariffs.order_by("community_id", "charge_type_id", "effective_from")
        for period in rules.billing_periods(
            cycle_months=tariff.cycle_months, due_day=tariff.due_day, effective_from=tariff.effective_from,
            effective_to=tariff.effective_to, first_month=since or tariff.effective_from, last_month=through,
        )
    ]
    created, total, touched = 0, ZERO, set()
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            for batch in _independent_batches(jobs):
                count, amount, new = _bill_periods_sql(batch, now=now)
                created, total = created + count, total + amount
                touched.update(new)
        else:
            for tariff, period in jobs:
                rows = _bill_period(tariff, period)
                _insert_charges(rows, now=now)
                created, total = created + len(rows), total + sum((row.amount for row in rows), ZERO)
                touched.update((row.unit_id, row.owner_id, row.period_start) for row in rows)
        allocations = _apply_credit_after_billing(touched)
    return BillingResult(created, total, allocations)


def _independent_batches(jobs: list) -> Iterable[list]:
    """Cut the (tariff, period) list, in order, into runs in which no period could see another's charges.

    A period's anti-join looks at charges of its community's units and its charge type that
    overlap its days; a run holds no two periods of one community and type whose days overlap
    (a tariff changed mid-month), so billing a run at once is billing its periods one by one.
    """
    batch: list = []
    for tariff, period in jobs:
        if any(t.community_id == tariff.community_id and t.charge_type_id == tariff.charge_type_id
               and p.start <= period.end and period.start <= p.end for t, p in batch):
            yield batch
            batch = []
        batch.append((tariff, period))
    if batch:
        yield batch


class NewCharge(NamedTuple):
    """A charge to insert, as plain values: the columns of `CHARGE_COLUMNS`, in their order."""

    community_id: int
    unit_id: int
    owner_id: int
    charge_type_id: int
    tariff_id: int | None
    period_start: date
    period_end: date
    amount: Decimal
    due_date: date
    origin: str
    late_fee_daily_rate: Decimal
    grace_days: int
    late_fee_cap: Decimal


CHARGE_COLUMNS = NewCharge._fields + ("settled_on", "on_hold", "note", "created_at")


def _insert_rows(model, columns: Iterable[str], rows: Iterable[tuple]) -> None:
    """Insert plain tuples (attnames `columns`, in order): COPY on PostgreSQL, one executemany on SQLite.

    Django preparing values one by one through model instances was most of a month's billing.
    The rows and constraints are the same; on PostgreSQL the raw psycopg errors are wrapped so a
    duplicate is Django's IntegrityError.
    """
    meta = model._meta
    fields = [meta.get_field(name) if name in {f.name for f in meta.concrete_fields} else
              next(f for f in meta.concrete_fields if f.attname == name) for name in columns]
    table = connection.ops.quote_name(meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.wrap_database_errors, connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",
                [tuple(f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)) for row in rows],
            )


def _insert_charges(charges: Iterable[NewCharge], *, now=None) -> None:
    """Insert new charges (unsettled, not held, no note; created now, as auto_now_add would)."""
    now = now or timezone.now()
    _insert_rows(Charge, CHARGE_COLUMNS, [(*charge, None, False, "", now) for charge in charges])


def _bill_period(tariff: Tariff, period: rules.Period) -> list[NewCharge]:
    """The charges one tariff period lacks, split by `rules.split_by_days` (the reference of `_bill_period_sql`)."""
    existing = Charge.objects.filter(
        unit_id=OuterRef("unit_id"), charge_type_id=tariff.charge_type_id,
        origin__in=[ChargeOrigin.BILLED, ChargeOrigin.IMPORTED],
        period_start__lte=period.end, period_end__gte=period.start,
    )
    ownerships = (
        Ownership.objects.filter(unit__community_id=tariff.community_id, start__lte=period.end)
        .filter(Q(end__isnull=True) | Q(end__gte=period.start))
        .annotate(already=Exists(existing))
        .filter(already=False)
    )
    if tariff.scope == TariffScope.UNITS_WITH_VEHICLE:
        ownerships = ownerships.filter(Exists(Vehicle.objects.filter(unit_id=OuterRef("unit_id"))))
    holders = defaultdict(list)
    # In ownership order, so that two holders from the same day split in the same order as in SQL.
    for row in ownerships.order_by("pk").values_list("unit_id", "owner_id", "start", "end", "unit__floor_area"):
        holders[(row[0], row[4])].append((row[1], row[2], row[3]))
    window = (tariff.effective_from, tariff.effective_to)
    charges = []
    for (unit_id, floor_area), unit_holders in holders.items():
        amount = rules.full_amount(basis=tariff.basis, price=tariff.price, floor_area=floor_area, months=tariff.cycle_months)
        for share in rules.split_by_days(amount, period, unit_holders, window=window):
            charges.append(NewCharge(
                tariff.community_id, unit_id, share.key, tariff.charge_type_id, tariff.pk, share.start, share.end,
                share.amount,
                # A new owner's part is due no earlier than the day they took the unit over.
                max(period.due, share.start), ChargeOrigin.BILLED,
                tariff.late_fee_daily_rate, tariff.grace_days, tariff.late_fee_cap,
            ))
    return charges


def _bill_periods_sql(jobs: list, *, now) -> tuple[int, Decimal, list[tuple[int, int, date]]]:
    """PostgreSQL: bill tariff periods in one INSERT … SELECT; return count, total and who holds credit.

    The rules of `_bill_period`, in SQL, over a table of the periods (`jobs`): the anti-join on
    charges of the unit and type that overlap the period; each holder's piece clipped to the
    period and the tariff's validity; cumulative rounding in ownership-start order (each part =
    round(amount × days so far / days of the period) − the parts before, half-up: PostgreSQL's
    ROUND of a positive numeric); parts of zero dropped; the due date never before the holder's
    first day. Returns the (unit, owner, period_start) of new charges whose payer holds prepaid
    credit, the only ones `_apply_credit_after_billing` looks at.
    """
    if not jobs:
        return 0, ZERO, []
    quote = connection.ops.quote_name
    table = {model: quote(model._meta.db_table) for model in (Charge, Ownership, Unit, Vehicle, Payment)}
    columns = ", ".join(quote(Charge._meta.get_field(name).column) for name in CHARGE_COLUMNS)
    fields = {
        "job": "int", "tariff": "bigint", "community": "bigint", "charge_type": "bigint", "per_area": "boolean",
        "price": "numeric", "months": "int", "lo": "date", "hi": "date", "period_start": "date", "period_end": "date",
        "days": "int", "due": "date", "rate": "numeric", "grace": "int", "cap": "numeric", "vehicle_only": "boolean",
    }
    values = {name: [] for name in fields}
    for n, (tariff, period) in enumerate(jobs):
        row = {
            "job": n, "tariff": tariff.pk, "community": tariff.community_id, "charge_type": tariff.charge_type_id,
            "per_area": tariff.basis == TariffBasis.PER_AREA, "price": tariff.price, "months": tariff.cycle_months,
            "lo": max(period.start, tariff.effective_from),
            "hi": min(period.end, tariff.effective_to) if tariff.effective_to else period.end,
            "period_start": period.start, "period_end": period.end, "days": period.days, "due": period.due,
            "rate": tariff.late_fee_daily_rate, "grace": tariff.grace_days, "cap": tariff.late_fee_cap,
            "vehicle_only": tariff.scope == TariffScope.UNITS_WITH_VEHICLE,
        }
        for name in fields:
            values[name].append(row[name])
    arrays = ", ".join(f"%({name})s::{kind}[]" for name, kind in fields.items())
    order = "PARTITION BY job, unit_id ORDER BY piece_start, ownership_id"
    sql = f"""
        WITH jobs AS (
            SELECT * FROM unnest({arrays}) AS j({", ".join(fields)})
        ), pieces AS (
            SELECT j.*, o.id AS ownership_id, o.unit_id, o.owner_id,
                   GREATEST(o.start, j.lo) AS piece_start,
                   LEAST(COALESCE(o."end", j.hi), j.hi) AS piece_end,
                   CASE WHEN j.per_area THEN ROUND(u.floor_area * j.price * j.months, 2)
                        ELSE ROUND(j.price * j.months, 2) END AS full_amount
            FROM jobs j
            JOIN {table[Unit]} u ON u.community_id = j.community
            JOIN {table[Ownership]} o ON o.unit_id = u.id
            WHERE o.start <= j.period_end AND (o."end" IS NULL OR o."end" >= j.period_start)
              AND NOT EXISTS (
                  SELECT 1 FROM {table[Charge]} c
                  WHERE c.unit_id = o.unit_id AND c.charge_type_id = j.charge_type
                    AND c.origin IN (%(billed)s, %(imported)s)
                    AND c.period_start <= j.period_end AND c.period_end >= j.period_start
                    -- Implied by the lines above; as constants they lead the planner to the
                    -- (unit, type, period_end) index instead of every charge of the unit.
                    AND c.charge_type_id = ANY(%(charge_type)s::bigint[]) AND c.period_end >= %(earliest)s::date)
              AND (NOT j.vehicle_only OR EXISTS (SELECT 1 FROM {table[Vehicle]} v WHERE v.unit_id = o.unit_id))
        ), cumulative AS (
            SELECT *, ROUND(full_amount * SUM(piece_end - piece_start + 1) OVER ({order} ROWS UNBOUNDED PRECEDING)
                            / days, 2) AS so_far
            FROM pieces WHERE piece_start <= piece_end
        ), parts AS (
            SELECT *, so_far - COALESCE(LAG(so_far) OVER ({order}), 0) AS part FROM cumulative
        ), inserted AS (
            INSERT INTO {table[Charge]} ({columns})
            SELECT community, unit_id, owner_id, charge_type, tariff, piece_start, piece_end, part,
                   GREATEST(due, piece_start), %(billed)s, rate, grace, cap, NULL, false, '', %(now)s
            FROM parts WHERE part > 0
            RETURNING unit_id, owner_id, period_start, amount
        ), totals AS (
            SELECT count(*) AS created, COALESCE(SUM(amount), 0) AS amount FROM inserted
        ), credit AS (
            SELECT DISTINCT i.unit_id, i.owner_id, i.period_start FROM inserted i
            WHERE EXISTS (SELECT 1 FROM {table[Payment]} p
                          WHERE p.unit_id = i.unit_id AND p.owner_id = i.owner_id AND p.unallocated > 0)
        )
        SELECT t.created, t.amount, c.unit_id, c.owner_id, c.period_start FROM totals t LEFT JOIN credit c ON true
    """
    params = {**values, "earliest": min(values["period_start"]), "billed": ChargeOrigin.BILLED, "imported": ChargeOrigin.IMPORTED, "now": now}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    created, amount = rows[0][0], rows[0][1]
    return created, amount, [(u, o, start) for _, _, u, o, start in rows if u is not None]


def _apply_credit_after_billing(touched: set[tuple[int, int, date]]) -> int:
    if not touched:
        return 0
    # Few owners hold credit: read them from the partial index rather than naming every unit.
    with_credit = set(Payment.objects.filter(unallocated__gt=0).values_list("unit_id", "owner_id").distinct())
    pairs = {(u, o) for u, o, _ in touched if (u, o) in with_credit}
    if not pairs:
        return 0
    since = min(start for u, o, start in touched if (u, o) in pairs)
    return apply_credit(pairs=pairs, since=since)
