"""Service tickets on other pages: the unit page's ticket panel, a ticket's history in words."""

from django import template
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from arrears.collection import tickets as ticket_service
from arrears.core import roles
from arrears.estate.models import Satisfaction, TicketKind, TicketStatus

register = template.Library()


@register.inclusion_tag("staff/_tickets.html", takes_context=True)
def unit_tickets(context, unit):
    """The unit's tickets (open first) with a form to open one: for staff who may see tickets."""
    user = context["request"].user
    if not user.has_perm("estate.view_serviceticket"):
        return {"visible": False}
    today = timezone.localdate()
    rows = ticket_service.unit_tickets(unit.pk, today=today)
    return {
        "visible": True, "unit": unit, "today": today, "perms": context.get("perms"), "csrf_token": context.get("csrf_token"),
        "rows": [(ticket, ticket_service.pauses_collection(ticket)) for ticket in rows],
        "kinds": TicketKind.choices,
        "due_days": {kind: ticket_service.due_days(kind) for kind in TicketKind.values},
        "staff": ticket_service.assignable_staff(unit) if user.has_perm("estate.assign_serviceticket") else [],
    }


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "—"


@register.simple_tag
def ticket_event_text(event) -> str:
    """One line of a ticket's history: what changed, from what to what."""
    detail = event.detail or {}
    if event.action == "ticket.open":
        return _("登记工单（%(kind)s）") % {"kind": _label(TicketKind, detail.get("kind"))}
    if event.action == "ticket.status":
        return _("状态 %(before)s → %(after)s") % {"before": _label(TicketStatus, detail.get("before")),
                                                  "after": _label(TicketStatus, detail.get("after"))}
    if event.action == "ticket.assign":
        person = get_user_model().objects.filter(pk=detail.get("after")).first()
        name = roles.staff_label(person)
        return _("指派给 %(name)s") % {"name": name}
    if event.action == "ticket.rate":
        return _("业主评价：%(rating)s") % {"rating": _label(Satisfaction, detail.get("after"))}
    return event.action
