"""Service tickets: due dates by kind, who may be assigned, open → in progress → resolved, the
owner's rating, and the pause on collection that ends when a ticket is resolved."""

from datetime import date

import pytest

from arrears.collection import tickets
from arrears.collection.models import Case, ChargeDispute
from arrears.collection.run import run_collection
from arrears.collection.services import open_dispute
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.estate.models import Contact, ServiceTicket, StaffScope, TicketStatus
from arrears.ledger import services
from arrears.ledger.models import Charge
from tests import factories

pytestmark = pytest.mark.django_db

MAY_10 = date(2026, 5, 10)


@pytest.fixture
def unit():
    community = factories.community()
    return factories.unit(community, building="3栋", room="1201")


@pytest.fixture
def collector(unit):
    user = factories.user("li", groups=[roles.COLLECTOR], last_name="李", first_name="明")
    StaffScope.objects.create(user=user, community=unit.community)
    return user


def test_it_gives_each_kind_its_default_due_date(unit, collector, settings):
    settings.ARREARS_TICKET_DUE_DAYS = {"repair": 3, "complaint": 7, "rectification": 30}
    due = {kind: tickets.open_ticket(unit=unit, kind=kind, summary="渗水", staff=collector, opened_on=MAY_10).due_on
           for kind in ("repair", "complaint", "rectification")}
    assert due == {"repair": date(2026, 5, 13), "complaint": date(2026, 5, 17), "rectification": date(2026, 6, 9)}


def test_it_keeps_the_plain_create_working_as_an_open_ticket(unit, settings):
    settings.ARREARS_TICKET_DUE_DAYS = {"repair": 3}
    ticket = ServiceTicket.objects.create(community=unit.community, unit=unit, kind="repair", summary="灯坏了",
                                          opened_on=MAY_10)
    assert (ticket.status, ticket.due_on, ticket.assignee, ticket.resolution, ticket.is_open) == (
        "open", date(2026, 5, 13), None, "", True)  # due by its kind (报修: 3 days)


def test_it_refuses_an_assignee_outside_the_units_scope(unit, collector):
    stranger = factories.user("far", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=stranger, community=factories.community("翠湖苑", company_obj=unit.community.company))
    ticket = tickets.open_ticket(unit=unit, kind="repair", summary="灯坏了", staff=collector, opened_on=MAY_10)
    with pytest.raises(DomainError) as refused:
        tickets.assign_ticket(ticket=ticket, assignee=stranger, staff=collector)
    assert refused.value.code == "assignee"
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_it_moves_a_ticket_on_and_records_each_step(unit, collector):
    ticket = tickets.open_ticket(unit=unit, kind="complaint", summary="电梯噪音", staff=collector, opened_on=MAY_10)
    tickets.assign_ticket(ticket=ticket, assignee=collector, staff=collector, due_on=date(2026, 5, 12))
    tickets.change_status(ticket=ticket, status="in_progress", staff=collector, today=MAY_10)
    tickets.change_status(ticket=ticket, status="resolved", staff=collector, today=date(2026, 5, 11),
                          resolution="已更换电梯导轨")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.closed_on, ticket.resolution, ticket.due_on) == (
        "resolved", date(2026, 5, 11), "已更换电梯导轨", date(2026, 5, 12))
    steps = AuditEvent.objects.filter(action__startswith="ticket.").order_by("pk")
    assert [(e.action, e.detail.get("before"), e.detail.get("after"), e.actor_id) for e in steps] == [
        ("ticket.open", None, None, collector.pk),
        ("ticket.assign", None, collector.pk, collector.pk),
        ("ticket.status", "open", "in_progress", collector.pk),
        ("ticket.status", "in_progress", "resolved", collector.pk),
    ]


def test_it_refuses_to_resolve_without_a_note_or_to_reopen(unit, collector):
    ticket = tickets.open_ticket(unit=unit, kind="repair", summary="灯坏了", staff=collector, opened_on=MAY_10)
    with pytest.raises(DomainError) as no_note:
        tickets.change_status(ticket=ticket, status="resolved", staff=collector, today=MAY_10, resolution="  ")
    ticket.refresh_from_db()
    assert no_note.value.code == "resolution" and (ticket.status, ticket.closed_on) == ("open", None)
    tickets.change_status(ticket=ticket, status="resolved", staff=collector, today=MAY_10, resolution="已换灯泡")
    with pytest.raises(DomainError) as reopen:
        tickets.change_status(ticket=ticket, status="in_progress", staff=collector, today=MAY_10)
    assert reopen.value.code == "status" and "已办结" in reopen.value.zh


def test_it_takes_the_owners_rating_only_once_resolved(unit, collector):
    ticket = tickets.open_ticket(unit=unit, kind="repair", summary="灯坏了", staff=collector, opened_on=MAY_10)
    with pytest.raises(DomainError):
        tickets.rate_ticket(ticket=ticket, satisfaction="satisfied", staff=collector)
    tickets.change_status(ticket=ticket, status="resolved", staff=collector, today=MAY_10, resolution="已换灯泡")
    tickets.rate_ticket(ticket=ticket, satisfaction="unsatisfied", staff=collector)
    ticket.refresh_from_db()
    assert ticket.satisfaction == "unsatisfied"


def test_resolving_closes_the_charge_dispute_opened_with_the_ticket(unit, collector):
    factories.owner(unit)
    factories.tariff(unit.community)
    services.bill(through=date(2026, 4, 1))
    charge = Charge.objects.order_by("pk").first()
    ticket = tickets.open_ticket(unit=unit, kind="complaint", summary="面积算错", staff=collector, opened_on=MAY_10)
    dispute = open_dispute(charge=charge, reason="面积算错", staff=collector, opened_on=MAY_10, ticket=ticket)
    assert tickets.pauses_collection(ticket)
    tickets.change_status(ticket=ticket, status="resolved", staff=collector, today=MAY_10, resolution="已复核面积无误")
    dispute.refresh_from_db()
    ticket.refresh_from_db()
    assert (dispute.closed_on, dispute.resolution) == (MAY_10, "已复核面积无误")
    assert not tickets.pauses_collection(ticket)
    assert not ChargeDispute.objects.filter(closed_on__isnull=True).exists()


def test_a_resolved_rectification_no_longer_counts_in_the_run(unit, collector):
    owner = factories.owner(unit)
    Contact.objects.create(community=unit.community, owner=owner, kind="mobile", value="13800001234")
    factories.tariff(unit.community)
    services.bill(through=date(2026, 1, 1))
    ticket = tickets.open_ticket(unit=unit, kind="rectification", summary="外墙渗水", staff=collector,
                                 opened_on=date(2025, 12, 1))
    run_collection(as_of=date(2026, 1, 6))
    assert "4" in Case.objects.get().situations.split(",")  # 4: the unit has rectification issues
    tickets.change_status(ticket=ticket, status="resolved", staff=collector, today=date(2026, 1, 7), resolution="已修复")
    run_collection(as_of=date(2026, 1, 7))
    assert "4" not in Case.objects.get().situations.split(",")


def test_the_list_puts_overdue_tickets_first(unit, collector):
    late = tickets.open_ticket(unit=unit, kind="repair", summary="逾期", staff=collector, opened_on=date(2026, 5, 1))
    soon = tickets.open_ticket(unit=unit, kind="rectification", summary="未到期", staff=collector, opened_on=date(2026, 5, 1))
    done = tickets.open_ticket(unit=unit, kind="repair", summary="已办结", staff=collector, opened_on=date(2026, 5, 2))
    tickets.change_status(ticket=done, status="resolved", staff=collector, today=MAY_10, resolution="好了")
    rows = list(tickets.ticket_list(collector, today=MAY_10, status=""))
    assert [t.pk for t in rows] == [late.pk, soon.pk, done.pk]
    assert [t.pk for t in tickets.ticket_list(collector, today=MAY_10, status="active")] == [late.pk, soon.pk]
    assert [t.pk for t in tickets.ticket_list(collector, today=MAY_10, status=TicketStatus.RESOLVED)] == [done.pk]
