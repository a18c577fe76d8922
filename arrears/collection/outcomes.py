"""What a collector records from a case card of the day's list, each in one transaction.

A call (with the time it was really made), what the owner agreed (a promise, a waiver to be
approved by someone else, an instalment plan to be accepted), the owner's satisfaction on the
follow-up call after payment (seed 002: 不满意 is the chance to solve the problem, so it opens a
complaint ticket and a follow-up task) and the call's recording or photo. Validate first, then
write; a refusal raises `DomainError` and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from arrears.collection import attachments, limitation, services
from arrears.collection.models import (
    AttachmentKind,
    AttemptAttachment,
    Case,
    CaseStatus,
    ContactAttempt,
    Outcome,
    SatisfactionRating,
    Task,
    TaskKind,
    TaskStatus,
)
from arrears.core.errors import DomainError
from arrears.core.money import ZERO
from arrears.estate.models import Satisfaction, ServiceTicket, TicketKind
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger import services as ledger_services
from arrears.ledger.models import Component, Waiver, WaiverStatus

# Files a collector attaches from the card: the call's recording or a photo (a visit, a notice posted).
CARD_ATTACHMENTS = (AttachmentKind.RECORDING, AttachmentKind.PHOTO)
# 不满意: someone calls back within this many days, after the complaint was looked at.
COMPLAINT_FOLLOW_UP_DAYS = 3
COMPLAINT_FOLLOW_UP_PRIORITY = 900
# A rating is what the owner said: only a call that reached them carries one.
RATED_OUTCOMES = frozenset({Outcome.ANSWERED, Outcome.PAID})


@dataclass
class Logged:
    attempt: ContactAttempt
    closed: list[Task]  # the case's other due tasks on the same channel, done by the same contact
    rating: SatisfactionRating | None = None
    attachment: AttemptAttachment | None = None


def _validate_card(*, task: Task, outcome: str, satisfaction: str, attachment_kind: str, upload) -> None:
    if satisfaction:
        if satisfaction not in Satisfaction.values:
            raise DomainError(f"满意度无效：{satisfaction}", f"unknown satisfaction rating: {satisfaction}", code="satisfaction")
        if task.kind != TaskKind.SATISFACTION:
            raise DomainError("满意度只在缴费后回访时记录", "a satisfaction rating goes with the follow-up call after payment",
                              code="satisfaction")
        if outcome not in RATED_OUTCOMES:
            raise DomainError("业主接通后才能记录满意度", "a rating needs a call that reached the owner", code="satisfaction")
    if upload is not None:
        if attachment_kind not in CARD_ATTACHMENTS:
            raise DomainError("请选择录音或照片", "choose a recording or a photo", code="kind")
        limitation.check_upload(upload, limitation.FAMILIES_FOR_ATTACHMENT[attachment_kind])
        upload.seek(0)  # add_attachment reads it again, inside the transaction


def _require_open_task(task: Task) -> None:
    """A card sent twice (a double tap, a resent form) finds its task done and writes nothing."""
    if task.status != TaskStatus.OPEN:
        raise DomainError("该任务已处理", "this task was already done", code="task_done")


def log_card(*, task: Task, outcome: str, staff, at: datetime | None = None, reason: str = "", notes: str = "",
             promise_amount=None, promise_due: date | None = None, satisfaction: str = "", attachment_kind: str = "",
             upload=None) -> Logged:
    """Log the contact made for a card's lead task, with everything said on it, in one transaction.

    The contact is `services.log_attempt` (the guard judges its real time; a second submit of the
    same form finds the task done and writes nothing). The case's other open due tasks on the same
    channel are done by the same call. 不满意 opens a complaint ticket on the unit and a call-back
    task for the collector.
    """
    _require_open_task(task)
    if satisfaction and not outcome:
        outcome = Outcome.ANSWERED
    _validate_card(task=task, outcome=outcome, satisfaction=satisfaction, attachment_kind=attachment_kind, upload=upload)
    case = task.case
    now = timezone.now()
    owed = sum(owed_today(case, timezone.localdate(now)), ZERO) if outcome == Outcome.PROMISED else None
    with transaction.atomic():
        # Lock the lead and the steps it closes together, in one order: two phones logging two steps
        # of one case at once (lists filtered differently) queue here instead of deadlocking.
        list(Task.objects.select_for_update().filter(
            Q(pk=task.pk) | Q(case_id=case.pk, channel=task.channel, status=TaskStatus.OPEN,
                              due_on__lte=timezone.localdate(now))).order_by("pk").values_list("pk", flat=True))
        attempt = services.log_attempt(
            unit=case.unit, owner=case.owner, case=case, channel=task.channel, outcome=outcome, staff=staff, at=at,
            reason=reason, notes=notes, task=task, script_code=task.script_code, promise_amount=promise_amount,
            promise_due=promise_due, owed=owed,
        )
        siblings = list(Task.objects.select_for_update().filter(
            case_id=case.pk, channel=task.channel, status=TaskStatus.OPEN, due_on__lte=timezone.localdate(now),
        ).exclude(pk=task.pk).exclude(kind=TaskKind.SATISFACTION))
        for sibling in siblings:
            sibling.status, sibling.done_at = TaskStatus.DONE, now
            sibling.save(update_fields=["status", "done_at"])
        logged = Logged(attempt, siblings)
        if satisfaction:
            logged.rating = _rate(attempt=attempt, case=case, rating=satisfaction, staff=staff, notes=notes)
        if upload is not None:
            logged.attachment = attachments.add_attachment(attempt=attempt, kind=attachment_kind, upload=upload, staff=staff,
                                                           now=now)
    return logged


def _rate(*, attempt: ContactAttempt, case: Case, rating: str, staff, notes: str) -> SatisfactionRating:
    ticket = follow_up = None
    if rating == Satisfaction.UNSATISFIED:
        today = timezone.localdate()
        summary = f"缴费后回访：业主不满意。{notes}".strip()[:300]
        ticket = ServiceTicket.objects.create(community_id=case.community_id, unit_id=case.unit_id, kind=TicketKind.COMPLAINT,
                                              summary=summary, opened_on=today)
        follow_up = Task.objects.create(
            community_id=case.community_id, case=case, key=f"complaint-{ticket.pk}", kind=TaskKind.COMPLAINT_FOLLOW_UP,
            channel=attempt.channel, title="回访不满意：跟进投诉处理并再次回访", created_on=today,
            due_on=today + timedelta(days=COMPLAINT_FOLLOW_UP_DAYS), priority=COMPLAINT_FOLLOW_UP_PRIORITY, assignee=staff,
        )
    return SatisfactionRating.objects.create(community_id=case.community_id, case=case, attempt=attempt, rating=rating,
                                             ticket=ticket, follow_up=follow_up, staff=staff)


# -- waivers --------------------------------------------------------------------------------------

WAIVER_COMPONENTS = (Component.LATE_FEE, Component.PRINCIPAL)


def request_case_waiver(*, case: Case, component: str, amount, reason: str, staff, today: date | None = None) -> list[Waiver]:
    """A waiver agreed on the phone, asked for approval (never by the asker: ledger four eyes).

    The amount is spread over the case owner's charges on the unit, oldest first, up to what each
    still owes today; one pending request per case and component at a time, so a form sent twice
    asks once.
    """
    today = today or timezone.localdate()
    if case.status != CaseStatus.OPEN:
        raise DomainError("案件已结案", "the case is closed", code="case_closed")
    if component not in WAIVER_COMPONENTS:
        raise DomainError(f"减免项无效：{component}", f"unknown waiver component: {component}", code="component")
    amount = services._money(amount, "减免金额", "waiver amount")
    if amount <= ZERO:
        raise DomainError("减免金额必须大于零", "waiver amount must be positive", code="amount")
    reason = (reason or "").strip()
    if not reason or len(reason) > services.TEXT_LIMIT:
        raise DomainError(f"请写明减免原因（最多 {services.TEXT_LIMIT} 字）",
                          f"give the waiver's reason (at most {services.TEXT_LIMIT} characters)", code="reason")
    lines = _owner_lines(case, today)
    owed = [(line.charge_id, line.outstanding if component == Component.PRINCIPAL else line.late_fee) for line in lines]
    owed = [(charge_id, value) for charge_id, value in owed if value > ZERO]
    total = sum((value for _, value in owed), ZERO)
    if amount > total:
        label = "本金" if component == Component.PRINCIPAL else "违约金"
        raise DomainError(f"减免金额 {amount:,.2f} 超过欠缴{label} {total:,.2f}",
                          f"the waiver {amount:,.2f} exceeds the {component} owed {total:,.2f}", code="too_much")
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).first()
        if pending_waivers(case).filter(component=component).exists():
            raise DomainError("该案件已有待审批的减免申请", "the case already has a waiver waiting for approval", code="pending")
        left, made = amount, []
        for charge_id, value in owed:
            if left <= ZERO:
                break
            part = min(left, value)
            made.append(ledger_services.request_waiver(charge_id=charge_id, component=component, amount=part, reason=reason,
                                                       requested_by=staff, requested_on=today))
            left -= part
    return made


def _owner_lines(case: Case, today: date):
    """The case owner's charge lines on the unit as of today, oldest due first (the statement's)."""
    found = ledger_selectors.statement(today, unit_ids=[case.unit_id])
    lines = [line for statement in found for line in statement.charges if line.owner_id == case.owner_id]
    return sorted(lines, key=lambda line: (line.due, line.charge_id))


def pending_waivers(case: Case):
    return Waiver.objects.filter(charge__unit_id=case.unit_id, charge__owner_id=case.owner_id, status=WaiverStatus.REQUESTED)


def owed_today(case: Case, today: date) -> tuple[Decimal, Decimal]:
    lines = _owner_lines(case, today)
    return sum((line.outstanding for line in lines), ZERO), sum((line.late_fee for line in lines), ZERO)
