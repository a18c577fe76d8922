"""Races a malicious insider (or two honest ones) can start from two browsers at once, on PostgreSQL:
threads with their own connections, nothing doubled and nothing lost."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from arrears.collection import services
from arrears.collection.models import ContactAttempt, Promise
from arrears.ledger.models import Allocation, Charge, Payment
from arrears.portal import cashier
from tests import factories
from tests.collection.conftest import make_case
from tests.races import race
from tests.staff import conftest as staff

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 10, 12, 40, tzinfo=SHANGHAI)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
estate = staff.estate
today = staff.today


def _race(*jobs):
    return race(*jobs, timeout=30)


def test_it_keeps_one_of_two_simultaneous_corrections_of_an_attempt(estate):
    # given: a promise taken on a call
    collector = factories.user("c1")
    with time_machine.travel(NOW, tick=False):
        case = make_case(estate["unit"], estate["owner"], collector=collector)
        call = services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="call", outcome="promised",
                                    staff=collector, at=datetime(2026, 5, 10, 11, 0, tzinfo=SHANGHAI),
                                    promise_amount="600.00", promise_due=date(2026, 5, 17))

        def correct(outcome):
            def job():
                with time_machine.travel(NOW, tick=False):
                    return services.correct_attempt(attempt=ContactAttempt.objects.get(pk=call.pk), staff=collector,
                                                    correction_reason="更正", outcome=outcome)
            return job

        # when: two corrections of the same call at once
        results = _race(correct("answered"), correct("no_answer"))
    # then: one stands, the other is refused; one promise, cancelled
    assert sorted(type(r).__name__ for r in results) == ["ContactAttempt", "DomainError"]
    assert ContactAttempt.objects.filter(corrects=call).count() == 1
    assert list(Promise.objects.values_list("status", flat=True)) == ["cancelled"]


def test_it_pays_a_charge_designated_by_two_cashiers_at_once_only_once(estate):
    # given: the newest open charge, ticked by two cashiers for the same owner at once
    desk = factories.user("desk1")
    charge = Charge.objects.filter(unit=estate["unit"], owner=estate["owner"], settled_on__isnull=True).order_by("-due_date").first()
    paid_before = sum(a.amount for a in Allocation.objects.filter(charge=charge))
    assert paid_before < charge.amount

    def pay(key):
        def job():
            return cashier.take_payment(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=charge.amount,
                                        method="cash", paid_on=staff.TODAY, reference="", operator=desk, key=key,
                                        charge_ids=[charge.pk])
        return job

    # when
    with time_machine.travel(NOW, tick=False):
        results = _race(pay("a"), pay("b"))
    # then: both payments stand (the second pays what the first left: the late fee, then by the rule),
    # the charge's principal is paid once, and no payment allocates more than it brought
    assert [type(r).__name__ for r in results] == ["Payment", "Payment"], results
    principal = sum(a.amount for a in Allocation.objects.filter(charge=charge, component="principal"))
    assert principal == charge.amount == Decimal("200.00")
    for payment in Payment.objects.filter(operator=desk):
        assert sum(a.amount for a in Allocation.objects.filter(payment=payment)) + payment.unallocated == payment.amount


def test_it_creates_one_policy_when_three_first_runs_start_at_once(estate):
    # given: a community that has never had a daily run, so no policy and no ladder yet
    from arrears.collection.defaults import ladder_rows
    from arrears.collection.models import CollectionPolicy, CollectionRun, LadderStep
    from arrears.collection.run import run_collection

    community = estate["community"]
    assert not CollectionPolicy.objects.filter(community=community).exists()

    def run():
        with time_machine.travel(NOW, tick=False):
            return run_collection(as_of=date(2026, 5, 10), community_ids=[community.pk])

    # when: three daily runs for it at once
    results = _race(run, run, run)
    # then: all three succeed, and there is one policy with one ladder
    assert [type(r).__name__ for r in results] == ["RunSummary"] * 3, results
    policy = CollectionPolicy.objects.get(community=community)
    assert LadderStep.objects.filter(policy__community=community).count() == len(ladder_rows())
    assert LadderStep.objects.filter(policy=policy).count() == len(ladder_rows())
    assert CollectionRun.objects.filter(as_of=date(2026, 5, 10)).count() == 1
