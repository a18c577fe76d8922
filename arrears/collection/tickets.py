"""Work service tickets (报修、投诉、整改): open, assign, start, resolve, take the owner's rating.

A ticket lives in estate; its workflow lives here because resolving one also closes the charge
disputes opened with it, and an open ticket is what pauses collection (assess.py reads an open
rectification; selectors read any open ticket; the run reads open disputes). "Open" means no
`closed_on`: resolving sets it, so the next run sees the pause lifted. Every status change,
assignment and rating is an audit event (who, when, from what to what).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Case as SqlCase
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.utils import translation

from arrears.collection import services as collection_services
from arrears.collection.models import ChargeDispute
from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import (
    Satisfaction,
    ServiceTicket,
    StaffScope,
    TicketKind,
    TicketStatus,
    Unit,
    ticket_due_days,
)

SUMMARY_LIMIT = ServiceTicket._meta.get_field("summary").max_length
RESOLUTION_LIMIT = 1000

# Where each status may go next: resolved is final (a wrong resolution is a new ticket).
NEXT_STATUS = {
    TicketStatus.OPEN: {TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED},
    TicketStatus.IN_PROGRESS: {TicketStatus.RESOLVED},
    TicketStatus.RESOLVED: set(),
}


due_days = ticket_due_days


def default_due_on(kind: str, opened_on: date) -> date:
    return opened_on + timedelta(days=due_days(kind))


# -- reads ---------------------------------------------------------------------------------------


def tickets_visible_to(user) -> QuerySet[ServiceTicket]:
    """Tickets of units in the user's scope; another community's ticket is simply not there (404)."""
    return ServiceTicket.objects.filter(unit__in=estate_selectors.units_visible_to(user))


def ticket_list(user, *, today: date, status: str = "", kind: str = "", community_id: int | None = None,
                mine: bool = False) -> QuerySet[ServiceTicket]:
    """The staff list: overdue first, then open by due date, then resolved (newest first)."""
    tickets = tickets_visible_to(user).select_related("unit__building", "community", "assignee")
    if status == "active":
        tickets = tickets.filter(closed_on__isnull=True)
    elif status in TicketStatus.values:
        tickets = tickets.filter(status=status)
    if kind in TicketKind.values:
        tickets = tickets.filter(kind=kind)
    if community_id:
        tickets = tickets.filter(community_id=community_id)
    if mine:
        tickets = tickets.filter(assignee_id=user.pk)
    rank = SqlCase(
        When(closed_on__isnull=True, due_on__lt=today, then=Value(0)),
        When(closed_on__isnull=True, then=Value(1)),
        default=Value(2), output_field=IntegerField(),
    )
    return tickets.annotate(rank=rank).order_by("rank", "due_on", "-closed_on", "-opened_on", "-pk")


def assignable_staff(ticket_or_unit) -> QuerySet:
    """Active staff whose scope covers the unit (its whole community or its building) and who may work
    tickets: the front desk has the unit in scope but never sees a ticket, so it is nobody's assignee."""
    unit = ticket_or_unit.unit if isinstance(ticket_or_unit, ServiceTicket) else ticket_or_unit
    covering = StaffScope.objects.filter(community_id=unit.community_id).filter(
        Q(building__isnull=True) | Q(building_id=unit.building_id))
    users = get_user_model().objects
    may_work = Permission.objects.filter(content_type__app_label="estate", codename="change_serviceticket")
    workers = users.filter(Q(is_superuser=True) | Q(groups__permissions__in=may_work)
                           | Q(user_permissions__in=may_work)).values("pk")
    return (users.filter(is_active=True, pk__in=covering.values("user_id")).filter(pk__in=workers)
            .select_related("staff_profile").order_by("last_name", "first_name", "pk"))


def unit_tickets(unit_id: int, *, today: date, limit: int = 10) -> list[ServiceTicket]:
    """The unit's tickets for its case panel: open ones first (they pause collection), then recent ones."""
    rows = (ServiceTicket.objects.filter(unit_id=unit_id).select_related("assignee")
            .prefetch_related("disputes")
            .annotate(rank=SqlCase(When(closed_on__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()))
            .order_by("rank", "-opened_on", "-pk")[:limit])
    return list(rows)


def pauses_collection(ticket: ServiceTicket) -> bool:
    """An open rectification (⑤) or an open ticket with an open charge dispute pauses collection."""
    if ticket.closed_on is not None:
        return False
    return ticket.kind == TicketKind.RECTIFICATION or any(d.closed_on is None for d in ticket.disputes.all())


def _english(label) -> str:
    """A choice's label for the English half of a refusal (never its code)."""
    with translation.override("en"):
        return str(label)


# -- writes --------------------------------------------------------------------------------------


def _check_assignee(unit: Unit, assignee) -> None:
    if assignee is not None and not assignable_staff(unit).filter(pk=assignee.pk).exists():
        raise DomainError("处理人须是负责该房屋的在职员工", "the assignee must be active staff whose scope covers the unit",
                          code="assignee")


def open_ticket(*, unit: Unit, kind: str, summary: str, staff, opened_on: date, due_on: date | None = None,
                assignee=None) -> ServiceTicket:
    """Open a ticket on a unit from the staff site; due by the kind's service level unless given."""
    summary = summary.strip()
    if kind not in TicketKind.values:
        raise DomainError("请选择工单类型", "choose the ticket's kind", code="kind")
    if not summary or len(summary) > SUMMARY_LIMIT:
        raise DomainError(f"请填写工单内容（最多 {SUMMARY_LIMIT} 字）", f"describe the ticket (at most {SUMMARY_LIMIT} characters)",
                          code="summary")
    due_on = due_on or default_due_on(kind, opened_on)
    if due_on < opened_on:
        raise DomainError("办理期限不能早于受理日期", "the due date cannot be before the day it was opened", code="due_on")
    _check_assignee(unit, assignee)
    with transaction.atomic():
        ticket = ServiceTicket.objects.create(
            community_id=unit.community_id, unit=unit, kind=kind, summary=summary, opened_on=opened_on, due_on=due_on,
            assignee=assignee, opened_by=staff if getattr(staff, "pk", None) else None,
        )
        record(actor=staff, action="ticket.open", community_id=unit.community_id, ticket=ticket.pk, kind=kind,
               assignee=getattr(assignee, "pk", None))
    return ticket


def _locked(ticket: ServiceTicket) -> ServiceTicket:
    return ServiceTicket.objects.select_for_update().get(pk=ticket.pk)


def assign_ticket(*, ticket: ServiceTicket, assignee, staff, due_on: date | None = None) -> ServiceTicket:
    """Give the ticket to a staff member (and optionally a new due date); not once it is resolved."""
    _check_assignee(ticket.unit, assignee)
    with transaction.atomic():
        current = _locked(ticket)
        if current.closed_on is not None:
            raise DomainError("工单已办结，不能再指派", "the ticket is resolved: it cannot be reassigned", code="closed")
        if due_on is not None and due_on < current.opened_on:
            raise DomainError("办理期限不能早于受理日期", "the due date cannot be before the day it was opened", code="due_on")
        before = current.assignee_id
        current.assignee = assignee
        fields = ["assignee"]
        if due_on is not None:
            current.due_on = due_on
            fields.append("due_on")
        current.save(update_fields=fields)
        record(actor=staff, action="ticket.assign", community_id=current.community_id, ticket=current.pk,
               before=before, after=getattr(assignee, "pk", None), due_on=f"{current.due_on}" if current.due_on else None)
    return current


def change_status(*, ticket: ServiceTicket, status: str, staff, today: date, resolution: str = "") -> ServiceTicket:
    """Move a ticket on (open → in progress → resolved). Resolving needs a note, sets closed_on (the
    pause on collection ends with it) and closes the charge disputes opened with the ticket."""
    resolution = resolution.strip()
    if status not in TicketStatus.values:
        raise DomainError("未知的工单状态", "unknown ticket status", code="status")
    with transaction.atomic():
        current = _locked(ticket)
        if current.closed_on is not None and current.status != TicketStatus.RESOLVED:
            current.status = TicketStatus.RESOLVED  # closed elsewhere (the portal's complaint answer)
        if status not in NEXT_STATUS[TicketStatus(current.status)]:
            raise DomainError(
                f"工单当前为“{current.get_status_display()}”，不能改为“{TicketStatus(status).label}”",
                f"a ticket that is {_english(TicketStatus(current.status).label)} cannot become "
                f"{_english(TicketStatus(status).label)}", code="status",
            )
        before = current.status
        current.status = status
        fields = ["status"]
        if status == TicketStatus.RESOLVED:
            if not resolution or len(resolution) > RESOLUTION_LIMIT:
                raise DomainError(f"请填写处理结果（最多 {RESOLUTION_LIMIT} 字）",
                                  f"give the resolution (at most {RESOLUTION_LIMIT} characters)", code="resolution")
            current.closed_on, current.resolution = max(today, current.opened_on), resolution
            fields += ["closed_on", "resolution"]
        current.save(update_fields=fields)
        if status == TicketStatus.RESOLVED:
            for dispute in ChargeDispute.objects.filter(ticket_id=current.pk, closed_on__isnull=True).order_by("pk"):
                collection_services.close_dispute(dispute=dispute, resolution=resolution[:300],
                                                  closed_on=max(current.closed_on, dispute.opened_on))
        record(actor=staff, action="ticket.status", community_id=current.community_id, ticket=current.pk,
               before=before, after=status)
    return current


def rate_ticket(*, ticket: ServiceTicket, satisfaction: str, staff) -> ServiceTicket:
    """Record the owner's rating of a resolved ticket (满意/一般/不满意)."""
    if satisfaction not in Satisfaction.values:
        raise DomainError("请选择业主评价", "choose the owner's rating", code="satisfaction")
    with transaction.atomic():
        current = _locked(ticket)
        if current.closed_on is None:
            raise DomainError("工单办结后才能记录业主评价", "the owner rates a ticket once it is resolved", code="open")
        if current.satisfaction == satisfaction:
            return current  # the same answer sent twice (double tap, back and resend): already on record
        if current.satisfaction:
            raise DomainError(f"业主评价已记录为“{current.get_satisfaction_display()}”，不能更改",
                              f"the owner's rating is already on record ({_english(Satisfaction(current.satisfaction).label)}): "
                              "it cannot be changed",
                              code="rated")
        before = current.satisfaction
        current.satisfaction = satisfaction
        current.save(update_fields=["satisfaction"])
        record(actor=staff, action="ticket.rate", community_id=current.community_id, ticket=current.pk,
               before=before, after=satisfaction)
    return current
