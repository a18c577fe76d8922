"""The second attacker pass on incentives and targets, on PostgreSQL: programmes opened and ended at once, one
target set by two managers at once."""

import time
from datetime import date
from decimal import Decimal as D

import pytest
import time_machine
from django.db import connection

from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.estate.models import StaffScope
from arrears.insights import targets
from arrears.insights.models import Target
from arrears.ledger import incentives, services
from arrears.ledger.models import Charge, IncentiveGrant, IncentiveProgramme, Waiver
from tests import factories
from tests.races import race

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def slowly(monkeypatch, manager, name):
    """Widen the window between a service's checks and its write, so the race is run, not hoped for."""
    original = getattr(manager, name)

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return original(*args, **kwargs)

    monkeypatch.setattr(manager, name, slow)


def test_two_programmes_of_one_kind_opened_at_once_in_one_community_one_is_refused(monkeypatch):
    # given a community with no programme and two managers
    community = factories.community()
    first, second = factories.user("manager1"), factories.user("manager2")
    slowly(monkeypatch, IncentiveProgramme.objects, "create")

    def opens(user, name):
        return lambda: incentives.create_programme(community_id=community.pk, kind="early_payment", name=name,
                                                   valid_from=date(2026, 7, 1), days=10, percent="5", created_by=user)

    # when both open an early-payment programme over the same dates at the same moment
    results = race(opens(first, "九五折"), opens(second, "九折"))
    # then one is opened and the other refused as overlapping: never two at once
    assert IncentiveProgramme.objects.filter(community=community, kind="early_payment").count() == 1
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], DomainError) and refused[0].code == "overlap"


def test_ending_a_programme_while_a_payment_earns_it_gives_one_of_the_two_orders():
    # given January's 200.00 due the 25th, 5% off when paid 10 days early, and the owner paying 190.00 on the 10th
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    factories.tariff(community, due_day=25)
    manager = factories.user("manager")
    programme = incentives.create_programme(community_id=community.pk, kind="early_payment", name="提前缴费九五折",
                                            valid_from=date(2026, 1, 1), days=10, percent="5", created_by=manager)
    services.bill(through=date(2026, 1, 1))
    charge = Charge.objects.get()

    def pays():
        with time_machine.travel(date(2026, 1, 10), tick=False):
            return services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="190.00",
                                           paid_on=date(2026, 1, 10), method="cash")

    def ends():
        return incentives.end_programme(programme_id=programme.pk, on=date(2026, 1, 10))

    # when the manager ends the programme (for charges due after the 10th) as the money comes in
    results = race(pays, ends)
    # then both are done, and the ledger is that of one order or the other, never half of each
    assert [r for r in results if isinstance(r, Exception)] == []
    programme.refresh_from_db()
    assert programme.valid_to == date(2026, 1, 10)
    charge.refresh_from_db()
    granted = list(IncentiveGrant.objects.values_list("amount", flat=True))
    waived = list(Waiver.objects.values_list("amount", flat=True))
    if granted:  # paid first: the discount it earned stands and settles the charge
        assert granted == waived == [D("10.00")] and charge.settled_on == date(2026, 1, 10)
    else:  # ended first: no discount, 10.00 still owed
        assert waived == [] and charge.settled_on is None


def test_two_managers_setting_one_target_at_once_leave_one_target_and_its_trail(monkeypatch):
    # given a community two managers share, with no target for June
    community = factories.community()
    first, second = factories.user("manager1", groups=[roles.MANAGER]), factories.user("manager2", groups=[roles.MANAGER])
    for user in (first, second):
        StaffScope.objects.create(user=user, community=community)
    original = Target.save

    def slow_save(self, *args, **kwargs):
        time.sleep(0.3)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Target, "save", slow_save)

    def sets(user, amount):
        return lambda: targets.set_target(staff=user, community=community, kind="month", period_start=date(2026, 6, 1),
                                          amount=amount)

    # when both set June's target at the same moment, with different amounts
    results = race(sets(first, "1000.00"), sets(second, "2000.00"))
    # then neither failed, there is one target, and the trail tells the whole story: created, then changed
    assert [r for r in results if isinstance(r, Exception)] == []
    target = Target.objects.get()
    events = list(AuditEvent.objects.filter(action="insights.target_set").order_by("pk"))
    assert len(events) == 2
    assert events[0].detail["old"] is None
    assert events[1].detail["old"] == events[0].detail["new"]
    assert events[1].detail["new"]["amount"] == f"{target.amount:.2f}"
