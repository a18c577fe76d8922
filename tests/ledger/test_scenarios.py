"""Hand-computed scenarios through the services and the statement, on the real database."""

import json
from datetime import date
from decimal import Decimal as D
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from arrears.collection import services as collection_services
from arrears.core.errors import DomainError
from arrears.estate.models import AllocationRule
from arrears.ledger import selectors, services
from arrears.ledger.models import Allocation, Charge, Payment
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


@pytest.fixture
def estate():
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    factories.tariff(community)  # 2.00/m²/month, due on the 5th, 万分之五 a day, no grace, no cap
    return community, unit, owner


def statement_of(unit, as_of):
    return selectors.unit_statement(unit.pk, as_of)


def test_it_bills_a_month_and_reports_the_late_fee(estate):
    # given
    community, unit, owner = estate
    # when
    services.bill(through=date(2026, 1, 1))
    # then: 100 m² × 2.00 × 1 = 200.00, due 2026-01-05; on 2026-02-10, 36 days: 3.60.
    s = statement_of(unit, date(2026, 2, 10))
    assert (s.principal, s.late_fee, s.total, s.oldest_due, s.days_overdue) == (
        D("200.00"), D("3.60"), D("203.60"), date(2026, 1, 5), 36,
    )


def test_billing_twice_is_billing_once(estate):
    first = services.bill(through=date(2026, 3, 1))
    second = services.bill(through=date(2026, 3, 1))
    assert (first.charges_created, first.amount_billed) == (3, D("600.00"))
    assert second.charges_created == 0
    assert Charge.objects.count() == 3


def test_a_partial_payment_ends_a_stretch(estate):
    community, unit, owner = estate
    services.bill(through=date(2026, 1, 1))
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="120.00", paid_on=date(2026, 1, 20), method="cash")
    s = statement_of(unit, date(2026, 2, 10))
    # 200 × 15 + 80 × 21 = 4680 → 2.34
    assert (s.principal, s.late_fee) == (D("80.00"), D("2.34"))
    [line] = s.charges
    assert (line.paid, line.outstanding, line.days_overdue) == (D("120.00"), D("80.00"), 36)


def test_grace_days_and_the_cap(estate):
    community, unit, owner = estate
    community.tariffs.update(grace_days=10, late_fee_cap=D("0.005"))
    services.bill(through=date(2026, 1, 1))
    # s = 1-15; on 2-10: 200 × 26 × 0.0005 = 2.60, capped at 0.005 × 200 = 1.00
    assert statement_of(unit, date(2026, 2, 10)).late_fee == D("1.00")
    assert statement_of(unit, date(2026, 1, 16)).late_fee == D("0.10")
    assert statement_of(unit, date(2026, 1, 15)).late_fee == D("0.00")


def test_a_principal_waiver_ends_a_stretch_and_needs_a_second_person(estate):
    community, unit, owner = estate
    clerk, manager = factories.user("clerk"), factories.user("manager")
    services.bill(through=date(2026, 1, 1))
    charge = Charge.objects.get()
    waiver = services.request_waiver(charge_id=charge.pk, component="principal", amount="50.00", reason="整改补偿",
                                     requested_by=clerk, requested_on=date(2026, 1, 25))
    with pytest.raises(DomainError):
        services.approve_waiver(waiver_id=waiver.pk, approved_by=clerk, decided_on=date(2026, 1, 25))
    services.approve_waiver(waiver_id=waiver.pk, approved_by=manager, decided_on=date(2026, 1, 25))
    s = statement_of(unit, date(2026, 2, 10))
    # 200 × 36 − 50 × 16 = 6400 → 3.20
    assert (s.principal, s.late_fee, s.charges[0].waived) == (D("150.00"), D("3.20"), D("50.00"))


def test_ownership_changing_mid_month(estate):
    community, unit, first_owner = estate
    first_owner.ownerships.update(end=date(2026, 1, 10))
    second_owner = factories.owner(unit, "李四", start=date(2026, 1, 11))
    services.bill(through=date(2026, 1, 1))
    charges = {c.owner_id: c for c in Charge.objects.all()}
    assert (charges[first_owner.pk].amount, charges[first_owner.pk].due_date) == (D("64.52"), date(2026, 1, 5))
    assert (charges[second_owner.pk].amount, charges[second_owner.pk].due_date) == (D("135.48"), date(2026, 1, 11))
    assert (charges[second_owner.pk].period_start, charges[second_owner.pk].period_end) == (date(2026, 1, 11), date(2026, 1, 31))
    s = statement_of(unit, date(2026, 2, 1))
    # 64.52 × 27 days × 0.0005 = 0.87102 → 0.87; 135.48 × 21 × 0.0005 = 1.42254 → 1.42
    assert (s.owner, s.principal, s.late_fee) == ("李四", D("200.00"), D("2.29"))


@pytest.mark.parametrize(
    ("rule", "jan_late", "feb_principal", "feb_late"),
    [
        # Jan paid 3-05 by principal-first: its late fee 5.90 stays; Feb 150 unpaid: (200×38 − 50×10) × .0005 = 3.55
        (AllocationRule.PRINCIPAL_FIRST, D("5.90"), D("150.00"), D("3.55")),
        # civil code: 5.90 + 200 + 2.80 + 41.30; Feb (7600 − 413) × .0005 = 3.5935 → 3.59, less 2.80 paid = 0.79
        (AllocationRule.CIVIL_CODE, D("0.00"), D("158.70"), D("0.79")),
    ],
)
def test_both_allocation_rules_on_the_same_history(estate, rule, jan_late, feb_principal, feb_late):
    community, unit, owner = estate
    community.company.allocation_rule = rule
    community.company.save()
    services.bill(through=date(2026, 2, 1))
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="250.00", paid_on=date(2026, 3, 5), method="wechat")
    s = statement_of(unit, date(2026, 3, 15))
    lines = {line.period_start.month: line for line in s.charges}
    assert (lines[1].late_fee if 1 in lines else D("0.00")) == jan_late
    assert (lines[2].outstanding, lines[2].late_fee) == (feb_principal, feb_late)


def test_prepaid_credit_pays_new_charges_when_they_appear(estate):
    community, unit, owner = estate
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="500.00", paid_on=date(2025, 12, 20), method="alipay")
    assert statement_of(unit, date(2025, 12, 31)).prepaid == D("500.00")
    services.bill(through=date(2026, 3, 1))
    # Jan and Feb paid from credit on their period starts; Mar gets the last 100.00, 100.00 outstanding.
    s = statement_of(unit, date(2026, 4, 1))
    assert (s.principal, s.prepaid) == (D("100.00"), D("0.00"))
    assert statement_of(unit, date(2026, 1, 15)).prepaid == D("300.00")
    assert Payment.objects.get().unallocated == D("0.00")
    assert list(Allocation.objects.values_list("value_date", flat=True)) == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


def test_a_reversal_reopens_the_charge_from_its_date(estate):
    community, unit, owner = estate
    clerk, manager = factories.user("clerk"), factories.user("manager")
    services.bill(through=date(2026, 1, 1))
    payment = services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="200.00", paid_on=date(2026, 1, 5), method="pos")
    assert statement_of(unit, date(2026, 1, 31)).total == D("0.00")
    services.reverse_payment(payment_id=payment.pk, reversed_on=date(2026, 1, 21), reason="POS 退单", requested_by=clerk, approved_by=manager)
    s = statement_of(unit, date(2026, 1, 31))
    # unpaid again from 1-21: 200 × 10 days × 0.0005 = 1.00
    assert (s.principal, s.late_fee, s.prepaid) == (D("200.00"), D("1.00"), D("0.00"))
    assert Payment.objects.get().amount == D("200.00")  # never edited


def test_it_refuses_a_future_payment_and_writes_nothing(estate):
    community, unit, owner = estate
    with pytest.raises(DomainError, match="缴费日期不能晚于今天"):
        services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="1.00", paid_on=date(2026, 11, 24), method="cash")
    assert Payment.objects.count() == 0


def test_the_statement_json_has_the_documented_shape(estate):
    community, unit, owner = estate
    services.bill(through=date(2026, 1, 1))
    out = StringIO()
    call_command("report", "statement", "--date", "2026-02-10", "--format", "json", stdout=out)
    [row] = json.loads(out.getvalue())
    assert row == {
        "community": "阳光花园", "building": "1栋", "unit": "1", "room": "101", "owner": "张三",
        "principal": "200.00", "late_fee": "3.60", "total": "203.60", "prepaid": "0.00",
        "oldest_due": "2026-01-05", "days_overdue": 36,
        "charges": [{
            "type": "物业费", "period_start": "2026-01-01", "period_end": "2026-01-31", "due": "2026-01-05",
            "amount": "200.00", "paid": "0.00", "waived": "0.00", "outstanding": "200.00", "late_fee": "3.60",
            "days_overdue": 36,
        }],
    }


def test_a_disputed_january_waits_while_designated_and_undesignated_money_and_credit_go_elsewhere(estate):
    """民法典第560条 on one account, January to May; every figure by hand (200.00 a month, 万分之五 a day)."""
    # given: January to April billed; on 04-10 the owner disputes January
    community, unit, owner = estate
    services.bill(through=date(2026, 4, 1))
    jan, feb, mar, apr = Charge.objects.filter(unit=unit).order_by("due_date")
    dispute = collection_services.open_dispute(charge=jan, reason="一月份面积计算有误", staff=None, opened_on=date(2026, 4, 10))

    # when: 200.00 with no designation on 04-10
    plain = services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="200.00", paid_on=date(2026, 4, 10), method="cash")
    # then: the rule passes January by and pays February's principal
    assert [(a.charge_id, a.component, a.amount) for a in plain.allocations.all()] == [(feb.pk, "principal", D("200.00"))]

    # when: 200.50 designating April the same day
    chosen = services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="200.50", paid_on=date(2026, 4, 10),
                                     method="wechat", designation=[apr.pk])
    # then: April's principal and its 5 days' late fee (0.50)
    assert [(a.charge_id, a.component, a.amount) for a in chosen.allocations.order_by("pk")] == [
        (apr.pk, "principal", D("200.00")), (apr.pk, "late_fee", D("0.50"))]

    # when: 500.00 with no designation on 04-20
    ahead = services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="500.00", paid_on=date(2026, 4, 20), method="cash")
    # then: March's principal, then the late fees: February 64 days × 200 → 6.40, March 46 days → 4.60; 289.00 left
    assert [(a.charge_id, a.component, a.amount) for a in ahead.allocations.order_by("pk")] == [
        (mar.pk, "principal", D("200.00")), (feb.pk, "late_fee", D("6.40")), (mar.pk, "late_fee", D("4.60"))]
    assert ahead.unallocated == D("289.00")

    # when: May is billed
    services.bill(through=date(2026, 5, 1))
    # then: the credit pays May on 05-01 (89.00 left), and still not January
    ahead.refresh_from_db()
    assert ahead.unallocated == D("89.00")
    assert not jan.allocations.exists()

    # when: the dispute closes on 05-15 (the charge stood)
    collection_services.close_dispute(dispute=dispute, resolution="经核实面积无误", closed_on=date(2026, 5, 15))
    # then: the waiting 89.00 pays January's principal from 05-15
    assert list(jan.allocations.values_list("payment_id", "component", "amount", "value_date")) == [
        (ahead.pk, "principal", D("89.00"), date(2026, 5, 15))]
    # on 05-20 January owes 111.00 and (200 × 135 − 89 × 5) × 0.0005 = 13.2775 → 13.28; the rest is paid
    s = statement_of(unit, date(2026, 5, 20))
    assert (s.principal, s.late_fee, s.prepaid) == (D("111.00"), D("13.28"), D("0.00"))
    assert [line.charge_id for line in s.charges] == [jan.pk]
