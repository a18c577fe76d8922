"""The daily run under any sequence of bills, payments, reversals and waivers between runs.

Invariants after every run: the open cases are exactly the owners the ledger says owe overdue
principal that day, with the ledger's figures; a second run for the same date changes nothing.
Each example runs inside a savepoint that is rolled back.
"""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.collection.models import Case, CaseStatus, CaseStep, OutgoingMessage, Task
from arrears.core.errors import DomainError
from arrears.core.money import ZERO
from arrears.ledger import selectors, services
from arrears.ledger.models import Payment, PaymentReversal
from tests import factories

pytestmark = pytest.mark.django_db
START = date(2026, 1, 1)
TODAY = date(2026, 11, 23)

cents = st.integers(min_value=1, max_value=60_000).map(lambda c: D(c) / 100)
event = st.one_of(
    st.tuples(st.just("bill"), st.just(None), st.integers(0, 1)),
    st.tuples(st.just("pay"), cents, st.integers(0, 1)),
    st.tuples(st.just("reverse"), st.integers(0, 10), st.integers(0, 1)),
    st.tuples(st.just("run"), st.just(None), st.integers(0, 1)),
)
timeline = st.lists(st.tuples(st.integers(min_value=0, max_value=20), event), min_size=1, max_size=10)


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        community = factories.community()
        accounts = []
        for room, area in (("101", "87.65"), ("102", "120.00")):
            unit = factories.unit(community, room=room, area=area)
            accounts.append((unit, factories.owner(unit, name=f"业主{room}")))
        factories.tariff(community, price="2.35", rate="0.0005", grace_days=5, due_day=10)
        yield community, accounts, factories.user("boss")


def snapshot():
    return (Case.objects.count(), Task.objects.count(), OutgoingMessage.objects.count(), CaseStep.objects.count(),
            list(Case.objects.order_by("pk").values_list("status", "principal", "late_fee", "tier", "situations")))


def check(day):
    from arrears.collection.run import run_collection

    run_collection(as_of=day)
    owed = {s.unit_id: s for s in selectors.statement(day) if s.principal > ZERO}
    open_cases = {case.unit_id: case for case in Case.objects.filter(status=CaseStatus.OPEN)}
    assert set(open_cases) == set(owed)
    for unit_id, case in open_cases.items():
        assert (case.principal, case.late_fee, case.oldest_due) == (owed[unit_id].principal, owed[unit_id].late_fee,
                                                                    owed[unit_id].oldest_due)
    before = snapshot()
    run_collection(as_of=day)
    assert snapshot() == before


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=timeline)
def test_open_cases_follow_the_ledger_and_a_rerun_changes_nothing(world, steps):
    community, accounts, boss = world
    with transaction.atomic():
        sid = transaction.savepoint()
        day, last_run = START, None
        for gap, (kind, arg, who) in steps:
            day = min(day + timedelta(days=gap), TODAY)
            unit, owner = accounts[who]
            if kind == "bill":
                services.bill(through=day.replace(day=1))
            elif kind == "pay":
                services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=arg, paid_on=day, method="cash")
            elif kind == "reverse":
                payments = list(Payment.objects.filter(reversal__isnull=True, paid_on__lte=day).order_by("pk"))
                if payments:
                    try:
                        services.reverse_payment(payment_id=payments[arg % len(payments)].pk, reversed_on=day,
                                                 reason="退票", approved_by=boss)
                    except DomainError:
                        pass
            elif kind == "run" and (last_run is None or day >= last_run):
                check(day)
                last_run = day
        if last_run is None or day >= last_run:
            check(day)
        assert PaymentReversal.objects.count() <= Payment.objects.count()
        transaction.savepoint_rollback(sid)
