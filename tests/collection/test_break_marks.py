"""Break-it pass on the rerun marks and the arrears summary: a same-date rerun must not skip work it
has to do, and the arrears list must agree with the ledger (collection/marks.py, summary.py)."""

from datetime import timedelta

import pytest
import time_machine

from arrears.collection import selectors
from arrears.collection.models import Case, CaseStatus, HolidayArrangement
from arrears.collection.run import run_collection
from arrears.estate.models import Ownership
from arrears.ledger import services
from arrears.ledger.selectors import charge_lines
from tests import factories
from tests.collection.test_run_marks import DAY, estate  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(DAY, tick=False):
        yield


def _figures(rates):
    return (rates.overdue_principal, rates.base_principal, rates.units_owing, rates.units_owned, rates.month_due,
            rates.month_paid)


def test_a_partial_run_after_a_calendar_change_leaves_the_other_communities_to_be_redone(estate):  # noqa: F811
    # given: a full run for the day
    run_collection(as_of=DAY)
    # and: the holiday calendar changes (a global input: every community's guard reads it)
    HolidayArrangement.objects.create(year=2027, days_off="2027-01-01")
    # when: one community is run on its own, then the whole company runs again for the same day
    west = run_collection(as_of=DAY, community_ids=[estate["西区"][0].pk])
    again = run_collection(as_of=DAY)
    # then: the partial run redid the west under the new calendar, and the full rerun redoes the east,
    # which no run has looked at since the calendar changed
    assert west.extra["communities_run"] == 1
    assert again.extra["communities_run"] == 1


@pytest.mark.parametrize("recorded_end", [None, 30], ids=["ends", "end-corrected"])
def test_a_rerun_after_an_ownership_ends_brings_the_rates_up_to_date(estate, recorded_end):  # noqa: F811
    # given: the east owner's ownership open, or recorded as ending next month; a run for the day, whose
    # summary the arrears rates read
    boss = factories.user("boss", is_superuser=True)
    community, unit, _ = estate["东区"]
    if recorded_end is not None:
        Ownership.objects.filter(unit=unit).update(end=DAY + timedelta(days=recorded_end))
    run_collection(as_of=DAY)
    assert selectors.arrears_rates(boss, today=DAY, community=community.pk).units_owned == 1
    # when: the ownership is recorded (or corrected) as ended last month — an UPDATE of the ownership
    # alone, no new row, the same count of ended ownerships when corrected — and the run goes again
    Ownership.objects.filter(unit=unit).update(end=DAY - timedelta(days=30))
    run_collection(as_of=DAY)
    # then: the rates read from the summary equal the live ones (no owned unit left in the east)
    live = selectors.live_arrears_rates(boss, today=DAY, community=community.pk)
    assert live.units_owned == 0
    assert _figures(selectors.arrears_rates(boss, today=DAY, community=community.pk)) == _figures(live)


def test_a_waiver_requested_before_the_run_and_approved_back_dated_after_it_drops_the_case(estate):  # noqa: F811
    # given: the east owner asked for the debt to be waived before the run; the run opened the case
    boss = factories.user("boss", is_superuser=True)
    clerk = factories.user("clerk")
    _, unit, owner = estate["东区"]
    waivers = []
    for line in charge_lines(DAY, unit_ids=[unit.pk]):
        if line.owner_id == owner.pk and line.outstanding > 0:
            waivers.append(services.request_waiver(charge_id=line.charge_id, component="principal",
                                                   amount=line.outstanding, reason="和解", requested_by=clerk,
                                                   requested_on=DAY - timedelta(days=10)))
    run_collection(as_of=DAY)
    case = Case.objects.get(unit=unit, owner=owner, status=CaseStatus.OPEN)
    assert case.pk in {c.pk for c in selectors.open_cases(boss, selectors.CaseFilters(), today=DAY)}
    # when: a manager approves the waivers after the run, effective from the day they were agreed (back-dated)
    for waiver in waivers:
        services.approve_waiver(waiver_id=waiver.pk, approved_by=boss, decided_on=DAY - timedelta(days=3))
    # then: the owner owes no principal, and the arrears list no longer shows the case
    assert not any(line.outstanding > 0 for line in charge_lines(DAY, unit_ids=[unit.pk]) if line.owner_id == owner.pk)
    assert case.pk not in {c.pk for c in selectors.open_cases(boss, selectors.CaseFilters(), today=DAY)}


def test_after_back_dated_payments_reversals_and_waivers_the_rerun_rates_equal_the_live_ones(estate):  # noqa: F811
    # given: a run for the day
    boss, clerk = factories.user("boss", is_superuser=True), factories.user("clerk")
    run_collection(as_of=DAY)
    _, east_unit, east_owner = estate["东区"]
    _, west_unit, _ = estate["西区"]
    # when: in the east a payment dated last week is entered and reversed two days ago, and another
    # paid today; in the west part of the oldest charge is waived from five days ago; the run goes again
    bounced = services.record_payment(unit_id=east_unit.pk, owner_id=east_owner.pk, amount="150.00",
                                      paid_on=DAY - timedelta(days=7), method="cash")
    services.reverse_payment(payment_id=bounced.pk, reversed_on=DAY - timedelta(days=2), reason="退票")
    services.record_payment(unit_id=east_unit.pk, owner_id=east_owner.pk, amount="100.00", paid_on=DAY, method="cash")
    oldest = min((line for line in charge_lines(DAY, unit_ids=[west_unit.pk]) if line.outstanding > 0),
                 key=lambda line: line.due)
    waiver = services.request_waiver(charge_id=oldest.charge_id, component="principal", amount="50.00", reason="维修补偿",
                                     requested_by=clerk, requested_on=DAY - timedelta(days=6))
    services.approve_waiver(waiver_id=waiver.pk, approved_by=boss, decided_on=DAY - timedelta(days=5))
    run_collection(as_of=DAY)
    # then: for every community and building, the summary's rates are the live ones, to the fen
    for community, unit, _ in estate.values():
        for scope in ({}, {"community": community.pk}, {"building": unit.building_id}):
            read = selectors.arrears_rates(boss, today=DAY, **scope)
            assert read.computed_at is not None
            assert _figures(read) == _figures(selectors.live_arrears_rates(boss, today=DAY, **scope)), scope


@pytest.mark.parametrize("slice_units", [0, 1])
def test_slices_of_no_unit_or_one_unit_give_what_one_pass_gives(estate, settings, slice_units):  # noqa: F811
    # given: besides the two communities in arrears, one with a building but no unit, and one with nothing
    company = estate["东区"][0].company
    empty = factories.community("空楼", company_obj=company)
    empty.buildings.create(name="1栋")
    factories.community("空地", company_obj=company)
    # when: the run goes in slices of at most 0 (or 1) units
    settings.ARREARS_RUN_CHUNK_UNITS = slice_units
    sliced = run_collection(as_of=DAY)
    # then: every community was run, the cases are those of one pass, and a rerun skips them all
    assert sliced.extra["communities_run"] == 4
    assert (sliced.opened, sliced.open_cases) == (2, 2)
    assert run_collection(as_of=DAY).extra["communities_run"] == 0
