"""The arrears list at portfolio scale (issue 15): its rates come from the daily run's per-building
summary, which must add up to the live read of the ledger (`live_arrears_rates`, the oracle) for
every scope and filter; its cases are the run's snapshot less the owners who paid up since; and
the page reads a fixed number of queries however many cases and buildings there are."""

from datetime import date
from decimal import Decimal as D

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from arrears.collection import selectors, summary
from arrears.collection.models import ArrearsSummary, Case, CaseStatus
from arrears.collection.run import run_collection
from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.ledger import services
from arrears.ledger.models import Charge
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 20)


@pytest.fixture
def today():
    with time_machine.travel(TODAY, tick=False):
        yield TODAY


def _bill_and_pay(community, *, buildings, seed):
    """Units billed from 2025-09 (last year's arrears and this year's), paying in assorted ways."""
    factories.tariff(community, effective_from=date(2025, 9, 1), rate="0.001")
    units = []
    for b in range(buildings):
        for r in range(4):
            unit = factories.unit(community, building=f"{b + 1}栋", entrance="1", room=f"{r + 1}0{seed}",
                                  area=f"{80 + 7 * r + b}.{seed}5")
            owner = factories.owner(unit, f"业主{seed}{b}{r}", start=date(2024, 1, 1))
            units.append((unit, owner))
    services.bill(through=date(2026, 5, 1))
    approver = factories.user(f"approver{seed}", is_superuser=True)
    clerk = factories.user(f"clerk{seed}")
    for n, (unit, owner) in enumerate(units):
        kind = (n + seed) % 6
        if kind == 0:  # paid a year ahead: settled, with credit left
            services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="3000.00", paid_on=date(2025, 9, 2), method="cash")
        elif kind == 1:  # partial payment this year
            services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="333.33", paid_on=date(2026, 2, 10), method="cash")
        elif kind == 2:  # paid, then the payment bounced
            paid = services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="500.00", paid_on=date(2026, 3, 1),
                                           method="cash")
            services.reverse_payment(payment_id=paid.pk, reversed_on=date(2026, 3, 20), reason="退票")
        elif kind == 3:  # a principal waiver on the oldest charge, and this month paid
            oldest = Charge.objects.filter(unit=unit).order_by("due_date").first()
            waiver = services.request_waiver(charge_id=oldest.pk, component="principal", amount="50.00", reason="维修补偿",
                                             requested_by=clerk, requested_on=date(2026, 4, 1))
            services.approve_waiver(waiver_id=waiver.pk, approved_by=approver, decided_on=date(2026, 4, 2))
            services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="100.00", paid_on=date(2026, 5, 6),
                                    method="cash")
        elif kind == 4:  # sold last month: the seller still owes, the buyer owns
            ownership = owner.ownerships.get()
            ownership.end = date(2026, 4, 15)
            ownership.save(update_fields=["end"])
            factories.owner(unit, f"买家{seed}{n}", start=date(2026, 4, 16))
        # kind 5: never paid
    return units


@pytest.fixture
def portfolio(today):
    company = factories.company()
    first = factories.community("锦绣华庭", company_obj=company)
    second = factories.community("翠湖苑", company_obj=company)
    units = _bill_and_pay(first, buildings=3, seed=1) + _bill_and_pay(second, buildings=2, seed=2)
    manager = factories.user("manager", groups=[roles.MANAGER])
    StaffScope.objects.create(user=manager, community=first)
    building_keeper = factories.user("keeper", groups=[roles.MANAGER])
    building = units[0][0].building
    StaffScope.objects.create(user=building_keeper, community=first, building=building)
    boss = factories.user("boss", is_superuser=True)
    return {"first": first, "second": second, "units": units, "manager": manager, "keeper": building_keeper,
            "boss": boss, "building": building}


def _pairs(portfolio):
    first, second, building = portfolio["first"], portfolio["second"], portfolio["building"]
    return [
        (portfolio["boss"], {}), (portfolio["boss"], {"community": second.pk}),
        (portfolio["boss"], {"community": first.pk, "building": building.pk}),
        (portfolio["manager"], {}), (portfolio["manager"], {"building": building.pk}), (portfolio["keeper"], {}),
    ]


def test_the_summary_adds_up_to_the_live_rates_for_every_scope(portfolio, today):
    # when: the daily run writes the summary
    run_collection(as_of=TODAY)
    assert ArrearsSummary.objects.count() == 5  # one row per building
    # then: for every user and filter, the summary's rates are the ledger's, to the fen
    for user, filters in _pairs(portfolio):
        live = selectors.live_arrears_rates(user, today=TODAY, **filters)
        read = selectors.arrears_rates(user, today=TODAY, **filters)
        assert read.computed_at is not None
        assert (read.overdue_principal, read.base_principal, read.units_owing, read.units_owned, read.month_due,
                read.month_paid) == (live.overdue_principal, live.base_principal, live.units_owing, live.units_owned,
                                     live.month_due, live.month_paid), (user.username, filters)
        assert live.overdue_principal > 0 and live.month_due > 0
    everyone = selectors.live_arrears_rates(portfolio["boss"], today=TODAY)
    assert everyone.units_owing > 0 and everyone.month_paid > 0 and everyone.base_principal > everyone.overdue_principal


def test_a_rerun_with_nothing_changed_writes_no_summary(portfolio, today):
    assert summary.refresh_arrears_summary(as_of=TODAY) == 5
    assert summary.refresh_arrears_summary(as_of=TODAY) == 0
    unit, owner = portfolio["units"][4]  # never paid: the payment goes on its charges
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="10.00", paid_on=TODAY, method="cash")
    assert summary.refresh_arrears_summary(as_of=TODAY) == 5


def test_without_a_run_the_rates_are_read_live(portfolio, today):
    rates = selectors.arrears_rates(portfolio["manager"], today=TODAY)
    assert rates.computed_at is None
    assert rates.overdue_principal == selectors.live_arrears_rates(portfolio["manager"], today=TODAY).overdue_principal


def test_a_summary_dated_after_today_is_not_used(portfolio, today):
    summary.refresh_arrears_summary(as_of=date(2026, 5, 25))
    assert selectors.arrears_rates(portfolio["boss"], today=TODAY).computed_at is None


def test_the_page_says_as_of_when_the_rates_were_computed(client, portfolio, today):
    client.force_login(portfolio["manager"])
    assert 'data-testid="rates-as-of"' not in client.get(reverse("staff:cases")).content.decode()
    run_collection(as_of=TODAY)
    html = client.get(reverse("staff:cases")).content.decode()
    assert 'data-testid="rates-as-of"' in html and "2026-05-20" in html


def _listed(user, today=TODAY):
    return {case.pk for case in selectors.open_cases(user, selectors.CaseFilters(), today=today)}


def _owed(unit, owner):
    return sum(line.outstanding for line in selectors.ledger_selectors.charge_lines(TODAY, unit_ids=[unit.pk])
               if line.owner_id == owner.pk)


def test_a_case_paid_up_since_the_run_is_not_listed(portfolio, today):
    # given: the run opened cases, and the list shows them all
    run_collection(as_of=TODAY)
    boss = portfolio["boss"]
    open_cases = {case.pk: case for case in Case.objects.filter(status=CaseStatus.OPEN)}
    assert len(open_cases) > 5
    assert _listed(boss) == set(open_cases)
    by_key = {(case.unit_id, case.owner_id): case for case in open_cases.values()}
    # when: one owner pays everything at the cashier, another pays part, a third has the debt waived
    paying = [(unit, owner) for unit, owner in portfolio["units"] if (unit.pk, owner.pk) in by_key][:3]
    (unit_a, owner_a), (unit_b, owner_b), (unit_c, owner_c) = paying
    services.record_payment(unit_id=unit_a.pk, owner_id=owner_a.pk, amount=_owed(unit_a, owner_a) + D("500.00"),
                            paid_on=TODAY, method="cash")
    services.record_payment(unit_id=unit_b.pk, owner_id=owner_b.pk, amount="1.00", paid_on=TODAY, method="cash")
    approver, clerk = factories.user("approver9", is_superuser=True), factories.user("clerk9")
    for charge in Charge.objects.filter(unit=unit_c, owner=owner_c, due_date__lt=TODAY):
        left = sum(line.outstanding for line in selectors.ledger_selectors.charge_lines(TODAY, unit_ids=[unit_c.pk])
                   if line.charge_id == charge.pk)
        if left > 0:
            waiver = services.request_waiver(charge_id=charge.pk, component="principal", amount=left, reason="和解",
                                             requested_by=clerk, requested_on=TODAY)
            services.approve_waiver(waiver_id=waiver.pk, approved_by=approver, decided_on=TODAY)
    # then: the list drops the two who owe nothing now, and agrees with the ledger for every case
    gone = {by_key[(unit_a.pk, owner_a.pk)].pk, by_key[(unit_c.pk, owner_c.pk)].pk}
    assert _listed(boss) == set(open_cases) - gone
    expected = {pk for pk, case in open_cases.items() if _owed(case.unit, case.owner) > 0}
    assert _listed(boss) == expected
    assert _listed(portfolio["manager"]) == {pk for pk in expected if open_cases[pk].community_id == portfolio["first"].pk}


def test_a_reversal_since_the_run_keeps_the_case_listed(portfolio, today):
    run_collection(as_of=TODAY)
    case = Case.objects.filter(status=CaseStatus.OPEN).order_by("pk").first()
    paid = services.record_payment(unit_id=case.unit_id, owner_id=case.owner_id, amount="1.00", paid_on=TODAY, method="cash")
    services.reverse_payment(payment_id=paid.pk, reversed_on=TODAY, reason="退票")
    assert case.pk in _listed(portfolio["boss"])


def test_the_list_reads_the_same_queries_however_many_cases(client, portfolio, today):
    run_collection(as_of=TODAY)
    client.force_login(portfolio["boss"])
    unit, owner = portfolio["units"][4]

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("staff:cases")).status_code == 200
        return len(queries)

    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="1.00", paid_on=TODAY, method="cash")
    before = count()
    more = _bill_and_pay(factories.community("碧桂园", company_obj=portfolio["first"].company), buildings=3, seed=3)
    run_collection(as_of=TODAY)
    unit, owner = more[4]
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="1.00", paid_on=TODAY, method="cash")
    assert Case.objects.filter(status=CaseStatus.OPEN).count() > 10
    assert count() == before
