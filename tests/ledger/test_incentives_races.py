"""Incentives under races, on PostgreSQL: the same discount asked for twice at once is granted once."""

from datetime import date
from decimal import Decimal as D

import pytest
import time_machine
from django.db import connection

from arrears.ledger import incentives, services
from arrears.ledger.models import IncentiveGrant, Payment, Waiver
from tests import factories
from tests.races import race

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_credit_runs_at_once_grant_the_early_discount_once():
    # given 200.00 paid on 2026-01-10 for January's 200.00 due the 25th, 5% off 10 days early
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    factories.tariff(community, due_day=25)
    manager = factories.user("manager")
    incentives.create_programme(community_id=community.pk, kind="early_payment", name="提前缴费九五折",
                                valid_from=date(2026, 1, 1), days=10, percent="5", created_by=manager)
    with time_machine.travel(date(2026, 1, 10), tick=False):
        Payment.objects.create(company=community.company, community=community, unit=unit, owner=owner, amount=D("200.00"),
                               unallocated=D("200.00"), paid_on=date(2026, 1, 10), method="cash")
    services.bill(through=date(2026, 1, 1))  # spends the credit once and grants the discount
    grants_before = IncentiveGrant.objects.count()

    def job():
        return services.apply_credit(pairs=[(unit.pk, owner.pk)], since=date(2026, 1, 1))

    # when two more credit runs race
    results = race(job, job, job)
    # then nothing failed and there is still one grant, one waiver, and 10.00 of credit
    assert [r for r in results if isinstance(r, Exception)] == []
    assert grants_before == IncentiveGrant.objects.count() == Waiver.objects.count() == 1
    assert sum(p.unallocated for p in Payment.objects.all()) == D("10.00")


def test_two_daily_runs_at_once_waive_a_late_fee_once():
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    factories.tariff(community, due_day=25)
    manager = factories.user("manager")
    incentives.create_programme(community_id=community.pk, kind="late_fee_waiver", name="主动缴清免违约金",
                                valid_from=date(2026, 1, 1), days=7, created_by=manager)
    services.bill(through=date(2026, 1, 1))
    with time_machine.travel(date(2026, 2, 5), tick=False):
        services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="200.00", paid_on=date(2026, 2, 5), method="cash")

    def job():
        return len(incentives.grant_late_fee_waivers(first_reminders={(unit.pk, owner.pk): date(2026, 2, 1)},
                                                     as_of=date(2026, 2, 6)))

    results = race(job, job)
    assert sorted(results) == [0, 1]
    assert IncentiveGrant.objects.get().amount == D("1.10")
