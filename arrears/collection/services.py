"""Every write staff make while working a case: validate first, then write, in one transaction.

A refused action raises `DomainError` (Chinese and English) and writes nothing. Contact attempts
pass the compliance guard first: a blocked attempt is still recorded (evidence that the system
stopped it), with the rule and the reason, and its task stays open.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.utils import timezone

from arrears.collection import guard
from arrears.collection.assess import policies_by_community, policy_or_default
from arrears.collection.models import (
    Case,
    CaseStatus,
    Channel,
    ChargeDispute,
    ContactAttempt,
    ExcuseReason,
    Instalment,
    InstalmentPlan,
    Intent,
    LimitationEvent,
    LimitationEventKind,
    Outcome,
    OwnerProfile,
    Persona,
    PlanStatus,
    ProfileChange,
    Promise,
    Reason,
    Task,
    TaskStatus,
)
from arrears.core.errors import DomainError
from arrears.core.money import CENT, ZERO, MoneyError, to_money
from arrears.estate.models import ContactRelation, Ownership
from arrears.ledger import rules as ledger_rules
from arrears.ledger import services as ledger_services

PROMISE_MAX_DAYS = 60
EDIT_WINDOW = timedelta(hours=24)
# A demand in writing that reached the owner restarts limitation (民法典第195条).
WRITTEN_CHANNELS = frozenset({Channel.LETTER, Channel.LAWYER_LETTER, Channel.SMS, Channel.WECHAT})
PLAN_MONTHS = range(2, 13)
TEXT_LIMIT = 300


def _money(value, field_zh: str, field_en: str) -> Decimal:
    try:
        return to_money(value)
    except MoneyError as exc:
        raise DomainError(f"{field_zh}无效：{value}", f"{field_en} is not a valid amount: {value}", code="amount") from exc


def _require_open(case: Case) -> None:
    if case.status != CaseStatus.OPEN:
        raise DomainError("案件已结案", "the case is closed", code="case_closed")


# -- contact attempts ---------------------------------------------------------------------------


def _validate_promise(*, case: Case, amount, due_on: date, made_on: date) -> Decimal:
    amount = _money(amount, "承诺金额", "promised amount")
    if amount <= ZERO:
        raise DomainError("承诺金额必须大于 0", "the promised amount must be more than 0", code="promise_amount")
    owed = case.principal + case.late_fee
    if amount > owed:
        raise DomainError(f"承诺金额不能超过欠费合计 {owed}", f"the promised amount may not exceed the total owed {owed}",
                          code="promise_amount")
    if not isinstance(due_on, date):
        raise DomainError("请填写承诺日期", "the promise date is required", code="promise_due")
    if due_on < made_on or due_on > made_on + timedelta(days=PROMISE_MAX_DAYS):
        raise DomainError(
            f"承诺日期须在 {made_on} 至 {made_on + timedelta(days=PROMISE_MAX_DAYS)} 之间",
            f"the promise date must fall between {made_on} and {made_on + timedelta(days=PROMISE_MAX_DAYS)}",
            code="promise_due",
        )
    _require_open(case)
    return amount


def _validate_attempt(*, unit, owner, channel, outcome, case, contact, reason, task, corrects,
                      promise_amount, promise_due, made_on) -> Decimal | None:
    if channel not in Channel.values:
        raise DomainError(f"渠道无效：{channel}", f"unknown channel: {channel}", code="channel")
    if outcome not in Outcome.values or outcome == Outcome.BLOCKED:
        raise DomainError(f"结果无效：{outcome}", f"unknown outcome: {outcome}", code="outcome")
    if reason and reason not in ExcuseReason.values:
        raise DomainError(f"原因无效：{reason}", f"unknown reason: {reason}", code="reason")
    if not Ownership.objects.filter(unit_id=unit.pk, owner_id=owner.pk).exists():
        raise DomainError("该业主不是这套房屋的业主", "the owner does not own this unit", code="owner")
    if contact is not None and contact.owner_id != owner.pk:
        raise DomainError("联系方式不属于该业主", "the contact belongs to another owner", code="contact")
    if case is not None and (case.unit_id != unit.pk or case.owner_id != owner.pk):
        raise DomainError("案件与房屋或业主不符", "the case is not this owner's case on this unit", code="case")
    if task is not None and (case is None or task.case_id != case.pk):
        raise DomainError("任务不属于该案件", "the task belongs to another case", code="task")
    if corrects is not None and (corrects.unit_id != unit.pk or corrects.owner_id != owner.pk):
        raise DomainError("更正的记录不属于该房屋和业主", "the corrected attempt is of another unit or owner", code="corrects")
    promised = outcome == Outcome.PROMISED
    has_promise_fields = promise_amount not in (None, "") or promise_due is not None
    if promised and (promise_amount in (None, "") or promise_due is None):
        raise DomainError("承诺缴费须填写金额和日期", "a promise needs an amount and a date", code="promise_missing")
    if not promised and has_promise_fields:
        raise DomainError("只有结果为“承诺”时才填写承诺金额和日期", "a promise amount and date go with the outcome 'promised' only",
                          code="promise_unexpected")
    if promised:
        if case is None:
            raise DomainError("承诺缴费须关联案件", "a promise needs a case", code="case")
        return _validate_promise(case=case, amount=promise_amount, due_on=promise_due, made_on=made_on)
    return None


def log_attempt(*, unit, owner, channel: str, outcome: str, staff, case: Case | None = None, at: datetime | None = None,
                contact=None, reason: str = "", notes: str = "", task: Task | None = None, neutral: bool = False,
                script_code: str = "", promise_amount=None, promise_due: date | None = None,
                corrects: ContactAttempt | None = None) -> ContactAttempt:
    """Record a contact attempt; on a contact channel the compliance guard decides first.

    Blocked: the attempt is kept with outcome "blocked", the rule and the reason; nothing else
    changes. Allowed: the task is done, a promise is made when promised, and a written demand
    that reached the owner is a limitation event (民法典第195条).
    """
    at = at or timezone.now()
    made_on = timezone.localdate(at)
    amount = _validate_attempt(unit=unit, owner=owner, channel=channel, outcome=outcome, case=case, contact=contact,
                               reason=reason, task=task, corrects=corrects, promise_amount=promise_amount,
                               promise_due=promise_due, made_on=made_on)
    decision = None
    if guard.channel_is_contact(channel):
        decision = guard.check_contact(guard.ContactRequest(
            owner_id=owner.pk, unit_id=unit.pk, channel=channel, at=at, case_id=case.pk if case else None,
            contact_id=contact.pk if contact else None, neutral=neutral,
        ))
    blocked = decision is not None and not decision.allowed
    with transaction.atomic():
        attempt = ContactAttempt.objects.create(
            community_id=unit.community_id, case=case, unit=unit, owner=owner, contact=contact,
            relation=contact.relation if contact is not None else ContactRelation.SELF, channel=channel, at=at,
            outcome=Outcome.BLOCKED if blocked else outcome, reason=reason, notes=notes, script_code=script_code,
            blocked_rule=str(decision.rule) if blocked else "", blocked_reason=decision.reason[:TEXT_LIMIT] if blocked else "",
            task=task, corrects=corrects, staff=staff,
        )
        if blocked:
            return attempt
        if task is not None and task.status == TaskStatus.OPEN:
            task.status, task.done_at = TaskStatus.DONE, timezone.now()
            task.save(update_fields=["status", "done_at"])
        if amount is not None:
            _create_promise(case=case, amount=amount, due_on=promise_due, made_on=made_on, staff=staff, attempt=attempt)
        if channel in WRITTEN_CHANNELS and outcome == Outcome.DELIVERED:
            LimitationEvent.objects.create(
                community_id=unit.community_id, unit=unit, owner=owner, kind=LimitationEventKind.WRITTEN_DEMAND,
                occurred_on=made_on, attempt=attempt, note=str(Channel(channel).label),
            )
    return attempt


def _create_promise(*, case, amount, due_on, made_on, staff, attempt) -> Promise:
    promise = Promise.objects.create(community_id=case.community_id, case=case, attempt=attempt, amount=amount,
                                     due_on=due_on, made_on=made_on, created_by=staff)
    # An owner's agreement to pay restarts limitation (民法典第195条).
    LimitationEvent.objects.create(community_id=case.community_id, unit_id=case.unit_id, owner_id=case.owner_id,
                                   kind=LimitationEventKind.PROMISE, occurred_on=made_on, attempt=attempt,
                                   note=f"¥{amount} → {due_on}")
    return promise


def make_promise(*, case: Case, amount, due_on: date, staff, attempt: ContactAttempt | None = None,
                 made_on: date | None = None) -> Promise:
    """断其后路: a firm amount and date, at most 60 days ahead, no more than what is owed."""
    made_on = made_on or timezone.localdate()
    amount = _validate_promise(case=case, amount=amount, due_on=due_on, made_on=made_on)
    if attempt is not None and attempt.case_id != case.pk:
        raise DomainError("催收记录不属于该案件", "the attempt belongs to another case", code="attempt")
    with transaction.atomic():
        return _create_promise(case=case, amount=amount, due_on=due_on, made_on=made_on, staff=staff, attempt=attempt)


def correct_attempt(*, attempt: ContactAttempt, staff, notes: str, outcome: str | None = None,
                    reason: str | None = None) -> ContactAttempt:
    """Record a correction as a new attempt that `corrects` the old one; the old row stays as it was."""
    outcome = attempt.outcome if outcome is None else outcome
    reason = attempt.reason if reason is None else reason
    if not notes.strip():
        raise DomainError("请说明更正内容", "say what the correction is", code="notes")
    if attempt.outcome == Outcome.BLOCKED and outcome != Outcome.BLOCKED:
        raise DomainError("被拦截的记录不能改为其他结果", "a blocked attempt cannot be given another outcome", code="outcome")
    if outcome != attempt.outcome and outcome not in set(Outcome.values) - {Outcome.BLOCKED, Outcome.PROMISED}:
        raise DomainError(f"结果无效：{outcome}（承诺请另行登记）", f"invalid outcome: {outcome} (record a promise on its own)",
                          code="outcome")
    if reason and reason not in ExcuseReason.values:
        raise DomainError(f"原因无效：{reason}", f"unknown reason: {reason}", code="reason")
    with transaction.atomic():
        return ContactAttempt.objects.create(
            community_id=attempt.community_id, case=attempt.case, unit_id=attempt.unit_id, owner_id=attempt.owner_id,
            contact_id=attempt.contact_id, relation=attempt.relation, channel=attempt.channel, at=attempt.at,
            outcome=outcome, reason=reason, notes=notes, script_code=attempt.script_code,
            blocked_rule=attempt.blocked_rule, blocked_reason=attempt.blocked_reason, corrects=attempt, staff=staff,
        )


def edit_attempt(*, attempt: ContactAttempt, staff, notes: str | None = None, outcome: str | None = None,
                 reason: str | None = None) -> ContactAttempt:
    """Fix a typo within 24 hours of entry, by the one who entered it; later, only a correction will do."""
    if timezone.now() - attempt.created_at > EDIT_WINDOW:
        raise DomainError("录入超过 24 小时的记录不能修改，请登记更正", "an attempt older than 24 hours cannot be edited: record a correction",
                          code="edit_window")
    if attempt.staff_id is not None and attempt.staff_id != staff.pk:
        raise DomainError("只能修改自己录入的记录", "only the person who entered an attempt may edit it", code="staff")
    if outcome is not None and outcome != attempt.outcome:
        if attempt.outcome in (Outcome.BLOCKED, Outcome.PROMISED) or outcome not in set(Outcome.values) - {Outcome.BLOCKED, Outcome.PROMISED}:
            raise DomainError(f"结果不能改为 {outcome}", f"the outcome cannot be changed to {outcome}", code="outcome")
    if reason and reason not in ExcuseReason.values:
        raise DomainError(f"原因无效：{reason}", f"unknown reason: {reason}", code="reason")
    fields = {"notes": notes, "outcome": outcome, "reason": reason}
    changed = [name for name, value in fields.items() if value is not None]
    with transaction.atomic():
        for name in changed:
            setattr(attempt, name, fields[name])
        if changed:
            attempt.save(update_fields=changed)
    return attempt


# -- owner profile ------------------------------------------------------------------------------


def set_profile(*, owner, staff, persona: str = "", irritable: bool = False, reason: str = "", intent: str = "",
                note: str = "") -> OwnerProfile:
    """The collector's judgement of the owner; every change is kept as a ProfileChange."""
    for value, choices, zh, en in ((persona, Persona, "业主类型", "persona"), (reason, Reason, "欠费原因", "reason"),
                                   (intent, Intent, "欠费性质", "intent")):
        if value and value not in choices.values:
            raise DomainError(f"{zh}无效：{value}", f"unknown {en}: {value}", code=en)
    if len(note) > TEXT_LIMIT:
        raise DomainError(f"备注最多 {TEXT_LIMIT} 字", f"the note may have at most {TEXT_LIMIT} characters", code="note")
    values = {"persona": persona, "irritable": bool(irritable), "reason": reason, "intent": intent, "note": note}
    with transaction.atomic():
        profile, _ = OwnerProfile.objects.select_for_update().update_or_create(
            owner=owner, defaults={**values, "community_id": owner.community_id, "updated_by": staff},
        )
        ProfileChange.objects.create(community_id=owner.community_id, profile=profile, changed_by=staff,
                                     changed_at=timezone.now(), **values)
    return profile


# -- instalment plans ---------------------------------------------------------------------------


def split_evenly(total: Decimal, parts: int) -> list[Decimal]:
    """Equal parts rounded down to the fen, the remainder on the last: the parts sum to `total` exactly."""
    each = (total / parts).quantize(CENT, rounding=ROUND_DOWN)
    return [each] * (parts - 1) + [total - each * (parts - 1)]


def propose_plan(*, case: Case, first_due: date, staff, months: int | None = None,
                 include_late_fee: bool = False) -> InstalmentPlan:
    """Offer an instalment plan (理解型: 3–6 months); the owner's acceptance makes it binding."""
    _require_open(case)
    policy = policy_or_default(policies_by_community([case.community_id]), case.community_id)
    months = policy.plan_months if months is None else months
    if months not in PLAN_MONTHS:
        raise DomainError("分期月数须为 2–12", "a plan runs 2 to 12 months", code="months")
    total = case.principal + (case.late_fee if include_late_fee else ZERO)
    if total < CENT * months:
        raise DomainError("欠费金额不足以分期", "the amount owed is too small for a plan", code="total")
    if InstalmentPlan.objects.filter(case=case, status__in=[PlanStatus.PROPOSED, PlanStatus.ACCEPTED]).exists():
        raise DomainError("该案件已有进行中的分期计划", "the case already has a live instalment plan", code="plan_exists")
    with transaction.atomic():
        plan = InstalmentPlan.objects.create(
            community_id=case.community_id, case=case, total=total, proposed_on=timezone.localdate(),
            breach_days=policy.plan_breach_days, waive_late_fee_on_completion=policy.plan_waives_late_fee,
            created_by=staff,
        )
        Instalment.objects.bulk_create([
            Instalment(community_id=case.community_id, plan=plan, number=number, due_on=ledger_rules.add_months(first_due, number - 1),
                       amount=amount)
            for number, amount in enumerate(split_evenly(total, months), start=1)
        ])
    return plan


def accept_plan(*, plan: InstalmentPlan, accepted_on: date) -> InstalmentPlan:
    """The owner accepts: an agreement to pay, which restarts limitation (民法典第195条)."""
    if plan.status != PlanStatus.PROPOSED:
        raise DomainError("只有待确认的分期计划可以确认", "only a proposed plan can be accepted", code="plan_status")
    if accepted_on < plan.proposed_on:
        raise DomainError("确认日期早于提出日期", "the plan cannot be accepted before it was proposed", code="accepted_on")
    with transaction.atomic():
        plan.status, plan.accepted_on = PlanStatus.ACCEPTED, accepted_on
        plan.save(update_fields=["status", "accepted_on"])
        case = plan.case
        LimitationEvent.objects.create(community_id=plan.community_id, unit_id=case.unit_id, owner_id=case.owner_id,
                                       kind=LimitationEventKind.PLAN, occurred_on=accepted_on, note=f"¥{plan.total}")
    return plan


def cancel_plan(*, plan: InstalmentPlan, on: date) -> InstalmentPlan:
    if plan.status not in (PlanStatus.PROPOSED, PlanStatus.ACCEPTED):
        raise DomainError("该分期计划已结束", "the plan has already ended", code="plan_status")
    with transaction.atomic():
        plan.status, plan.resolved_on = PlanStatus.CANCELLED, on
        plan.save(update_fields=["status", "resolved_on"])
    return plan


# -- disputes -----------------------------------------------------------------------------------


def sync_charge_hold(*, charge_id, on: date) -> bool:
    """The ledger's hold on a charge follows its open disputes (the cache `Charge.on_hold`).

    An open dispute holds the charge from automatic allocation: only the owner's designation pays
    it (民法典第560条). Derived here, so opening, closing or an admin edit all leave it right.
    """
    held = ChargeDispute.objects.filter(charge_id=charge_id, closed_on__isnull=True).exists()
    return ledger_services.set_charge_hold(charge_id=charge_id, held=held, on=on)


def open_dispute(*, charge, reason: str, staff, opened_on: date) -> ChargeDispute:
    """The owner disputes a charge: its collection and its automatic allocation pause until it is closed."""
    reason = reason.strip()
    if not reason or len(reason) > TEXT_LIMIT:
        raise DomainError(f"请填写异议内容（最多 {TEXT_LIMIT} 字）", f"give the dispute's reason (at most {TEXT_LIMIT} characters)",
                          code="reason")
    if ChargeDispute.objects.filter(charge=charge, closed_on__isnull=True).exists():
        raise DomainError("该费用已有未处理的异议", "the charge already has an open dispute", code="dispute_open")
    with transaction.atomic():
        dispute = ChargeDispute.objects.create(community_id=charge.community_id, charge=charge, reason=reason,
                                               opened_on=opened_on, opened_by=staff)
        sync_charge_hold(charge_id=charge.pk, on=opened_on)
    return dispute


def close_dispute(*, dispute: ChargeDispute, resolution: str, closed_on: date) -> ChargeDispute:
    resolution = resolution.strip()
    if dispute.closed_on is not None:
        raise DomainError("该异议已处理完毕", "the dispute is already closed", code="dispute_closed")
    if not resolution or len(resolution) > TEXT_LIMIT:
        raise DomainError(f"请填写处理结果（最多 {TEXT_LIMIT} 字）", f"give the resolution (at most {TEXT_LIMIT} characters)",
                          code="resolution")
    if closed_on < dispute.opened_on:
        raise DomainError("处理日期早于提出日期", "a dispute cannot close before it opened", code="closed_on")
    with transaction.atomic():
        dispute.closed_on, dispute.resolution = closed_on, resolution
        dispute.save(update_fields=["closed_on", "resolution"])
        sync_charge_hold(charge_id=dispute.charge_id, on=closed_on)  # waiting credit may now pay it
    return dispute
