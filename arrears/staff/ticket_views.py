"""Service tickets on the staff site, and the staff member's own profile (我的资料).

Thin views over `arrears.collection.tickets` and `arrears.core.profiles`; tickets are scoped like
units (another community's ticket is a 404), permissions come from the roles (core.roles).
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from arrears.collection import tickets as ticket_service
from arrears.core import profiles, roles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent, StaffProfile
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Satisfaction, TicketKind, TicketStatus
from arrears.staff.collection_views import _domain_message

PAGE_SIZE = 50
STATUS_FILTERS = ["active", *TicketStatus.values]


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _date(raw: str, *, field: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise DomainError("日期格式应为 年-月-日", "a date is year-month-day", code=field) from None


def _int(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


@login_required
def ticket_list(request):
    _require(request.user, "estate.view_serviceticket")
    today = timezone.localdate()
    status = request.GET.get("status", "active")
    status = status if status in STATUS_FILTERS or status == "all" else "active"
    kind = request.GET.get("kind", "")
    community_id = _int(request.GET.get("community"))
    mine = request.GET.get("mine") == "1"
    rows = ticket_service.ticket_list(request.user, today=today, status="" if status == "all" else status, kind=kind,
                                      community_id=community_id, mine=mine)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "staff/tickets.html", {
        "page": page, "today": today, "status": status, "kind": kind, "community_id": community_id, "mine": mine,
        "statuses": TicketStatus.choices, "kinds": TicketKind.choices,
        "communities": estate_selectors.communities_visible_to(request.user).order_by("name"),
    })


@login_required
def ticket_detail(request, pk):
    _require(request.user, "estate.view_serviceticket")
    ticket = get_object_or_404(ticket_service.tickets_visible_to(request.user)
                               .select_related("unit__building", "community", "assignee", "opened_by"), pk=pk)
    history = (AuditEvent.objects.filter(action__startswith="ticket.", detail__ticket=ticket.pk)
               .select_related("actor").order_by("at", "pk"))
    today = timezone.localdate()
    return render(request, "staff/ticket.html", {
        "ticket": ticket, "today": today, "history": history,
        "next_statuses": [s for s in TicketStatus if s in ticket_service.NEXT_STATUS[TicketStatus(ticket.status)]]
        if ticket.closed_on is None else [],
        "staff": ticket_service.assignable_staff(ticket) if request.user.has_perm("estate.assign_serviceticket") else [],
        "ratings": Satisfaction.choices,
        "pauses": ticket_service.pauses_collection(ticket),
        "disputes": list(ticket.disputes.all()),
    })


def _ticket_or_404(request, pk):
    return get_object_or_404(ticket_service.tickets_visible_to(request.user).select_related("unit"), pk=pk)


@login_required
@require_POST
def ticket_open(request, pk):
    """Open a ticket from the unit page."""
    _require(request.user, "estate.add_serviceticket")
    unit = get_object_or_404(estate_selectors.units_visible_to(request.user), pk=pk)
    try:
        assignee = None
        if request.user.has_perm("estate.assign_serviceticket") and _int(request.POST.get("assignee")):
            assignee = ticket_service.assignable_staff(unit).filter(pk=_int(request.POST.get("assignee"))).first()
            if assignee is None:
                raise DomainError("处理人须是负责该房屋的在职员工",
                                  "the assignee must be active staff whose scope covers the unit", code="assignee")
        ticket = ticket_service.open_ticket(
            unit=unit, kind=request.POST.get("kind", ""), summary=request.POST.get("summary", ""), staff=request.user,
            opened_on=timezone.localdate(), due_on=_date(request.POST.get("due_on"), field="due_on"), assignee=assignee,
        )
    except DomainError as error:
        messages.error(request, _domain_message(error))
        return redirect(reverse("staff:unit", args=[unit.pk]) + "#tickets")
    messages.success(request, _("已登记工单，办理期限 %(date)s。") % {"date": f"{ticket.due_on:%Y-%m-%d}"})
    return redirect("staff:ticket", pk=ticket.pk)


@login_required
@require_POST
def ticket_assign(request, pk):
    _require(request.user, "estate.assign_serviceticket")
    ticket = _ticket_or_404(request, pk)
    try:
        assignee = ticket_service.assignable_staff(ticket).filter(pk=_int(request.POST.get("assignee"))).first()
        if assignee is None:
            raise DomainError("处理人须是负责该房屋的在职员工",
                              "the assignee must be active staff whose scope covers the unit", code="assignee")
        ticket_service.assign_ticket(ticket=ticket, assignee=assignee, staff=request.user,
                                     due_on=_date(request.POST.get("due_on"), field="due_on"))
        messages.success(request, _("已指派给 %(name)s。") % {"name": roles.staff_name(assignee)})
    except DomainError as error:
        messages.error(request, _domain_message(error))
    return redirect("staff:ticket", pk=ticket.pk)


@login_required
@require_POST
def ticket_status(request, pk):
    _require(request.user, "estate.change_serviceticket")
    ticket = _ticket_or_404(request, pk)
    try:
        ticket_service.change_status(ticket=ticket, status=request.POST.get("status", ""), staff=request.user,
                                     today=timezone.localdate(), resolution=request.POST.get("resolution", ""))
        messages.success(request, _("工单状态已更新。"))
    except DomainError as error:
        messages.error(request, _domain_message(error))
    return redirect("staff:ticket", pk=ticket.pk)


@login_required
@require_POST
def ticket_rate(request, pk):
    _require(request.user, "estate.change_serviceticket")
    ticket = _ticket_or_404(request, pk)
    try:
        ticket_service.rate_ticket(ticket=ticket, satisfaction=request.POST.get("satisfaction", ""), staff=request.user)
        messages.success(request, _("已记录业主评价。"))
    except DomainError as error:
        messages.error(request, _domain_message(error))
    return redirect("staff:ticket", pk=ticket.pk)


@login_required
@require_http_methods(["GET", "POST"])
def my_profile(request):
    """我的资料: the real name and phone owners are given in scripts and letters."""
    user = request.user
    if request.method == "POST":
        try:
            profiles.update_staff_profile(
                user=user, last_name=request.POST.get("last_name", ""), first_name=request.POST.get("first_name", ""),
                title=request.POST.get("title", ""), office_phone=request.POST.get("office_phone", ""),
                extension=request.POST.get("extension", ""),
            )
            messages.success(request, _("资料已保存。"))
            return redirect("staff:my_profile")
        except DomainError as error:
            messages.error(request, _domain_message(error))
    profile = StaffProfile.objects.filter(user=user).first() or StaffProfile(user=user)
    values = request.POST if request.method == "POST" else {
        "last_name": user.last_name, "first_name": user.first_name, "title": profile.title,
        "office_phone": profile.office_phone, "extension": profile.extension,
    }
    return render(request, "staff/my_profile.html", {
        "values": values, "spoken_name": roles.staff_name(user), "spoken_phone": roles.staff_phone(user),
    }, status=400 if request.method == "POST" else 200)
