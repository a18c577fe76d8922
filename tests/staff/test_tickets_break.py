"""Break-it on the ticket pages: another community's ids, the front desk, markup in the texts staff
read, and an audit step for every change."""

from datetime import date

import pytest
from django.urls import reverse

from arrears.collection import tickets
from arrears.core import roles
from arrears.core.models import AuditEvent
from arrears.estate.models import ServiceTicket, StaffScope
from tests import factories

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def manager(estate):
    user = factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


def test_another_communitys_unit_or_colleague_is_refused_and_nothing_is_written(client, estate, insider, manager):
    far_manager = factories.user("far", groups=[roles.MANAGER])
    far_unit = estate["far_unit"]
    StaffScope.objects.create(user=far_manager, community=far_unit.community)
    client.force_login(manager)
    assert client.post(reverse("staff:ticket_open", args=[far_unit.pk]), {"kind": "repair", "summary": "x"}).status_code == 404
    response = client.post(reverse("staff:ticket_open", args=[estate["unit"].pk]),
                           {"kind": "repair", "summary": "灯坏了", "assignee": far_manager.pk}, follow=True)
    assert "处理人须是负责该房屋的在职员工" in response.content.decode()
    assert not ServiceTicket.objects.exists()
    ticket = tickets.open_ticket(unit=estate["unit"], kind="repair", summary="灯坏了", staff=insider, opened_on=date(2026, 5, 10))
    client.post(reverse("staff:ticket_assign", args=[ticket.pk]), {"assignee": far_manager.pk})
    client.force_login(far_manager)
    for name, data in (("ticket_assign", {"assignee": far_manager.pk}), ("ticket_status", {"status": "in_progress"}),
                       ("ticket_rate", {"satisfaction": "satisfied"})):
        assert client.post(reverse(f"staff:{name}", args=[ticket.pk]), data).status_code == 404
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (None, "open")
    assert list(AuditEvent.objects.filter(action__startswith="ticket.").values_list("action", flat=True)) == ["ticket.open"]


def test_the_front_desk_cannot_read_or_move_a_ticket(client, estate, insider, front_desk):
    ticket = tickets.open_ticket(unit=estate["unit"], kind="complaint", summary="噪音扰民", staff=insider,
                                 opened_on=date(2026, 5, 10))
    client.force_login(front_desk)
    assert client.get(reverse("staff:ticket", args=[ticket.pk])).status_code == 403
    for name, data in (("ticket_status", {"status": "in_progress"}), ("ticket_rate", {"satisfaction": "satisfied"}),
                       ("ticket_assign", {"assignee": front_desk.pk})):
        assert client.post(reverse(f"staff:{name}", args=[ticket.pk]), data).status_code == 403
    assert client.post(reverse("staff:ticket_open", args=[estate["unit"].pk]), {"kind": "repair", "summary": "x"}).status_code == 403
    assert ServiceTicket.objects.count() == 1
    page = client.get(reverse("staff:desk"), {"q": "1201"}).content.decode()
    assert "1201" in page and "噪音扰民" not in page


def test_markup_in_a_summary_or_resolution_reaches_colleagues_as_text(client, estate, insider, manager):
    client.force_login(insider)
    client.post(reverse("staff:ticket_open", args=[estate["unit"].pk]), {"kind": "complaint", "summary": SCRIPT})
    ticket = ServiceTicket.objects.get()
    client.post(reverse("staff:ticket_status", args=[ticket.pk]),
                {"status": "resolved", "resolution": '<img src=x onerror="alert(2)">'})
    client.force_login(manager)
    for url in (reverse("staff:tickets") + "?status=all", reverse("staff:ticket", args=[ticket.pk]),
                reverse("staff:unit", args=[estate["unit"].pk])):
        page = client.get(url).content.decode()
        assert "<script>alert(1)" not in page and "<img src=x" not in page, url
        assert "&lt;script&gt;alert(1)" in page, url


def test_every_step_is_an_audit_event_in_order(client, estate, insider, manager):
    client.force_login(manager)
    client.post(reverse("staff:ticket_open", args=[estate["unit"].pk]), {"kind": "repair", "summary": "灯坏了"})
    ticket = ServiceTicket.objects.get()
    client.post(reverse("staff:ticket_assign", args=[ticket.pk]), {"assignee": insider.pk})
    client.force_login(insider)
    client.post(reverse("staff:ticket_status", args=[ticket.pk]), {"status": "in_progress"})
    client.post(reverse("staff:ticket_status", args=[ticket.pk]), {"status": "open"})  # back: refused, not recorded
    client.post(reverse("staff:ticket_rate", args=[ticket.pk]), {"satisfaction": "satisfied"})  # before resolution: refused
    client.post(reverse("staff:ticket_status", args=[ticket.pk]), {"status": "resolved", "resolution": "已换灯"})
    client.post(reverse("staff:ticket_status", args=[ticket.pk]), {"status": "resolved", "resolution": "再次"})  # resent
    client.post(reverse("staff:ticket_rate", args=[ticket.pk]), {"satisfaction": "neutral"})
    steps = list(AuditEvent.objects.filter(detail__ticket=ticket.pk).order_by("pk")
                 .values_list("action", "actor", "detail__after"))
    assert steps == [("ticket.open", manager.pk, None), ("ticket.assign", manager.pk, insider.pk),
                     ("ticket.status", insider.pk, "in_progress"), ("ticket.status", insider.pk, "resolved"),
                     ("ticket.rate", insider.pk, "neutral")]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution, ticket.satisfaction) == ("resolved", "已换灯", "neutral")
