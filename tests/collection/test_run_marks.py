"""A same-date rerun redoes only the communities whose data moved since the run (collection/marks.py)."""

from datetime import date
from decimal import Decimal as D

import pytest
import time_machine

from arrears.collection.models import Case, CaseStatus, CollectionRun, CollectorAssignment
from arrears.collection.run import run_collection
from arrears.estate.models import Contact, Unit
from arrears.ledger import services
from tests import factories

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 20)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 3, 20), tick=False):
        yield


@pytest.fixture
def estate():
    """Two communities, one owner in arrears in each since January."""
    company = factories.company()
    found = {}
    for name in ("东区", "西区"):
        community = factories.community(name, company_obj=company)
        unit = factories.unit(community)
        owner = factories.owner(unit)
        Contact.objects.create(community=community, owner=owner, kind="mobile", value="13800001234")
        factories.tariff(community)
        found[name] = (community, unit, owner)
    services.bill(through=date(2026, 3, 1))
    return found


def _case(estate, name):
    _, unit, owner = estate[name]
    return Case.objects.get(unit=unit, owner=owner)


def test_it_runs_no_community_again_when_nothing_moved(estate):
    # given a run for the day
    first = run_collection(as_of=DAY)
    # when it runs again for the same day
    again = run_collection(as_of=DAY)
    # then no community was run and the summary still counts the open cases
    assert (first.extra["communities_run"], again.extra["communities_run"]) == (2, 0)
    assert (again.open_cases, again.opened, again.steps, again.tasks, again.messages) == (2, 0, 0, 0, 0)
    assert CollectionRun.objects.get().marks["communities"].keys() == {str(estate[n][0].pk) for n in estate}


def test_it_redoes_the_community_where_a_payment_was_recorded(estate):
    run_collection(as_of=DAY)
    # given the east owner pays everything after the run, the same day
    _, unit, owner = estate["东区"]
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=D("700.00"), paid_on=DAY, method="cash")
    # when the run goes again for the day
    again = run_collection(as_of=DAY)
    # then only the east is run again, and its case closes
    assert (again.extra["communities_run"], again.closed) == (1, 1)
    assert _case(estate, "东区").status == CaseStatus.CLOSED
    assert _case(estate, "西区").status == CaseStatus.OPEN


def test_it_sees_a_row_changed_in_place_since_the_run(estate):
    run_collection(as_of=DAY)
    assert "5" not in _case(estate, "西区").situations.split(",")
    # given the west unit is recorded as vacant since last year (an UPDATE, no new row anywhere)
    _, unit, _ = estate["西区"]
    Unit.objects.filter(pk=unit.pk).update(status="vacant", status_since=date(2025, 6, 1))
    # when the run goes again for the day
    again = run_collection(as_of=DAY)
    # then the west is run again and its case knows the unit stands vacant (situation 5)
    assert (again.extra["communities_run"], again.updated) == (1, 1)
    assert "5" in _case(estate, "西区").situations.split(",")


def test_it_assigns_a_collector_named_after_the_run(estate):
    run_collection(as_of=DAY)
    community, unit, _ = estate["东区"]
    collector = factories.user("collector")
    CollectorAssignment.objects.create(community=community, building=unit.building, user=collector)
    run_collection(as_of=DAY)
    assert _case(estate, "东区").collector == collector


def test_a_run_for_some_communities_leaves_the_others_to_the_next_full_run(estate):
    run_collection(as_of=DAY)
    # given a payment in the east, then a run for the west only
    _, unit, owner = estate["东区"]
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=D("700.00"), paid_on=DAY, method="cash")
    west = run_collection(as_of=DAY, community_ids=[estate["西区"][0].pk])
    # when the whole company runs again
    again = run_collection(as_of=DAY)
    # then the east, which the partial run did not look at, is run and its case closes
    assert west.extra["communities_run"] == 0
    assert again.extra["communities_run"] == 1 and _case(estate, "东区").status == CaseStatus.CLOSED
