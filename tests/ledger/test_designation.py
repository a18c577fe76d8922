"""The payer's designation comes first (民法典第560条), and a held charge (under dispute) is paid by
nothing but a designation: not by the rule, prepaid credit, billing, a reversal's replay or an import.

On 2026-04-10: 阳光花园 1栋1单元101 (100 m², 张三), 200.00 a month billed Jan–Apr, due the 5th, 万分之五
a day, no grace; another unit 2栋1单元201 (李四) billed the same.
"""

from datetime import date
from decimal import Decimal as D

import pytest
import time_machine

from arrears.core.errors import DomainError
from arrears.ledger import selectors, services
from arrears.ledger.models import Allocation, Charge, Payment
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = date(2026, 4, 10)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def estate():
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    other_unit = factories.unit(community, building="2栋", room="201")
    other_owner = factories.owner(other_unit, "李四")
    factories.tariff(community)
    return {"community": community, "unit": unit, "owner": owner, "other_unit": other_unit, "other_owner": other_owner}


def month_charge(estate, month, *, unit="unit", owner="owner"):
    return Charge.objects.get(unit=estate[unit], owner=estate[owner], period_start=date(2026, month, 1))


def pay(estate, amount, paid_on=TODAY, **extra):
    return services.record_payment(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=amount, paid_on=paid_on,
                                   method="cash", **extra)


def written(payment):
    return [(a.charge.period_start.month, a.component, a.amount, a.value_date)
            for a in payment.allocations.select_related("charge").order_by("pk")]


def ledger_rows():
    return (Payment.objects.count(), Allocation.objects.count(),
            list(Charge.objects.order_by("pk").values_list("pk", "settled_on", "on_hold")))


def test_it_puts_a_designated_payment_on_the_designated_charge_only(estate):
    # given
    services.bill(through=date(2026, 4, 1))
    april = month_charge(estate, 4)
    # when: the owner designates April; 200.00 and its 5 days of late fee (04-05 → 04-10: 0.50)
    payment = pay(estate, "200.50", designation=[april.pk])
    # then
    assert written(payment) == [(4, "principal", D("200.00"), TODAY), (4, "late_fee", D("0.50"), TODAY)]
    assert (payment.designation, payment.unallocated) == ([april.pk], D("0.00"))
    assert Allocation.objects.exclude(charge=april).count() == 0


def test_what_the_designation_leaves_goes_by_the_rule(estate):
    # given
    services.bill(through=date(2026, 4, 1))
    # when: 300.00 designated for March (200.00 + 36 days 03-05 → 04-10: 3.60), 96.40 left
    payment = pay(estate, "300.00", designation=[month_charge(estate, 3).pk])
    # then: the rest by principal-first, oldest first: January's principal
    assert written(payment) == [(3, "principal", D("200.00"), TODAY), (3, "late_fee", D("3.60"), TODAY),
                                (1, "principal", D("96.40"), TODAY)]


@pytest.mark.parametrize(("designate", "code"), [
    (lambda estate: [month_charge(estate, 1, unit="other_unit", owner="other_owner").pk], "designation"),
    (lambda estate: [month_charge(estate, 2).pk, month_charge(estate, 1, unit="other_unit", owner="other_owner").pk],
     "designation"),
    (lambda estate: ["一月"], "designation"),
    (lambda estate: [999999], "designation"),
], ids=["another unit's charge", "one of them another unit's", "not a number", "no such charge"])
def test_it_refuses_a_designation_outside_the_account_and_writes_nothing(estate, designate, code):
    # given
    services.bill(through=date(2026, 4, 1))
    before = ledger_rows()
    # when
    with pytest.raises(DomainError) as refused:
        pay(estate, "200.00", designation=designate(estate))
    # then
    assert refused.value.code == code
    assert refused.value.zh and refused.value.en
    assert ledger_rows() == before


def test_it_refuses_a_charge_of_the_units_previous_owner(estate):
    # given: 张三 sold 101 to 赵六 on 2026-01-10; January is split between them
    unit, seller = estate["unit"], estate["owner"]
    seller.ownerships.update(end=date(2026, 1, 10))
    buyer = factories.owner(unit, "赵六", start=date(2026, 1, 11))
    services.bill(through=date(2026, 1, 1))
    sellers_part = Charge.objects.get(unit=unit, owner=seller)
    before = ledger_rows()
    # when: the buyer's payment designates the seller's part
    with pytest.raises(DomainError, match="不是该业主在此房屋的费用"):
        services.record_payment(unit_id=unit.pk, owner_id=buyer.pk, amount="64.52", paid_on=TODAY, method="cash",
                                designation=[sellers_part.pk])
    # then
    assert ledger_rows() == before


def test_it_refuses_a_settled_charge(estate):
    # given: January paid in full on its due date
    services.bill(through=date(2026, 1, 1))
    pay(estate, "200.00", paid_on=date(2026, 1, 5))
    january = month_charge(estate, 1)
    assert january.settled_on == date(2026, 1, 5)
    before = ledger_rows()
    # when
    with pytest.raises(DomainError) as refused:
        pay(estate, "10.00", designation=[january.pk])
    # then
    assert refused.value.code == "designation_settled"
    assert ledger_rows() == before


def test_a_payment_without_designation_passes_a_held_charge_by(estate):
    # given: January under dispute
    services.bill(through=date(2026, 4, 1))
    january = month_charge(estate, 1)
    services.set_charge_hold(charge_id=january.pk, held=True, on=date(2026, 4, 1))
    # when
    payment = pay(estate, "250.00")
    # then: February (the next oldest) then March by principal-first; January untouched
    assert written(payment) == [(2, "principal", D("200.00"), TODAY), (3, "principal", D("50.00"), TODAY)]
    assert january.allocations.count() == 0


def test_a_designation_pays_a_held_charge(estate):
    # given
    services.bill(through=date(2026, 1, 1))
    january = month_charge(estate, 1)
    services.set_charge_hold(charge_id=january.pk, held=True, on=date(2026, 1, 10))
    # when: the owner chooses to pay the disputed charge after all (01-05 → 04-10: 95 days, 9.50)
    payment = pay(estate, "209.50", designation=[january.pk])
    # then
    assert written(payment) == [(1, "principal", D("200.00"), TODAY), (1, "late_fee", D("9.50"), TODAY)]


def test_billing_never_spends_credit_on_a_held_charge(estate):
    # given: January held, 100.00 paid on 01-20 waits as credit
    services.bill(through=date(2026, 1, 1))
    january = month_charge(estate, 1)
    services.set_charge_hold(charge_id=january.pk, held=True, on=date(2026, 1, 10))
    payment = pay(estate, "100.00", paid_on=date(2026, 1, 20))
    assert payment.unallocated == D("100.00")
    # when: February is billed
    services.bill(through=date(2026, 2, 1))
    # then: the credit pays February on its period start, not January
    assert written(payment) == [(2, "principal", D("100.00"), date(2026, 2, 1))]
    assert january.allocations.count() == 0


def test_a_reversals_replay_passes_a_held_charge_by(estate):
    # given: January held; 200.00 on February, then 300.00 (Feb's 0.50 late fee, 299.50 credit)
    clerk, manager = factories.user("clerk"), factories.user("manager")
    services.bill(through=date(2026, 2, 1))
    january = month_charge(estate, 1)
    services.set_charge_hold(charge_id=january.pk, held=True, on=date(2026, 2, 10))
    first = pay(estate, "200.00", paid_on=date(2026, 2, 10))
    second = pay(estate, "300.00", paid_on=date(2026, 2, 10))
    assert written(second) == [(2, "late_fee", D("0.50"), date(2026, 2, 10))]
    # when: the first is reversed on 02-20, reopening February
    services.reverse_payment(payment_id=first.pk, reversed_on=date(2026, 2, 20), reason="POS 退单",
                             requested_by=clerk, approved_by=manager)
    # then: the credit pays February again from 02-20 (its late fee is paid already), never January
    second.refresh_from_db()
    assert written(second) == [(2, "late_fee", D("0.50"), date(2026, 2, 10)), (2, "principal", D("200.00"), date(2026, 2, 20))]
    assert second.unallocated == D("99.50")
    assert january.allocations.count() == 0


def test_releasing_a_hold_applies_the_waiting_credit_from_that_day(estate):
    # given: January held on 01-10, 150.00 paid on 01-20 waiting as credit
    services.bill(through=date(2026, 1, 1))
    january = month_charge(estate, 1)
    services.set_charge_hold(charge_id=january.pk, held=True, on=date(2026, 1, 10))
    payment = pay(estate, "150.00", paid_on=date(2026, 1, 20))
    # when: the dispute is settled on 01-25
    changed = services.set_charge_hold(charge_id=january.pk, held=False, on=date(2026, 1, 25))
    # then: the credit pays January from 01-25, not from 01-20
    payment.refresh_from_db()
    assert changed is True
    assert (written(payment), payment.unallocated) == ([(1, "principal", D("150.00"), date(2026, 1, 25))], D("0.00"))
    # on 01-31: (200 × 26 − 150 × 6) × 0.0005 = 2.15
    s = selectors.unit_statement(estate["unit"].pk, date(2026, 1, 31))
    assert (s.principal, s.late_fee, s.prepaid) == (D("50.00"), D("2.15"), D("0.00"))


def test_holding_twice_changes_nothing(estate):
    # given
    services.bill(through=date(2026, 1, 1))
    january = month_charge(estate, 1)
    # when
    first = services.set_charge_hold(charge_id=january.pk, held=True, on=date(2026, 1, 10))
    second = services.set_charge_hold(charge_id=january.pk, held=True, on=date(2026, 1, 11))
    # then
    assert (first, second) == (True, False)
    assert Charge.objects.get(pk=january.pk).on_hold is True
