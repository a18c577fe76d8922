"""Break-it: an owner's complaint answered on the complaints page and on the ticket page at once
closes the ticket and its dispute once, and the ticket's history shows who resolved it."""

import threading
from datetime import date

import pytest
from django.db import connection, connections

from arrears.collection import tickets
from arrears.collection.models import ChargeDispute
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.estate.models import ServiceTicket, StaffScope
from arrears.ledger.models import Charge
from arrears.portal import requests as owner_requests
from tests import factories


def _complaint(estate):
    charge = Charge.objects.filter(unit=estate["unit"], owner=estate["owner"], settled_on__isnull=True).order_by("due_date")[1]
    return owner_requests.submit_complaint(owner=estate["owner"], unit=estate["unit"], text="二月份电梯停了三周",
                                           charge_id=charge.pk)


def _manager(estate):
    user = factories.user("manager", groups=[roles.MANAGER], last_name="王", first_name="芳")
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


@pytest.mark.django_db
def test_answering_a_complaint_is_a_step_in_its_tickets_history(estate):
    complaint, manager = _complaint(estate), _manager(estate)
    owner_requests.resolve_complaint(complaint=complaint, staff=manager, resolution="核实后减免")
    ticket = ServiceTicket.objects.get()
    assert (ticket.status, ticket.closed_on, ticket.resolution) == ("resolved", date(2026, 5, 10), "核实后减免")
    assert list(AuditEvent.objects.filter(action="ticket.status", detail__ticket=ticket.pk)
                .values_list("actor", "detail__after")) == [(manager.pk, "resolved")]
    with pytest.raises(DomainError) as refused:
        owner_requests.resolve_complaint(complaint=complaint, staff=manager, resolution="再答一次")
    assert refused.value.code == "closed"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles migrations create survive
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections answering at once need PostgreSQL")
def test_the_complaint_page_and_the_ticket_page_resolving_at_once_make_one_resolution(estate):
    complaint, manager = _complaint(estate), _manager(estate)
    barrier, outcomes = threading.Barrier(2), []

    def on_complaints_page():
        try:
            barrier.wait()
            owner_requests.resolve_complaint(complaint=type(complaint).objects.get(pk=complaint.pk), staff=manager,
                                             resolution="投诉页答复")
            outcomes.append("ok")
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connections.close_all()

    def on_ticket_page():
        try:
            barrier.wait()
            tickets.change_status(ticket=ServiceTicket.objects.get(pk=complaint.ticket_id), status="resolved",
                                  staff=manager, today=date(2026, 5, 10), resolution="工单页答复")
            outcomes.append("ok")
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=on_complaints_page), threading.Thread(target=on_ticket_page)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1, outcomes
    assert AuditEvent.objects.filter(action="ticket.status", detail__ticket=complaint.ticket_id).count() == 1
    dispute = ChargeDispute.objects.get()
    assert dispute.resolution == ServiceTicket.objects.get().resolution[:300]
