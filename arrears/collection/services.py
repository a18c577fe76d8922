"""Every write staff make while working a case: validate first, then write, in one transaction.

A refused action raises `DomainError` (Chinese and English) and writes nothing. A logged contact
attempt is a fact: the guard judges its time of contact and a broken rule is recorded on it, but
it is never turned into "blocked". Evidence is append-only: a correction is a new attempt.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from arrears.collection import guard, limitation
from arrears.collection.assess import policies_by_community, policy_or_default
from arrears.collection.models import (
    THIRD_PARTY_OUTCOMES,
    Case,
    CaseStatus,
    Channel,
    ChargeDispute,
    ContactAttempt,
    ExcuseReason,
    Instalment,
    InstalmentPlan,
    Intent,
    LimitationEventKind,
    MessageStatus,
    Outcome,
    OutgoingMessage,
    OwnerProfile,
    Persona,
    PlanStatus,
    ProfileChange,
    Promise,
    PromiseStatus,
    Reason,
    ReminderPlace,
    Task,
    TaskKind,
    TaskStatus,
)
from arrears.collection.rules import INTERNAL_CHANNELS
from arrears.core.errors import DomainError
from arrears.core.money import CENT, ZERO, MoneyError, to_money
from arrears.estate.models import ContactRelation, Ownership
from arrears.ledger import rules as ledger_rules
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger import services as ledger_services

PROMISE_MAX_DAYS = 60
# A logged contact is dated by the collector: at most this many days back, never ahead.
LOGGED_BACK_DAYS = 7
# Letters are dated by the post's delivery, which the letters module checks against the issue date.
POSTED_CHANNELS = frozenset({Channel.LETTER, Channel.LAWYER_LETTER})
# Outcomes that relay a message through someone other than the owner.
RELAYED_OUTCOMES = frozenset({Outcome.CALLBACK_REQUESTED, Outcome.DECLINED_TO_PASS_ON})
_NEUTRAL_ORDER = [Outcome.CALLBACK_REQUESTED, Outcome.WRONG_NUMBER, Outcome.NO_ANSWER, Outcome.DECLINED_TO_PASS_ON]
THIRD_PARTY_LABELS_ZH = "、".join(f"“{Outcome(value).label}”" for value in _NEUTRAL_ORDER)
THIRD_PARTY_LABELS_EN = ", ".join(value.value for value in _NEUTRAL_ORDER)
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


def _validate_promise(*, case: Case, amount, due_on: date, made_on: date, owed: Decimal | None = None) -> Decimal:
    """`owed` is the total the collector was shown (the card reads the ledger); else the run's snapshot."""
    amount = _money(amount, "承诺金额", "promised amount")
    if amount <= ZERO:
        raise DomainError("承诺金额必须大于 0", "the promised amount must be more than 0", code="promise_amount")
    owed = case.principal + case.late_fee if owed is None else owed
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


def _validate_contact_time(at, now: datetime) -> None:
    """A logged contact happened: not in the future, and at most `LOGGED_BACK_DAYS` days back."""
    if not isinstance(at, datetime) or timezone.is_naive(at):
        raise DomainError("请填写联系时间", "the time of contact is required", code="at")
    local = timezone.localtime(at)
    if at > now:
        raise DomainError(f"联系时间 {local:%Y-%m-%d %H:%M} 还没到：不能记录未来的联系",
                          f"the time of contact {local:%Y-%m-%d %H:%M} is in the future", code="at_future")
    earliest = timezone.localtime(now - timedelta(days=LOGGED_BACK_DAYS))
    if at < earliest:
        raise DomainError(
            f"只能记录 {LOGGED_BACK_DAYS} 天内的联系（{earliest:%Y-%m-%d %H:%M} 之后）：{local:%Y-%m-%d %H:%M} 太早了",
            f"only contacts of the last {LOGGED_BACK_DAYS} days (after {earliest:%Y-%m-%d %H:%M}) can be logged: "
            f"{local:%Y-%m-%d %H:%M} is too early", code="at_too_old",
        )


def _is_third_party(contact) -> bool:
    """The person reached is not the owner and was not authorised to hear of the debt."""
    return contact is not None and not contact.may_disclose_debt


def _validate_attempt(*, unit, owner, channel, outcome, case, contact, reason, task, third_party: bool,
                      promise_amount, promise_due, made_on, owed: Decimal | None = None) -> Decimal | None:
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
    if third_party:
        # 个人信息保护法 and DESIGN.md §3: a person not authorised hears nothing of the debt and can
        # promise, refuse or dispute nothing for the owner; nor give the owner's reasons.
        if outcome not in THIRD_PARTY_OUTCOMES:
            raise DomainError(
                f"该联系人非业主本人且未获业主授权：只能记录 {THIRD_PARTY_LABELS_ZH}，不能记录“{Outcome(outcome).label}”",
                f"this contact is not the owner and was not authorised to hear of the debt: only {THIRD_PARTY_LABELS_EN} "
                f"can be recorded, not '{outcome}'", code="third_party_outcome",
            )
        if reason:
            raise DomainError("第三方不能代业主说明欠费原因", "a third party cannot give the owner's reasons", code="third_party_reason")
    elif outcome in RELAYED_OUTCOMES and (contact is None or contact.relation == ContactRelation.SELF):
        raise DomainError(f"“{Outcome(outcome).label}”只用于业主以外的联系人",
                          f"'{outcome}' is for a contact other than the owner", code="outcome")
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
        return _validate_promise(case=case, amount=promise_amount, due_on=promise_due, made_on=made_on, owed=owed)
    return None


def _judge(*, unit, owner, channel, at, case, contact, attempt_id=None) -> guard.GuardDecision | None:
    """The guard's verdict on a contact that already happened: None when it broke no rule."""
    if not guard.channel_is_contact(channel):
        return None
    decision = guard.check_contact(guard.ContactRequest(
        owner_id=owner.pk, unit_id=unit.pk, channel=channel, at=at, case_id=case.pk if case else None,
        contact_id=contact.pk if contact else None, attempt_id=attempt_id,
        # With a third party only the neutral outcomes above can be recorded.
        neutral=_is_third_party(contact),
    ))
    return None if decision.allowed else decision


def _apply_effects(attempt: ContactAttempt, *, amount: Decimal | None, promise_due: date | None, staff,
                   letter: limitation.LetterDelivery | None = None) -> None:
    """What a recorded outcome sets off: the promise taken (its limitation event waits for its
    proof), a letter that reached the owner (a written demand, 民法典第195条)."""
    made_on = timezone.localdate(attempt.at)
    if amount is not None:
        _create_promise(case=attempt.case, amount=amount, due_on=promise_due, made_on=made_on, staff=staff, attempt=attempt)
    if letter is not None and attempt.outcome == Outcome.DELIVERED and not attempt.third_party:
        limitation.record_written_demand(attempt=attempt, letter=letter, staff=staff)


def log_attempt(*, unit, owner, channel: str, outcome: str, staff, case: Case | None = None, at: datetime | None = None,
                contact=None, reason: str = "", notes: str = "", task: Task | None = None, script_code: str = "",
                promise_amount=None, promise_due: date | None = None,
                letter: limitation.LetterDelivery | None = None, owed: Decimal | None = None) -> ContactAttempt:
    """Record a contact that happened at `at` (default now), with the outcome the collector entered.

    The guard judges the time of contact. A contact that broke a rule is still recorded as made,
    with its outcome, and carries the rule and the reason (`violation_rule`, `violation_reason`);
    the task is done and a promise taken on it stands. Asking the guard *before* contacting is
    the workbench's and the outbox's business (`guard.check_contact`), never this function's: a
    logged contact is never rewritten into "blocked, not contacted". A written demand that reached
    the owner is a limitation event (民法典第195条). Letters are delivered only through the letters
    module, which passes `letter`: the letter's number and its proof of delivery, if it has one.
    """
    if channel in limitation.LETTER_CHANNELS and outcome == Outcome.DELIVERED and letter is None:
        raise DomainError("催费函、律师函只能在函件模块登记送达", "letters are recorded as delivered only in the letters module",
                          code="letter_channel")
    now = timezone.now()
    at = now if at is None else at
    if channel not in POSTED_CHANNELS:
        _validate_contact_time(at, now)
    made_on = timezone.localdate(at)
    third_party = _is_third_party(contact)
    amount = _validate_attempt(unit=unit, owner=owner, channel=channel, outcome=outcome, case=case, contact=contact,
                               reason=reason, task=task, third_party=third_party, promise_amount=promise_amount,
                               promise_due=promise_due, made_on=made_on, owed=owed)
    violation = _judge(unit=unit, owner=owner, channel=channel, at=at, case=case, contact=contact)
    with transaction.atomic():
        if task is not None and task.status == TaskStatus.OPEN:
            # A form sent twice (a double tap) logs one contact: the second finds the task done.
            locked = Task.objects.select_for_update().filter(pk=task.pk).values_list("status", flat=True).first()
            if locked != TaskStatus.OPEN:
                raise DomainError("该任务已处理", "this task was already done", code="task_done")
        attempt = ContactAttempt.objects.create(
            community_id=unit.community_id, case=case, unit=unit, owner=owner, contact=contact,
            relation=contact.relation if contact is not None else ContactRelation.SELF, channel=channel, at=at,
            outcome=outcome, reason=reason, notes=notes, script_code=script_code, third_party=third_party,
            violation_rule=str(violation.rule) if violation else "",
            violation_reason=violation.reason[:TEXT_LIMIT] if violation else "", task=task, staff=staff,
        )
        if task is not None and task.status == TaskStatus.OPEN:
            task.status, task.done_at = TaskStatus.DONE, now
            task.save(update_fields=["status", "done_at"])
        _apply_effects(attempt, amount=amount, promise_due=promise_due, staff=staff, letter=letter)
    return attempt


def _create_promise(*, case, amount, due_on, made_on, staff, attempt) -> Promise:
    promise = Promise.objects.create(community_id=case.community_id, case=case, attempt=attempt, amount=amount,
                                     due_on=due_on, made_on=made_on, created_by=staff)
    # An owner's agreement to pay restarts limitation (民法典第195条), once proven (a recording).
    limitation.record_event(community_id=case.community_id, unit_id=case.unit_id, owner_id=case.owner_id,
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
    if attempt is not None and attempt.third_party:
        raise DomainError("第三方不能代业主承诺缴费", "a third party cannot promise for the owner", code="third_party_outcome")
    with transaction.atomic():
        return _create_promise(case=case, amount=amount, due_on=due_on, made_on=made_on, staff=staff, attempt=attempt)


# -- corrections --------------------------------------------------------------------------------


def _versions(attempt: ContactAttempt) -> tuple[ContactAttempt, ContactAttempt]:
    """The original of a contact and its current version (its latest correction, or itself).

    Corrections point at the original; rows from before that rule may chain, so follow both.
    """
    original = attempt
    while original.corrects_id is not None:
        original = original.corrects
    current = original
    while True:
        newer = (ContactAttempt.objects.filter(corrects_id__in={original.pk, current.pk}, pk__gt=current.pk)
                 .order_by("-pk").first())
        if newer is None:
            return original, current
        current = newer


def _attempt_superseded(attempt: ContactAttempt, correction: ContactAttempt) -> None:
    """A correction replaced `attempt`: the promise taken on it no longer stands."""
    Promise.objects.filter(attempt=attempt).exclude(status=PromiseStatus.CANCELLED).update(
        status=PromiseStatus.CANCELLED, resolved_on=timezone.localdate(correction.created_at),
    )


def effects_of_correction(*, superseded: ContactAttempt, correction: ContactAttempt) -> None:
    """Undo what the superseded version set off; the correction's own effects are applied apart.

    Every effect derived from an attempt follows its latest correction: the promise is cancelled
    here; the assessment's signals and the guard's caps read only current versions
    (`ContactAttempt.objects.current()`); the limitation events an attempt restarted are keyed by
    `attempt` and are the limitation module's to void.
    """
    _attempt_superseded(superseded, correction)


def _write_correction(*, original: ContactAttempt, current: ContactAttempt, staff, correction_reason: str,
                      **changes) -> ContactAttempt:
    """The new version of a contact: the current one as it stands, with `changes`, pointing at the
    original; the version it replaces stops setting anything off."""
    fields = {name: getattr(current, name) for name in (
        "at", "outcome", "reason", "notes", "third_party", "violation_rule", "violation_reason")}
    correction = ContactAttempt.objects.create(
        community_id=current.community_id, case=current.case, unit_id=current.unit_id, owner_id=current.owner_id,
        contact=current.contact, relation=current.relation, channel=current.channel, script_code=current.script_code,
        task=current.task, corrects=original, correction_reason=correction_reason, staff=staff, **{**fields, **changes},
    )
    effects_of_correction(superseded=current, correction=correction)
    return correction


def correct_letter_delivery(*, attempt: ContactAttempt, staff, correction_reason: str,
                            letter: limitation.LetterDelivery) -> ContactAttempt:
    """The letters module corrected how a letter reached its owner: the written demand follows.

    A correction of the letter's attempt (same day, still delivered) supersedes the old version,
    so the old written demand and the proof it rested on stop counting (`limitation.standing`);
    the new demand carries whatever proof the corrected record still has, or waits for it.
    """
    original, current = _versions(attempt)
    if current.channel not in limitation.LETTER_CHANNELS or current.outcome != Outcome.DELIVERED:
        raise DomainError("只有已送达函件的记录可以这样更正", "only a delivered letter's attempt is corrected here",
                          code="letter_channel")
    list(ContactAttempt.objects.select_for_update().filter(pk=original.pk).values_list("pk", flat=True))
    correction = _write_correction(original=original, current=current, staff=staff,
                                   correction_reason=correction_reason[:TEXT_LIMIT])
    _apply_effects(correction, amount=None, promise_due=None, staff=staff, letter=letter)
    return correction


def correct_attempt(*, attempt: ContactAttempt, staff, correction_reason: str, outcome: str | None = None,
                    reason: str | None = None, notes: str | None = None, at: datetime | None = None,
                    promise_amount=None, promise_due: date | None = None) -> ContactAttempt:
    """Record a correction as a new attempt pointing at the original; the old rows stay as they were.

    It may change the outcome, the excuse, the notes and the time of contact, under the rules of a
    fresh log (time bounds when the time changes, third-party outcomes, a promise's amount and
    date); the guard judges the corrected time. The version it replaces stops counting: its
    promise is cancelled, and a correction to "promised" makes the promise.
    """
    correction_reason = (correction_reason or "").strip()
    if not correction_reason or len(correction_reason) > TEXT_LIMIT:
        raise DomainError(f"请写明更正原因（最多 {TEXT_LIMIT} 字）", f"give the reason for the correction (at most {TEXT_LIMIT} characters)",
                          code="correction_reason")
    if attempt.channel in limitation.LETTER_CHANNELS:
        # The letter, its delivery record and its written demand stay one record: the letters module owns them.
        raise DomainError("函件的送达记录请在函件页更正", "a letter's delivery record is corrected on the letter's page",
                          code="letter_channel")
    original, current = _versions(attempt)
    if current.outcome == Outcome.BLOCKED:
        # The guard refused this contact: the owner was not reached, so there is nothing to re-describe.
        # A contact made anyway is logged as what it was (and judged), never written over the refusal.
        raise DomainError("被拦截的记录没有联系业主，不能更正为已联系；如确实联系过，请另行登记这次联系",
                          "a blocked attempt reached no one and cannot be corrected into a contact; log a contact that "
                          "did happen as a new attempt", code="blocked")
    if current.pk != attempt.pk:
        raise DomainError("该记录已被更正：请在最新的更正上操作", "this attempt was already corrected: correct the latest version",
                          code="superseded")
    outcome = current.outcome if outcome in (None, "") else outcome
    reason = current.reason if reason is None else reason
    notes = current.notes if notes is None else notes
    at = current.at if at is None else at
    if at != current.at and current.channel not in POSTED_CHANNELS:
        _validate_contact_time(at, timezone.now())
    third_party = current.third_party or _is_third_party(current.contact)
    promise_given = promise_amount not in (None, "") or promise_due is not None
    if (outcome, reason, notes, at, promise_given) == (current.outcome, current.reason, current.notes, current.at, False):
        raise DomainError("更正内容与原记录相同", "the correction changes nothing", code="unchanged")
    if outcome == Outcome.PROMISED and not promise_given:
        # A correction of the notes or the time keeps the promise's terms: they move to the new version.
        standing = current.promises.exclude(status=PromiseStatus.CANCELLED).order_by("-pk").first()
        if standing is not None:
            promise_amount, promise_due = standing.amount, standing.due_on
    amount = _validate_attempt(unit=current.unit, owner=current.owner, channel=current.channel, outcome=outcome,
                               case=current.case, contact=current.contact, reason=reason, task=None, third_party=third_party,
                               promise_amount=promise_amount, promise_due=promise_due, made_on=timezone.localdate(at))
    violation = _judge(unit=current.unit, owner=current.owner, channel=current.channel, at=at, case=current.case,
                       contact=current.contact, attempt_id=original.pk)
    with transaction.atomic():
        # One correction at a time per contact: the second waits, then finds it is no longer current.
        list(ContactAttempt.objects.select_for_update().filter(pk=original.pk).values_list("pk", flat=True))
        if _versions(original)[1].pk != current.pk:
            raise DomainError("该记录刚被他人更正：请刷新后再试", "someone corrected this attempt just now: reload and retry",
                              code="superseded")
        correction = _write_correction(
            original=original, current=current, staff=staff, correction_reason=correction_reason, at=at, outcome=outcome,
            reason=reason, notes=notes, third_party=third_party, violation_rule=str(violation.rule) if violation else "",
            violation_reason=violation.reason[:TEXT_LIMIT] if violation else "",
        )
        _apply_effects(correction, amount=amount, promise_due=promise_due, staff=staff)
    return correction


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
    with transaction.atomic():
        # The case's lock makes a form sent twice at once propose once: the second sees the first plan.
        Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).first()
        if InstalmentPlan.objects.filter(case=case, status__in=[PlanStatus.PROPOSED, PlanStatus.ACCEPTED]).exists():
            raise DomainError("该案件已有进行中的分期计划", "the case already has a live instalment plan", code="plan_exists")
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


def accept_plan(*, plan: InstalmentPlan, accepted_on: date, staff=None, proof: limitation.Proof | None = None) -> InstalmentPlan:
    """The owner accepts: an agreement to pay, which restarts limitation (民法典第195条) once proven.

    The proof is the owner's own request in the portal (`ProofKind.PORTAL`, passed by the portal)
    or the signed plan (`ProofKind.SIGNED_PLAN`, an upload); without one the plan runs but its
    event waits for the signed plan (待补证据).
    """
    if plan.status != PlanStatus.PROPOSED:
        raise DomainError("只有待确认的分期计划可以确认", "only a proposed plan can be accepted", code="plan_status")
    if accepted_on < plan.proposed_on:
        raise DomainError("确认日期早于提出日期", "the plan cannot be accepted before it was proposed", code="accepted_on")
    if accepted_on > timezone.localdate():
        # The acceptance restarts limitation from its date: a day still to come is later than any proof.
        raise DomainError("确认日期不能晚于今天", "the plan cannot be accepted on a day still to come", code="accepted_on")
    with transaction.atomic():
        plan.status, plan.accepted_on = PlanStatus.ACCEPTED, accepted_on
        plan.save(update_fields=["status", "accepted_on"])
        case = plan.case
        limitation.record_event(community_id=plan.community_id, unit_id=case.unit_id, owner_id=case.owner_id,
                                kind=LimitationEventKind.PLAN, occurred_on=accepted_on, plan=plan, note=f"¥{plan.total}",
                                staff=staff, proof=proof)
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


def open_dispute(*, charge, reason: str, staff, opened_on: date, ticket=None) -> ChargeDispute:
    """The owner disputes a charge: its collection and its automatic allocation pause until it is closed."""
    reason = reason.strip()
    if not reason or len(reason) > TEXT_LIMIT:
        raise DomainError(f"请填写异议内容（最多 {TEXT_LIMIT} 字）", f"give the dispute's reason (at most {TEXT_LIMIT} characters)",
                          code="reason")
    if ChargeDispute.objects.filter(charge=charge, closed_on__isnull=True).exists():
        raise DomainError("该费用已有未处理的异议", "the charge already has an open dispute", code="dispute_open")
    with transaction.atomic():
        dispute = ChargeDispute.objects.create(community_id=charge.community_id, charge=charge, reason=reason,
                                               opened_on=opened_on, opened_by=staff, ticket=ticket)
        sync_charge_hold(charge_id=charge.pk, on=opened_on)
    return dispute


def close_dispute(*, dispute: ChargeDispute, resolution: str, closed_on: date) -> ChargeDispute:
    """Close a dispute once: locked, so two pages closing it at once give one resolution and one refusal."""
    resolution = resolution.strip()
    already = DomainError("该异议已处理完毕", "the dispute is already closed", code="dispute_closed")
    if dispute.closed_on is not None:
        raise already
    if not resolution or len(resolution) > TEXT_LIMIT:
        raise DomainError(f"请填写处理结果（最多 {TEXT_LIMIT} 字）", f"give the resolution (at most {TEXT_LIMIT} characters)",
                          code="resolution")
    if closed_on < dispute.opened_on:
        raise DomainError("处理日期早于提出日期", "a dispute cannot close before it opened", code="closed_on")
    with transaction.atomic():
        current = ChargeDispute.objects.select_for_update().get(pk=dispute.pk)
        if current.closed_on is not None:
            raise already
        current.closed_on, current.resolution = closed_on, resolution
        current.save(update_fields=["closed_on", "resolution"])
        sync_charge_hold(charge_id=current.charge_id, on=closed_on)  # waiting credit may now pay it
    dispute.closed_on, dispute.resolution = closed_on, resolution
    return dispute


# -- ⑦ 全民总动员: reminded in person ---------------------------------------------------------------

REMINDER_REPEAT_WINDOW = timedelta(minutes=2)  # a second tap or a form sent twice within it is the same reminder


def record_in_person_reminder(*, case: Case, place: str, staff, owner_in_person: bool,
                              at: datetime | None = None) -> tuple[ContactAttempt, bool]:
    """Record that the front desk, gate or car park reminded the owner in person, through the guard.

    Evidence of ⑦ (the desk script says to record when and where): one `ContactAttempt` on the
    front-desk channel with the place, written now and never edited. Refused, with the reason,
    when the guard refuses the reminder now (hours, holiday, a year without a confirmed holiday
    schedule, do-not-contact, dispute), when the person reminded was not the owner (the debt is
    never told to anyone else, 个人信息保护法), when the case is not flagged for the desk or the
    owner is no longer in arrears. Returns (attempt, created): a repeat by the same staff member
    for the same case and place within `REMINDER_REPEAT_WINDOW` returns the first record.
    """
    if place not in ReminderPlace.values:
        raise DomainError("请选择提醒地点：前台、门岗或车场", "choose where: desk, gate or parking", code="place")
    if not owner_in_person:
        raise DomainError("只能当面提醒业主本人：不得向家人、租户或他人透露欠费", "only the owner in person may be "
                          "reminded: the debt is never told to family, tenants or anyone else", code="third_party")
    at = at or timezone.now()
    today = timezone.localdate(at)
    holds = Ownership.objects.filter(unit_id=case.unit_id, owner_id=case.owner_id, start__lte=today).filter(
        Q(end__isnull=True) | Q(end__gte=today))
    if not holds.exists():
        # A past owner who still owes does not walk past this gate as its owner: the letter and calls reach them.
        raise DomainError("案件业主已不是该房屋的业主：不能在此当面提醒", "the case's owner no longer owns this unit: "
                          "no in-person reminder here", code="not_owner")
    decision = guard.check_contact(guard.ContactRequest(
        owner_id=case.owner_id, unit_id=case.unit_id, channel=Channel.FRONT_DESK_FLAG, at=at, case_id=case.pk))
    if not decision.allowed:
        raise DomainError(f"现在不能提醒：{decision.reason_zh}", f"No reminder now: {decision.reason_en}",
                          code=f"guard_{decision.rule}")
    with transaction.atomic():
        # The case row is the lock: two taps at once serialise here and the second finds the first.
        locked = Case.objects.select_for_update().filter(pk=case.pk).values_list("status", "front_desk_flag").first()
        if locked != (CaseStatus.OPEN, True):
            raise DomainError("该户无需前台提醒", "this owner is not on the desk's reminder list", code="not_flagged")
        if not ledger_selectors.arrears_by_owner_unit(today, unit_ids=[case.unit_id]).get(
                (case.unit_id, case.owner_id)):
            raise DomainError("该户已无逾期欠费，无需提醒", "nothing is overdue any more: no reminder", code="not_in_arrears")
        earlier = ContactAttempt.objects.filter(
            case_id=case.pk, channel=Channel.FRONT_DESK_FLAG, place=place, staff=staff,
            at__gte=at - REMINDER_REPEAT_WINDOW, at__lte=at,
        ).order_by("-at", "-pk").first()
        if earlier is not None:
            return earlier, False
        attempt = ContactAttempt.objects.create(
            community_id=case.community_id, case=case, unit_id=case.unit_id, owner_id=case.owner_id,
            relation=ContactRelation.SELF, channel=Channel.FRONT_DESK_FLAG, at=at, outcome=Outcome.REMINDED,
            place=place, staff=staff,
        )
    return attempt, True


# -- legal hold ------------------------------------------------------------------------------------


def set_legal_hold(*, case: Case, held: bool, reason: str = "") -> bool:
    """Put a case on legal hold (a matter opened) or release it; True if it changed.

    On hold the ladder's contact steps wait (the run skips them), and what was already waiting to
    reach the owner is called off: open contact tasks are cancelled and queued messages withdrawn.
    Internal steps (front-desk flag, legal review) and the legal desk's own tasks go on.
    """
    with transaction.atomic():
        changed = Case.objects.filter(pk=case.pk).exclude(legal_hold=held).update(legal_hold=held) == 1
        case.legal_hold = held
        if changed and held:
            why = (reason or "转法务处理 / taken to the legal desk")[:200]
            Task.objects.filter(case_id=case.pk, status=TaskStatus.OPEN).exclude(
                channel__in=[*INTERNAL_CHANNELS, Channel.LAWYER_LETTER]).exclude(kind=TaskKind.LEGAL).update(
                status=TaskStatus.CANCELLED, cancel_reason=why)
            OutgoingMessage.objects.filter(case_id=case.pk, status=MessageStatus.QUEUED).update(
                status=MessageStatus.CANCELLED)
    return changed
