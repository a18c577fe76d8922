"""Service tickets on the staff site: scoped list, open from the unit page, assign, move on, rate."""

from datetime import date

import pytest
from django.urls import reverse

from arrears.collection import tickets
from arrears.core import roles
from arrears.core.models import AuditEvent, StaffProfile
from arrears.estate.models import ServiceTicket, StaffScope
from tests import factories


@pytest.fixture
def manager(estate):
    user = factories.user("boss", groups=[roles.MANAGER], last_name="王", first_name="经理")
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


@pytest.fixture
def ticket(estate, insider):
    return tickets.open_ticket(unit=estate["unit"], kind="rectification", summary="外墙渗水", staff=insider,
                               opened_on=date(2026, 5, 1))


def test_it_opens_a_ticket_from_the_unit_page_due_by_its_kind(client, insider, estate, today, settings):
    settings.ARREARS_TICKET_DUE_DAYS = {"repair": 3}
    client.force_login(insider)
    page = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    assert 'data-testid="ticket-form"' in page
    response = client.post(reverse("staff:ticket_open", args=[estate["unit"].pk]), {"kind": "repair", "summary": "灯坏了"})
    created = ServiceTicket.objects.get()
    assert response.status_code == 302 and response.url == reverse("staff:ticket", args=[created.pk])
    assert (created.due_on, created.opened_by, created.status, created.community) == (
        date(2026, 5, 13), insider, "open", estate["community"])


def test_another_communitys_ticket_is_not_there(client, outsider, neighbour, ticket):
    for who in (outsider, neighbour):
        client.force_login(who)
        assert client.get(reverse("staff:ticket", args=[ticket.pk])).status_code == 404
        assert client.post(reverse("staff:ticket_status", args=[ticket.pk]), {"status": "in_progress"}).status_code == 404
        assert client.get(reverse("staff:tickets")).context["page"].paginator.count == 0
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_the_front_desk_sees_no_tickets(client, front_desk, ticket):
    client.force_login(front_desk)
    assert client.get(reverse("staff:tickets")).status_code == 403


def test_a_collector_resolves_and_the_case_panel_shows_the_pause_lifted(client, insider, estate, ticket, today):
    client.force_login(insider)
    unit_page = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    assert "外墙渗水" in unit_page and "催缴已暂停" in unit_page
    client.post(reverse("staff:ticket_status", args=[ticket.pk]), {"status": "in_progress"})
    client.post(reverse("staff:ticket_status", args=[ticket.pk]), {"status": "resolved", "resolution": "已修复外墙"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.closed_on, ticket.resolution) == ("resolved", today, "已修复外墙")
    unit_page = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    assert "催缴已暂停" not in unit_page and "已办结" in unit_page
    client.post(reverse("staff:ticket_rate", args=[ticket.pk]), {"satisfaction": "satisfied"})
    ticket.refresh_from_db()
    assert ticket.satisfaction == "satisfied"
    detail = client.get(reverse("staff:ticket", args=[ticket.pk])).content.decode()
    assert "状态 待处理 → 处理中" in detail and "业主评价：满意" in detail


def test_resolving_without_a_note_says_why(client, insider, ticket):
    client.force_login(insider)
    response = client.post(reverse("staff:ticket_status", args=[ticket.pk]), {"status": "resolved"}, follow=True)
    assert "请填写处理结果" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.closed_on is None


def test_only_a_manager_assigns(client, insider, manager, ticket):
    client.force_login(insider)
    assert client.post(reverse("staff:ticket_assign", args=[ticket.pk]), {"assignee": insider.pk}).status_code == 403
    client.force_login(manager)
    client.post(reverse("staff:ticket_assign", args=[ticket.pk]), {"assignee": insider.pk, "due_on": "2026-05-20"})
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.due_on) == (insider, date(2026, 5, 20))
    assert AuditEvent.objects.filter(action="ticket.assign", actor=manager).count() == 1


def test_the_list_shows_overdue_first_and_filters(client, insider, estate, ticket, today):
    late = tickets.open_ticket(unit=estate["unit"], kind="repair", summary="灯坏了", staff=insider,
                               opened_on=date(2026, 5, 1))  # due 05-04: overdue on 05-10
    client.force_login(insider)
    rows = list(client.get(reverse("staff:tickets")).context["page"])
    assert [t.pk for t in rows] == [late.pk, ticket.pk]
    rows = list(client.get(reverse("staff:tickets"), {"kind": "rectification"}).context["page"])
    assert [t.pk for t in rows] == [ticket.pk]


def test_the_list_does_not_grow_its_queries_with_its_rows(client, insider, estate, ticket, django_assert_max_num_queries):
    for n in range(10):
        tickets.open_ticket(unit=estate["unit"], kind="repair", summary=f"报修{n}", staff=insider, opened_on=date(2026, 5, 2))
    client.force_login(insider)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("staff:tickets")).status_code == 200


def test_staff_edit_their_own_name_and_extension(client, insider):
    client.force_login(insider)
    response = client.post(reverse("staff:my_profile"), {"last_name": "李", "first_name": "明", "title": "管家",
                                                         "office_phone": "021-55550000", "extension": "8012"})
    assert response.status_code == 302
    insider.refresh_from_db()
    profile = StaffProfile.objects.get(user=insider)
    assert (insider.last_name, insider.first_name, profile.title, profile.office_phone, profile.extension) == (
        "李", "明", "管家", "021-55550000", "8012")
    page = client.get(reverse("staff:my_profile")).content.decode()
    assert "话术中的称呼：<span lang=\"zh-hans\">李明</span>" in page and "021-55550000 转 8012" in page


def test_a_bad_extension_is_refused_with_the_reason(client, insider):
    client.force_login(insider)
    response = client.post(reverse("staff:my_profile"), {"last_name": "李", "first_name": "明", "extension": "八零"})
    assert response.status_code == 400 and "分机号只能是数字" in response.content.decode()
    assert not StaffProfile.objects.filter(user=insider).exists()


def test_the_ticket_pages_speak_one_language(client, insider, estate, ticket):
    client.force_login(insider)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    listing = client.get(reverse("staff:tickets")).content.decode()
    detail = client.get(reverse("staff:ticket", args=[ticket.pk])).content.decode()
    profile = client.get(reverse("staff:my_profile")).content.decode()
    assert "Due date" in listing and "Mine only" in listing and "Start work" in detail and "Family name" in profile
    for text in ("办理期限", "只看我的", "开始处理", "办理记录", "我的资料", "业主看到的"):
        assert text not in listing + detail + profile, text
