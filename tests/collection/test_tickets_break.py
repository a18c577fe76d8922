"""Break-it on service tickets (issue 14): who may be assigned, a rating is given once, a dispute
opened with a ticket pauses the run until the ticket is resolved, two resolutions at once."""

import threading
from datetime import date

import pytest
from django.db import connection, connections

from arrears.collection import tickets
from arrears.collection.models import CaseStep, ChargeDispute
from arrears.collection.run import run_collection
from arrears.collection.services import close_dispute, open_dispute
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.estate.models import Contact, ServiceTicket, StaffScope
from arrears.ledger import services
from arrears.ledger.models import Charge
from tests import factories

MAY_10 = date(2026, 5, 10)


@pytest.fixture
def unit(db):
    return factories.unit(factories.community(), building="3栋", room="1201")


@pytest.fixture
def collector(unit):
    user = factories.user("li", groups=[roles.COLLECTOR], last_name="李", first_name="明")
    StaffScope.objects.create(user=user, community=unit.community)
    return user


@pytest.fixture
def ticket(unit, collector):
    return tickets.open_ticket(unit=unit, kind="complaint", summary="噪音", staff=collector, opened_on=MAY_10)


@pytest.mark.django_db
def test_the_front_desk_is_not_someone_a_ticket_can_be_given_to(unit, collector, ticket):
    """The gate has the unit in scope but may not see tickets: it never appears as an assignee."""
    gate = factories.user("gate", groups=[roles.FRONT_DESK])
    StaffScope.objects.create(user=gate, community=unit.community)
    nobody = factories.user("norole")  # a login with a scope and no staff role
    StaffScope.objects.create(user=nobody, community=unit.community)
    assert list(tickets.assignable_staff(unit)) == [collector]
    for person in (gate, nobody):
        with pytest.raises(DomainError) as refused:
            tickets.assign_ticket(ticket=ticket, assignee=person, staff=collector)
        assert refused.value.code == "assignee"
        with pytest.raises(DomainError):
            tickets.open_ticket(unit=unit, kind="repair", summary="灯坏了", staff=collector, opened_on=MAY_10,
                                assignee=person)
    ticket.refresh_from_db()
    assert ticket.assignee is None and ServiceTicket.objects.count() == 1
    assert not AuditEvent.objects.filter(action="ticket.assign").exists()


@pytest.mark.django_db
def test_the_owners_rating_is_taken_once(ticket, collector):
    tickets.change_status(ticket=ticket, status="resolved", staff=collector, today=MAY_10, resolution="已协调")
    tickets.rate_ticket(ticket=ticket, satisfaction="unsatisfied", staff=collector)
    tickets.rate_ticket(ticket=ticket, satisfaction="unsatisfied", staff=collector)  # the form sent twice: no harm
    with pytest.raises(DomainError) as refused:
        tickets.rate_ticket(ticket=ticket, satisfaction="satisfied", staff=collector)  # "improving" the rating later
    assert refused.value.code == "rated" and "已记录" in refused.value.zh
    ticket.refresh_from_db()
    assert ticket.satisfaction == "unsatisfied"
    assert AuditEvent.objects.filter(action="ticket.rate").count() == 1


def _paying_unit_with_a_disputed_charge(unit, collector):
    owner = factories.owner(unit)
    Contact.objects.create(community=unit.community, owner=owner, kind="mobile", value="13800001234")
    factories.tariff(unit.community)
    services.bill(through=date(2026, 1, 1))  # one charge, due 2026-01-05
    ticket = tickets.open_ticket(unit=unit, kind="complaint", summary="面积算错", staff=collector,
                                 opened_on=date(2026, 1, 6))
    open_dispute(charge=Charge.objects.get(), reason="面积算错", staff=collector, opened_on=date(2026, 1, 6),
                 ticket=ticket)
    return ticket


@pytest.mark.django_db
def test_an_open_ticket_keeps_its_dispute_pause_and_resolving_it_ends_the_pause_in_the_next_run(unit, collector):
    ticket = _paying_unit_with_a_disputed_charge(unit, collector)
    for day in (date(2026, 1, 6), date(2026, 1, 20), date(2026, 2, 20)):
        run_collection(as_of=day)
    assert CaseStep.objects.count() == 0  # every overdue charge disputed: nothing fired while the ticket is open
    tickets.change_status(ticket=ticket, status="resolved", staff=collector, today=date(2026, 2, 21),
                          resolution="已复核面积无误")
    run_collection(as_of=date(2026, 2, 21))
    assert CaseStep.objects.count() > 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles migrations create survive
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections resolving at once need PostgreSQL")
def test_two_resolutions_at_once_make_one(unit, collector, ticket):
    barrier, outcomes = threading.Barrier(2), []

    def resolve(note):
        try:
            barrier.wait()
            tickets.change_status(ticket=ServiceTicket.objects.get(pk=ticket.pk), status="resolved", staff=collector,
                                  today=MAY_10, resolution=note)
            outcomes.append("ok")
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=resolve, args=(note,)) for note in ("甲处理", "乙处理")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "status"]
    assert AuditEvent.objects.filter(action="ticket.status", detail__ticket=ticket.pk).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles migrations create survive
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections closing at once need PostgreSQL")
def test_two_pages_closing_one_dispute_at_once_close_it_once(unit, collector):
    ticket = _paying_unit_with_a_disputed_charge(unit, collector)
    dispute = ChargeDispute.objects.get(ticket=ticket)
    barrier, outcomes = threading.Barrier(2), []

    def close(note):
        try:
            barrier.wait()
            close_dispute(dispute=ChargeDispute.objects.get(pk=dispute.pk), resolution=note, closed_on=date(2026, 2, 1))
            outcomes.append(note)
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=close, args=(note,)) for note in ("甲", "乙")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "dispute_closed" in outcomes, outcomes
    dispute.refresh_from_db()
    assert [dispute.resolution] == [o for o in outcomes if o != "dispute_closed"]


@pytest.mark.django_db
def test_a_refused_step_names_statuses_and_ratings_by_their_labels_in_english(ticket, collector):
    tickets.change_status(ticket=ticket, status="resolved", staff=collector, today=MAY_10, resolution="已协调")
    tickets.rate_ticket(ticket=ticket, satisfaction="neutral", staff=collector)
    with pytest.raises(DomainError) as moved:
        tickets.change_status(ticket=ticket, status="in_progress", staff=collector, today=MAY_10)
    with pytest.raises(DomainError) as rerated:
        tickets.rate_ticket(ticket=ticket, satisfaction="satisfied", staff=collector)
    assert moved.value.en == "a ticket that is Resolved cannot become In progress"
    assert "(Neutral)" in rerated.value.en and "neutral" not in rerated.value.en
