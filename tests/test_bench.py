"""The benchmark's history builder writes a ledger the services and selectors agree with."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum

from arrears.core.money import ZERO
from arrears.ledger import rules, selectors, services
from arrears.ledger.models import Allocation, Charge, Payment
from bench import ledger_bench

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


def test_the_history_keeps_the_ledger_invariants():
    # given
    history = ledger_bench.build_history(units=20, months=36, seed=5)
    # then: every cache equals its derivation
    assert (history.charges, Charge.objects.count()) == (720, 720)
    allocated = dict(Allocation.objects.values("payment_id").annotate(t=Sum("amount")).values_list("payment_id", "t"))
    for payment in Payment.objects.all():
        assert payment.paid_on <= TODAY
        assert payment.unallocated == payment.amount - allocated.get(payment.pk, ZERO)
    events = {}
    for charge_id, value_date, amount in Allocation.objects.values_list("charge_id", "value_date", "amount"):
        events.setdefault(charge_id, []).append((value_date, amount))
    for c in Charge.objects.all():
        state = rules.ChargeState(c.pk, c.period_start, c.due_date, c.amount,
                                  rules.LateFeeTerms(c.late_fee_daily_rate, c.grace_days, c.late_fee_cap),
                                  principal_events=events.get(c.pk, []))
        assert ZERO <= state.principal_outstanding <= c.amount
        assert c.settled_on == state.settled_on()
    assert Payment.objects.filter(unallocated__gt=0).exists()  # some hold prepaid credit


def test_billing_the_new_month_after_the_history_spends_the_credit_once():
    history = ledger_bench.build_history(units=20, months=36, seed=5)
    first = services.bill(through=history.new_month, since=history.new_month)
    assert first.charges_created == 20
    assert services.bill(through=history.new_month).charges_created == 0
    # Prepaid units are paid for the new month; the rest owe at least that month.
    statements = selectors.statement(TODAY)
    prepaid = {s.unit_id for s in statements if s.prepaid > ZERO}
    assert prepaid
    assert all(s.principal == ZERO for s in statements if s.unit_id in prepaid)
    assert all(s.principal > ZERO for s in statements if s.unit_id not in prepaid)
    assert sum((s.prepaid for s in statements), ZERO) == Payment.objects.aggregate(t=Sum("unallocated"))["t"]
    assert Decimal(len(statements)) == 20
