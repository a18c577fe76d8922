"""What owners ask for from their link, and staff's answers: instalments, complaints, the survey.

An instalment request becomes a plan only when staff accept it; the accepted plan is the owner's
agreement to pay, which restarts limitation (民法典第195条, via collection.accept_plan). A
complaint opens a service ticket; naming a charge also opens a dispute, which pauses collection
of that charge until staff close it (DESIGN.md §2: a fixed complaint brings owners back).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from arrears.collection import limitation, tickets
from arrears.collection import services as collection_services
from arrears.collection.assess import policies_by_community, policy_or_default
from arrears.collection.models import Case, CaseStatus, ChargeDispute, ProofKind
from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.core.money import ZERO
from arrears.estate.models import Satisfaction, ServiceTicket, TicketKind, TicketStatus
from arrears.ledger.models import Charge, Payment
from arrears.portal.models import Complaint, InstalmentRequest, RequestStatus, SurveyResponse
from arrears.portal.statements import owner_lines

OWNER_PLAN_MONTHS = (3, 4, 5, 6)
TEXT_LIMIT = 300


def plan_months_offered(community_id: int) -> tuple[int, ...]:
    """3–6 months (理解型), the community's default first."""
    default = policy_or_default(policies_by_community([community_id]), community_id).plan_months
    default = min(max(default, 3), 6)
    return (default, *[m for m in OWNER_PLAN_MONTHS if m != default])


def _overdue_principal(unit, owner, today: date):
    return sum((line.outstanding for line in owner_lines(unit_id=unit.pk, owner_id=owner.pk, today=today)
                if line.days_overdue > 0), ZERO)


def request_instalments(*, owner, unit, months: int, note: str = "", now=None) -> InstalmentRequest:
    now = now or timezone.now()
    note = note.strip()
    if months not in OWNER_PLAN_MONTHS:
        raise DomainError("分期月数须为 3–6 个月", "a plan runs 3 to 6 months", code="months")
    if len(note) > TEXT_LIMIT:
        raise DomainError(f"留言最多 {TEXT_LIMIT} 字", f"the note is at most {TEXT_LIMIT} characters", code="note")
    principal = _overdue_principal(unit, owner, timezone.localdate(now))
    if principal <= ZERO:
        raise DomainError("您目前没有逾期欠费，无需分期", "nothing is overdue: no plan is needed", code="nothing_owed")
    if InstalmentRequest.objects.filter(unit=unit, owner=owner, status=RequestStatus.REQUESTED).exists():
        raise DomainError("您已提交分期申请，请等待物业处理", "a request is already waiting for an answer", code="pending")
    try:
        with transaction.atomic():
            return InstalmentRequest.objects.create(community_id=unit.community_id, unit=unit, owner=owner, months=months,
                                                    total=principal, note=note, requested_at=now)
    except IntegrityError as exc:  # two taps at once: the partial unique constraint keeps one
        raise DomainError("您已提交分期申请，请等待物业处理", "a request is already waiting for an answer", code="pending") from exc


def accept_instalments(*, request: InstalmentRequest, staff, first_due: date, now=None) -> InstalmentRequest:
    """Staff agree: propose the plan on the owner's case and record it accepted on the owner's request."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if request.status != RequestStatus.REQUESTED:
        raise DomainError("该申请已处理", "the request was already answered", code="decided")
    if first_due < today:
        raise DomainError("首期日期不能早于今天", "the first instalment cannot be due in the past", code="first_due")
    case = Case.objects.filter(unit_id=request.unit_id, owner_id=request.owner_id, status=CaseStatus.OPEN).first()
    if case is None:
        raise DomainError("该业主没有进行中的催收案件（可能已缴清），无法建立分期",
                          "the owner has no open case (perhaps paid): no plan can be made", code="no_case")
    with transaction.atomic():
        plan = collection_services.propose_plan(case=case, first_due=first_due, staff=staff, months=request.months)
        # The owner's own request in the portal is the proof of their agreement to pay.
        collection_services.accept_plan(plan=plan, accepted_on=today, staff=staff, proof=limitation.Proof(
            kind=ProofKind.PORTAL, reference=f"portal instalment request #{request.pk}",
            note=f"{timezone.localtime(request.requested_at):%Y-%m-%d %H:%M}"))
        request.status, request.decided_by, request.decided_at, request.plan = RequestStatus.ACCEPTED, staff, now, plan
        request.save(update_fields=["status", "decided_by", "decided_at", "plan"])
        record(actor=staff, action="instalment_request_accepted", community_id=request.community_id, request=request.pk,
               plan=plan.pk)
    return request


def decline_instalments(*, request: InstalmentRequest, staff, note: str, now=None) -> InstalmentRequest:
    note = note.strip()
    if request.status != RequestStatus.REQUESTED:
        raise DomainError("该申请已处理", "the request was already answered", code="decided")
    if not note or len(note) > TEXT_LIMIT:
        raise DomainError("请写明不同意分期的原因（业主可见）", "give the reason (the owner will see it)", code="note")
    with transaction.atomic():
        request.status, request.decided_by, request.decided_at = RequestStatus.DECLINED, staff, now or timezone.now()
        request.decision_note = note
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        record(actor=staff, action="instalment_request_declined", community_id=request.community_id, request=request.pk)
    return request


def submit_complaint(*, owner, unit, text: str, charge_id: int | None = None, now=None) -> Complaint:
    now = now or timezone.now()
    today = timezone.localdate(now)
    text = text.strip()
    if not text or len(text) > TEXT_LIMIT:
        raise DomainError(f"请填写内容（最多 {TEXT_LIMIT} 字）", f"write what is wrong (at most {TEXT_LIMIT} characters)",
                          code="text")
    charge = None
    if charge_id is not None:
        lines = {line.charge_id for line in owner_lines(unit_id=unit.pk, owner_id=owner.pk, today=today)}
        if charge_id not in lines:
            raise DomainError("所选费用不存在或已结清", "the chosen charge is not open on this account", code="charge")
        charge = Charge.objects.get(pk=charge_id)
        if ChargeDispute.objects.filter(charge=charge, closed_on__isnull=True).exists():
            raise DomainError("该费用的异议正在处理中", "a dispute about this charge is already open", code="dispute_open")
    with transaction.atomic():
        ticket = ServiceTicket.objects.create(community_id=unit.community_id, unit=unit, kind=TicketKind.COMPLAINT,
                                              summary=text, opened_on=today)
        dispute = None
        if charge is not None:
            dispute = collection_services.open_dispute(charge=charge, reason=text, staff=None, opened_on=today, ticket=ticket)
        return Complaint.objects.create(community_id=unit.community_id, unit=unit, owner=owner, charge=charge, text=text,
                                        created_at=now, ticket=ticket, dispute=dispute)


def resolve_complaint(*, complaint: Complaint, staff, resolution: str, now=None) -> Complaint:
    """Staff answer: the ticket is closed, and the dispute (if any) closed with the same resolution."""
    today = timezone.localdate(now or timezone.now())
    closed = DomainError("该投诉已处理完毕", "the complaint is already resolved", code="closed")
    with transaction.atomic():
        # Locked, and resolved the way the ticket page resolves it (one history, one resolution): the
        # complaints page and the ticket page answering at once make one answer, not two.
        ticket = ServiceTicket.objects.select_for_update().get(pk=complaint.ticket_id)
        if ticket.closed_on is not None:
            raise closed
        tickets.change_status(ticket=ticket, status=TicketStatus.RESOLVED, staff=staff, today=today,
                              resolution=resolution)
        if complaint.dispute_id is not None:  # a dispute opened before disputes carried their ticket
            dispute = ChargeDispute.objects.select_for_update().get(pk=complaint.dispute_id)
            if dispute.closed_on is None:
                collection_services.close_dispute(dispute=dispute, resolution=resolution[:300], closed_on=today)
        record(actor=staff, action="complaint_resolved", community_id=complaint.community_id, complaint=complaint.pk)
    complaint.ticket.refresh_from_db()
    return complaint


def answer_survey(*, payment: Payment, payment_experience: str, service: str, comment: str = "", now=None) -> SurveyResponse:
    valid = set(Satisfaction.values)
    if payment_experience not in valid or service not in valid:
        raise DomainError("请选择满意程度", "choose an answer to both questions", code="answer")
    comment = comment.strip()
    if len(comment) > TEXT_LIMIT:
        raise DomainError(f"意见最多 {TEXT_LIMIT} 字", f"at most {TEXT_LIMIT} characters", code="comment")
    if SurveyResponse.objects.filter(payment=payment).exists():
        raise DomainError("您已评价过本次缴费，谢谢", "this payment was already rated, thank you", code="answered")
    try:
        with transaction.atomic():
            return SurveyResponse.objects.create(community_id=payment.community_id, payment=payment,
                                                 payment_experience=payment_experience, service=service, comment=comment,
                                                 answered_at=now or timezone.now())
    except IntegrityError as exc:
        raise DomainError("您已评价过本次缴费，谢谢", "this payment was already rated, thank you", code="answered") from exc


def default_first_due(today: date) -> date:
    return today + timedelta(days=7)
