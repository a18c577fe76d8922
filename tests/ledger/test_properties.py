"""Ledger invariants under any sequence of bills, payments (designated or not), adjustments,
reversals, waivers and holds (a charge under dispute).

Each example runs inside a savepoint that is rolled back, so the database starts clean every time.
"""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
import time_machine
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.core.errors import DomainError
from arrears.core.money import ZERO
from arrears.estate.models import AllocationRule
from arrears.ledger import rules, selectors, services
from arrears.ledger.models import Allocation, Charge, Payment, PaymentReversal, Waiver, WaiverStatus
from tests import factories

pytestmark = pytest.mark.django_db
START = date(2026, 1, 1)
TODAY = date(2026, 11, 23)

cents = st.integers(min_value=1, max_value=80_000).map(lambda c: D(c) / 100)
step = st.one_of(
    st.tuples(st.just("bill"), st.just(None)),
    st.tuples(st.just("pay"), cents),
    st.tuples(st.just("adjust"), cents),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=20)),
    st.tuples(st.just("waive_principal"), st.integers(min_value=1, max_value=100)),
    st.tuples(st.just("waive_late_fee"), st.integers(min_value=1, max_value=100)),
    st.tuples(st.just("pay_designated"), st.tuples(cents, st.lists(st.integers(min_value=0, max_value=20), max_size=3))),
    st.tuples(st.just("hold"), st.integers(min_value=0, max_value=20)),
    st.tuples(st.just("release"), st.integers(min_value=0, max_value=20)),
)
timeline = st.lists(st.tuples(st.integers(min_value=0, max_value=25), step), min_size=1, max_size=18)


@pytest.fixture
def world():
    with time_machine.travel(TODAY, tick=False):
        community = factories.community()
        unit = factories.unit(community, area="87.65")
        owner = factories.owner(unit)
        factories.tariff(community, price="2.35", rate="0.0005", grace_days=5, cap="0.3", due_day=10)
        clerk, manager = factories.user("clerk"), factories.user("manager")
        yield community, unit, owner, clerk, manager


def open_charges(unit):
    return list(Charge.objects.filter(unit=unit, settled_on__isnull=True).order_by("due_date", "pk"))


def run_timeline(world, steps):
    community, unit, owner, clerk, manager = world
    day, held, seen = START, set(), 0
    for gap, (kind, arg) in steps:
        day = min(day + timedelta(days=gap), TODAY)
        if kind == "bill":
            services.bill(through=day.replace(day=1))
        elif kind == "pay":
            services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=arg, paid_on=day, method="cash")
        elif kind == "pay_designated":
            amount, picks = arg
            candidates = open_charges(unit)
            chosen = [candidates[i % len(candidates)].pk for i in picks] if candidates else []
            services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=amount, paid_on=day, method="cash",
                                    designation=chosen)
        elif kind == "hold":
            candidates = [c for c in open_charges(unit) if c.pk not in held]
            if candidates:
                charge = candidates[arg % len(candidates)]
                services.set_charge_hold(charge_id=charge.pk, held=True, on=day)
                held.add(charge.pk)
        elif kind == "release":
            if held:
                charge_id = sorted(held)[arg % len(held)]
                services.set_charge_hold(charge_id=charge_id, held=False, on=day)
                held.discard(charge_id)
        elif kind == "adjust":
            services.create_charge(unit_id=unit.pk, owner_id=owner.pk, charge_type_id=factories.charge_type("other").pk,
                                   period_start=day, period_end=day, amount=arg, due_date=day)
        elif kind == "reverse":
            payments = list(Payment.objects.filter(reversal__isnull=True).order_by("pk"))
            if payments:
                payment = payments[arg % len(payments)]
                services.reverse_payment(payment_id=payment.pk, reversed_on=max(day, payment.paid_on), reason="退款",
                                         requested_by=clerk, approved_by=manager)
        else:
            line = next(iter(selectors.charge_lines(day + timedelta(days=1), unit_ids=[unit.pk])), None)
            if line is None:
                continue
            component = "principal" if kind == "waive_principal" else "late_fee"
            available = line.outstanding if component == "principal" else line.late_fee
            amount = (available * arg / 100).quantize(D("0.01"))
            if amount <= 0:
                continue
            waiver = services.request_waiver(charge_id=line.charge_id, component=component, amount=amount,
                                             reason="测试", requested_by=clerk, requested_on=day)
            services.approve_waiver(waiver_id=waiver.pk, approved_by=manager, decided_on=day)
        seen = assert_held_charges_paid_only_by_designation(held, seen)
    assert set(Charge.objects.filter(on_hold=True).values_list("pk", flat=True)) == held
    return day


def assert_held_charges_paid_only_by_designation(held: set, seen: int) -> int:
    """Money written on a held charge since the last step came from a payment that designated it."""
    for allocation in Allocation.objects.filter(pk__gt=seen, charge_id__in=held, amount__gt=0).select_related("payment"):
        assert allocation.charge_id in allocation.payment.designation, allocation
    return Allocation.objects.order_by("-pk").values_list("pk", flat=True).first() or seen


def assert_invariants(unit, last_day):
    # Payment.unallocated is a cache: it equals amount − net allocations, and 0 once reversed.
    for payment in Payment.objects.all():
        net = Allocation.objects.filter(payment=payment).aggregate(t=Sum("amount"))["t"] or ZERO
        expected = ZERO if PaymentReversal.objects.filter(payment=payment).exists() else payment.amount - net
        assert payment.unallocated == expected
        assert payment.unallocated >= ZERO
    # Money is conserved: what was paid (and not reversed) is allocated or still credit.
    paid = Payment.objects.filter(reversal__isnull=True).aggregate(t=Sum("amount"))["t"] or ZERO
    allocated = Allocation.objects.aggregate(t=Sum("amount"))["t"] or ZERO
    credit = Payment.objects.aggregate(t=Sum("unallocated"))["t"] or ZERO
    assert paid == allocated + credit
    for as_of in (date(2026, 2, 15), date(2026, 4, 1), last_day, last_day + timedelta(days=40), date(2027, 6, 1)):
        lines = {line.charge_id: line for line in selectors.charge_lines(as_of, include_settled=True)}
        for charge in Charge.objects.filter(due_date__lt=as_of):
            line = lines[charge.pk]
            # billed − allocated − waived = outstanding, and no allocation exceeds its target.
            assert line.amount - line.paid - line.waived == line.outstanding
            assert ZERO <= line.outstanding <= charge.amount
            assert line.late_fee >= ZERO, (charge, as_of, line)
            assert line.late_fee_accrued <= (charge.amount * charge.late_fee_cap).quantize(D("0.01"))
            # The SQL closed form equals the rule computed in Python from the same events.
            events = [(a.value_date, a.amount) for a in charge.allocations.filter(component="principal")]
            events += [(w.decided_on, w.amount) for w in charge.waivers.filter(status=WaiverStatus.APPROVED, component="principal")]
            python_fee = rules.late_fee(amount=charge.amount, due_date=charge.due_date, as_of=as_of, reductions=events,
                                        terms=rules.LateFeeTerms(charge.late_fee_daily_rate, charge.grace_days, charge.late_fee_cap))
            assert line.late_fee_accrued == python_fee
            # settled_on is a cache: set means nothing left from that day on; unset means something is left.
            if charge.settled_on is not None and charge.settled_on <= as_of:
                assert (line.outstanding, line.late_fee) == (ZERO, ZERO)
            if as_of >= date(2027, 6, 1) and charge.settled_on is None:
                assert (line.outstanding, line.late_fee) != (ZERO, ZERO)
        statement = selectors.unit_statement(unit.pk, as_of)
        assert statement.prepaid >= ZERO
        assert statement.prepaid == prepaid_from_history(as_of)
        assert all(isinstance(v, D) for v in (statement.principal, statement.late_fee, statement.prepaid))


def prepaid_from_history(as_of):
    """The definition, summed over all history: the oracle for the cache-based selector."""
    paid = Payment.objects.filter(paid_on__lte=as_of).exclude(reversal__reversed_on__lte=as_of)
    total = paid.aggregate(t=Sum("amount"))["t"] or ZERO
    allocated = Allocation.objects.filter(payment__in=paid, value_date__lte=as_of).aggregate(t=Sum("amount"))["t"] or ZERO
    return total - allocated


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=timeline, civil_code=st.booleans())
def test_ledger_invariants_hold_for_any_history(world, steps, civil_code):
    community, unit, *_ = world
    sid = transaction.savepoint()
    try:
        with time_machine.travel(TODAY, tick=False):
            community.company.allocation_rule = AllocationRule.CIVIL_CODE if civil_code else AllocationRule.PRINCIPAL_FIRST
            community.company.save()
            try:
                last_day = run_timeline(world, steps)
            except DomainError as exc:  # a refusal must say why in both languages, and write nothing half
                assert " / " in str(exc)
                return
            assert_invariants(unit, last_day)
            # Billing twice equals billing once.
            services.bill(through=last_day.replace(day=1))
            before = list(Charge.objects.order_by("pk").values_list("pk", "amount"))
            assert services.bill(through=last_day.replace(day=1)).charges_created == 0
            assert list(Charge.objects.order_by("pk").values_list("pk", "amount")) == before
    finally:
        transaction.savepoint_rollback(sid)


payments_only = st.lists(st.tuples(st.integers(min_value=0, max_value=40), cents), min_size=1, max_size=10)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payments=payments_only, civil_code=st.booleans())
def test_history_entered_at_once_equals_history_entered_day_by_day(world, payments, civil_code):
    community, unit, owner, *_ = world
    sid = transaction.savepoint()
    try:
        with time_machine.travel(TODAY, tick=False):
            community.company.allocation_rule = AllocationRule.CIVIL_CODE if civil_code else AllocationRule.PRINCIPAL_FIRST
            community.company.save()
            dated, day = [], START
            for gap, amount in payments:
                day = min(day + timedelta(days=gap), TODAY)
                dated.append((day, amount))
            # (in a savepoint rolled back afterwards: the ledger is append-only, nothing is deleted)
            day_by_day_sid = transaction.savepoint()
            # day by day: each month billed on its first day, each payment on its day
            for month in range(1, 12):
                first = date(2026, month, 1)
                services.bill(through=first)
                for paid_on, amount in [p for p in dated if (first <= p[0] < rules.add_months(first, 1))]:
                    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=amount, paid_on=paid_on, method="cash")
            day_by_day = {d: selectors.statement_as_dicts(selectors.statement(d)) for d in (date(2026, 3, 15), TODAY)}
            transaction.savepoint_rollback(day_by_day_sid)
            # at once: everything billed first, then the payments in bulk, then one replay
            services.bill(through=date(2026, 11, 1))
            Payment.objects.bulk_create([
                Payment(company=community.company, community=community, unit=unit, owner=owner, amount=amount,
                        unallocated=amount, paid_on=paid_on, method="cash")
                for paid_on, amount in dated
            ])
            services.apply_credit(pairs=[(unit.pk, owner.pk)], since=START)
            at_once = {d: selectors.statement_as_dicts(selectors.statement(d)) for d in (date(2026, 3, 15), TODAY)}
            assert at_once == day_by_day
    finally:
        transaction.savepoint_rollback(sid)


charge_specs = st.lists(
    st.tuples(st.integers(min_value=1, max_value=12), cents, st.booleans()), min_size=1, max_size=6)
payment_specs = st.lists(
    st.tuples(st.integers(min_value=0, max_value=360), cents,
              st.one_of(st.none(), st.lists(st.integers(min_value=0, max_value=5), max_size=4))),
    min_size=1, max_size=5)


@settings(max_examples=200, deadline=None)
@given(charge_list=charge_specs, payment_list=payment_specs, civil_code=st.booleans())
def test_any_designation_conserves_money_and_pays_a_held_charge_only_when_designated(charge_list, payment_list,
                                                                                      civil_code):
    # given: charges (some held) and payments (some designating charges, in any order, repeats included)
    terms = rules.LateFeeTerms(D("0.0005"), 3, D("0.3"))
    charges = [rules.ChargeState(n, date(2026, month, 1), date(2026, month, 10), amount, terms, held=held)
               for n, (month, amount, held) in enumerate(charge_list)]
    payments, designations = [], {}
    for n, (offset, amount, picks) in enumerate(payment_list):
        payments.append(rules.PaymentState(n, START + timedelta(days=offset), amount))
        if picks is not None:
            designations[n] = [charges[i % len(charges)].id for i in picks]
    original = {n: amount for n, (_, amount, _) in enumerate(payment_list)}
    # when
    planned = rules.replay(charges=charges, payments=payments, since=min(p.paid_on for p in payments),
                           rule=rules.CIVIL_CODE if civil_code else rules.PRINCIPAL_FIRST, designations=designations)
    # then: each payment's money is allocated or left as credit, to the fen, never below zero
    for payment in payments:
        allocated = sum((p.amount for p in planned if p.payment_id == payment.id), ZERO)
        assert allocated + payment.unallocated == original[payment.id]
        assert payment.unallocated >= ZERO
    assert all(p.amount > ZERO for p in planned)
    for charge in charges:
        mine = [p for p in planned if p.charge_id == charge.id]
        # no charge takes more principal than it has, nor more late fee than it accrued by the last payment on it
        assert ZERO <= charge.principal_outstanding <= charge.amount
        if mine:
            assert charge.late_fee_outstanding(max(p.value_date for p in mine)) >= ZERO
        # a held charge receives only money whose payer designated it
        if charge.held:
            assert all(charge.id in designations.get(p.payment_id, ()) for p in mine)


def test_no_float_reaches_a_money_field(world):
    community, unit, owner, *_ = world
    with time_machine.travel(TODAY, tick=False), pytest.raises(Exception, match="浮点数"):
        services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=12.5, paid_on=START, method="cash")
    assert Payment.objects.count() == 0
    assert Waiver.objects.count() == 0
