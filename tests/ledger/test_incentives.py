"""Incentives (seed 000), hand-computed to the fen through the services.

The estate: one 100 m² unit, 2.00/m²/month (200.00 a month) due on the 25th, 万分之五 a day.
An early-payment programme of 5% for paying 10 days before the due date: 10.00 off a charge due
2026-01-25 when its principal reaches 190.00 by 2026-01-15.
"""

from datetime import date
from decimal import Decimal as D

import pytest
import time_machine
from django.db import IntegrityError, transaction

from arrears.core.errors import DomainError
from arrears.ledger import grants, incentives, selectors, services
from arrears.ledger.models import (
    Allocation,
    Charge,
    Component,
    IncentiveGrant,
    Payment,
    PrepayAward,
    Waiver,
    WaiverStatus,
)
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate():
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    factories.tariff(community, due_day=25)
    manager = factories.user("manager")
    return community, unit, owner, manager


def early(community, manager, **extra):
    values = {"community_id": community.pk, "kind": "early_payment", "name": "提前缴费九五折", "valid_from": date(2026, 1, 1),
              "days": 10, "percent": "5", "created_by": manager}
    return incentives.create_programme(**{**values, **extra})


def pay(unit, owner, amount, on, **extra):
    with time_machine.travel(on, tick=False):
        return services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=amount, paid_on=on, method="cash", **extra)


def january(unit):
    return Charge.objects.get(unit=unit, period_start=date(2026, 1, 1))


def principal_paid(charge):
    return sum((a.amount for a in Allocation.objects.filter(charge=charge, component=Component.PRINCIPAL)), D("0.00"))


def credit(unit):
    return sum((p.unallocated for p in Payment.objects.filter(unit=unit)), D("0.00"))


# -- early payment -------------------------------------------------------------------------------

def test_it_settles_a_charge_paid_at_the_discounted_amount_by_the_deadline(estate):
    # given
    community, unit, owner, manager = estate
    programme = early(community, manager)
    services.bill(through=date(2026, 1, 1))
    # when 190.00 is paid on the last day, 2026-01-15
    payment = pay(unit, owner, "190.00", date(2026, 1, 15))
    # then 10.00 is waived by the programme and the charge is settled on that day
    charge = january(unit)
    grant = IncentiveGrant.objects.get()
    assert (grant.programme, grant.kind, grant.charge, grant.amount, grant.granted_on, grant.payment) == (
        programme, "early_payment", charge, D("10.00"), date(2026, 1, 15), payment)
    waiver = grant.waiver
    assert (waiver.status, waiver.component, waiver.amount, waiver.decided_on) == (
        WaiverStatus.APPROVED, Component.PRINCIPAL, D("10.00"), date(2026, 1, 15))
    assert "提前缴费九五折" in waiver.reason
    assert waiver.requested_by == manager and waiver.approved_by.username == grants.SYSTEM_USERNAME
    assert (principal_paid(charge), charge.settled_on, credit(unit)) == (D("190.00"), date(2026, 1, 15), D("0.00"))


def test_an_owner_who_pays_the_full_amount_early_keeps_the_discount_as_credit(estate):
    community, unit, owner, manager = estate
    early(community, manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "200.00", date(2026, 1, 10))
    charge = january(unit)
    assert (principal_paid(charge), charge.settled_on, credit(unit)) == (D("190.00"), date(2026, 1, 10), D("10.00"))
    # and the credit pays February's charge when it is billed: 200.00 − its own 10.00 discount = 190.00 owed
    assert IncentiveGrant.objects.get().amount == D("10.00")


def test_one_day_too_late_earns_nothing(estate):
    community, unit, owner, manager = estate
    early(community, manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "190.00", date(2026, 1, 16))
    charge = january(unit)
    assert IncentiveGrant.objects.count() == 0
    assert (principal_paid(charge), charge.settled_on) == (D("190.00"), None)


def test_a_partial_payment_earns_nothing_until_the_rest_comes_by_the_deadline(estate):
    community, unit, owner, manager = estate
    early(community, manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "100.00", date(2026, 1, 10))
    assert IncentiveGrant.objects.count() == 0
    pay(unit, owner, "90.00", date(2026, 1, 14))
    grant = IncentiveGrant.objects.get()
    assert (grant.amount, grant.granted_on) == (D("10.00"), date(2026, 1, 14))
    assert january(unit).settled_on == date(2026, 1, 14)


def test_a_partial_payment_whose_rest_comes_late_earns_nothing(estate):
    community, unit, owner, manager = estate
    early(community, manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "100.00", date(2026, 1, 10))
    pay(unit, owner, "100.00", date(2026, 1, 20))
    assert IncentiveGrant.objects.count() == 0
    assert (principal_paid(january(unit)), january(unit).settled_on) == (D("200.00"), date(2026, 1, 20))


def test_prepaid_credit_earns_the_discount_when_the_charge_is_billed(estate):
    # given 400.00 paid in December, before the charges exist
    community, unit, owner, manager = estate
    early(community, manager)
    pay(unit, owner, "400.00", date(2025, 12, 20))
    # when January and February are billed (credit is spent on each period's first day, before its deadline)
    services.bill(through=date(2026, 2, 1))
    # then each charge gets 10.00 off and 20.00 stays as credit
    assert list(IncentiveGrant.objects.order_by("granted_on").values_list("amount", "granted_on")) == [
        (D("10.00"), date(2026, 1, 1)), (D("10.00"), date(2026, 2, 1))]
    assert credit(unit) == D("20.00")


def test_a_fixed_amount_programme_limited_to_other_charge_types_gives_nothing(estate):
    community, unit, owner, manager = estate
    early(community, manager, percent=None, amount="15.00",
          charge_type_ids=[factories.charge_type("parking_fee").pk])
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "185.00", date(2026, 1, 10))
    assert IncentiveGrant.objects.count() == 0


def test_a_fixed_amount_programme_on_its_charge_type(estate):
    community, unit, owner, manager = estate
    early(community, manager, percent=None, amount="15.00", charge_type_ids=[factories.charge_type().pk])
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "185.00", date(2026, 1, 10))
    assert IncentiveGrant.objects.get().amount == D("15.00")
    assert january(unit).settled_on == date(2026, 1, 10)


def test_a_programme_outside_its_period_gives_nothing(estate):
    community, unit, owner, manager = estate
    early(community, manager, valid_from=date(2026, 2, 1))  # the January charge falls due before it starts
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "190.00", date(2026, 1, 10))
    assert IncentiveGrant.objects.count() == 0


def test_another_communitys_programme_gives_nothing(estate):
    community, unit, owner, manager = estate
    early(factories.community("月亮湾", company_obj=community.company), manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "190.00", date(2026, 1, 10))
    assert IncentiveGrant.objects.count() == 0


def test_applying_credit_twice_grants_once(estate):
    community, unit, owner, manager = estate
    early(community, manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "200.00", date(2026, 1, 10))
    services.apply_credit(pairs=[(unit.pk, owner.pk)], since=date(2026, 1, 1))
    services.apply_credit(pairs=[(unit.pk, owner.pk)], since=date(2026, 1, 10))
    assert IncentiveGrant.objects.count() == 1
    assert credit(unit) == D("10.00")
    # and the database refuses a second grant of the same charge and component
    programme = IncentiveGrant.objects.get().programme
    with pytest.raises(IntegrityError), transaction.atomic():
        grants.write_grant(programme=programme, charge_id=january(unit).pk, component=Component.PRINCIPAL,
                           amount=D("1.00"), on=date(2026, 1, 10))


def test_reversing_the_payment_withdraws_the_discount_by_new_records(estate):
    # given 190.00 paid on 2026-01-10 earned 10.00 off
    community, unit, owner, manager = estate
    early(community, manager)
    services.bill(through=date(2026, 1, 1))
    payment = pay(unit, owner, "190.00", date(2026, 1, 10))
    grant = IncentiveGrant.objects.get()
    # when the payment is reversed on 2026-01-20
    checker = factories.user("checker")
    with time_machine.travel(date(2026, 1, 20), tick=False):
        services.reverse_payment(payment_id=payment.pk, reversed_on=date(2026, 1, 20), reason="退票",
                                 requested_by=manager, approved_by=checker)
    # then the waiver stands, a withdrawal row points at the grant, and 10.00 is owed again from the reversal day
    withdrawal = IncentiveGrant.objects.get(withdraws=grant)
    assert (withdrawal.amount, withdrawal.granted_on, withdrawal.payment) == (D("-10.00"), date(2026, 1, 20), payment)
    restore = withdrawal.restores
    assert (restore.amount, restore.due_date, restore.origin, restore.late_fee_daily_rate) == (
        D("10.00"), date(2026, 1, 20), "adjustment", D("0"))
    assert Waiver.objects.get(pk=grant.waiver_id).status == WaiverStatus.APPROVED
    statement = selectors.unit_statement(unit.pk, date(2026, 1, 26))
    assert statement.principal == D("200.00")  # 190.00 of January (its waiver stands) + 10.00 restored
    # and paying again does not grant the same charge a second time
    pay(unit, owner, "200.00", date(2026, 1, 21))
    assert IncentiveGrant.objects.filter(withdraws__isnull=True).count() == 1


def test_reversing_a_payment_that_did_not_make_the_discount_keeps_it(estate):
    community, unit, owner, manager = estate
    early(community, manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "190.00", date(2026, 1, 10))
    extra = pay(unit, owner, "50.00", date(2026, 1, 12))  # credit only: January was settled already
    with time_machine.travel(date(2026, 1, 20), tick=False):
        services.reverse_payment(payment_id=extra.pk, reversed_on=date(2026, 1, 20), reason="重复")
    assert IncentiveGrant.objects.filter(withdraws__isnull=False).count() == 0


# -- programmes ---------------------------------------------------------------------------------

def test_it_refuses_a_programme_that_overlaps_another_of_its_kind(estate):
    community, unit, owner, manager = estate
    early(community, manager, valid_to=date(2026, 6, 30))
    with pytest.raises(DomainError) as error:
        early(community, manager, name="另一个", valid_from=date(2026, 6, 1))
    assert "重叠" in str(error.value.args[0]) or error.value.code == "overlap"


@pytest.mark.parametrize("extra, code", [
    ({"percent": "5", "amount": "10.00"}, "discount"),
    ({"percent": None}, "discount"),
    ({"percent": "100"}, "percent"),
    ({"percent": "0"}, "percent"),
    ({"days": 0}, "days"),
    ({"name": " "}, "name"),
    ({"valid_to": date(2025, 12, 31)}, "dates"),
    ({"percent": None, "amount": "1.234"}, "amount"),
    # longer than the money column, or no number at all: refused, never stored (a stored one broke every payment)
    ({"percent": None, "amount": "999999999999999"}, "amount"),
    ({"percent": None, "amount": "1e30"}, "amount"),
    ({"percent": None, "amount": "9" * 40}, "amount"),
    ({"percent": "NaN"}, "percent"),
    ({"percent": "sNaN"}, "percent"),
    ({"percent": "Infinity"}, "percent"),
])
def test_it_refuses_a_malformed_programme(estate, extra, code):
    community, unit, owner, manager = estate
    with pytest.raises(DomainError) as error:
        early(community, manager, **extra)
    assert error.value.code == code


def test_ending_a_programme_stops_it_for_charges_due_later(estate):
    community, unit, owner, manager = estate
    programme = early(community, manager)
    incentives.end_programme(programme_id=programme.pk, on=date(2026, 1, 31))
    services.bill(through=date(2026, 2, 1))
    pay(unit, owner, "380.00", date(2026, 1, 10))  # (credit reaches February on its first day)
    assert list(IncentiveGrant.objects.values_list("charge__period_start", flat=True)) == [date(2026, 1, 1)]
    assert PrepayAward.objects.count() == 0


# -- a prepaid year ------------------------------------------------------------------------------
# 5% off each charge of the twelve months after the payment, when the payment (with any credit)
# pays what is owed for the periods before next month and twelve months at today's tariffs.

def prepay(community, manager, **extra):
    values = {"community_id": community.pk, "kind": "prepay_year", "name": "预缴全年九五折", "valid_from": date(2026, 1, 1),
              "percent": "5", "created_by": manager}
    return incentives.create_programme(**{**values, **extra})


def test_a_prepaid_year_discounts_each_charge_of_the_year_as_it_is_billed(estate):
    # given January (200.00) is billed and open
    community, unit, owner, manager = estate
    programme = prepay(community, manager)
    services.bill(through=date(2026, 1, 1))
    # when 2,600.00 is paid on 2026-01-10: January's 200.00 and twelve months at 200.00
    payment = pay(unit, owner, "2600.00", date(2026, 1, 10))
    award = PrepayAward.objects.get()
    assert (award.programme, award.payment, award.starts, award.ends) == (
        programme, payment, date(2026, 2, 1), date(2027, 1, 31))
    assert credit(unit) == D("2400.00")
    # and the year is billed, and the month after it
    services.bill(through=date(2027, 2, 1))
    # then each of the twelve charges got 10.00 off (190.00 paid from the credit), February 2027 none
    rows = list(IncentiveGrant.objects.order_by("charge__period_start").values_list("charge__period_start", "amount",
                                                                                    "granted_on", "award"))
    assert len(rows) == 12
    assert rows[0] == (date(2026, 2, 1), D("10.00"), date(2026, 2, 1), award.pk)
    assert rows[-1][0] == date(2027, 1, 1)
    # 2,400.00 − 12 × 190.00 = 120.00 left, which pays February 2027's 200.00 in part
    feb_2027 = Charge.objects.get(unit=unit, period_start=date(2027, 2, 1))
    assert principal_paid(feb_2027) == D("120.00")
    assert credit(unit) == D("0.00")


def test_a_cent_short_of_the_year_earns_no_award(estate):
    community, unit, owner, manager = estate
    prepay(community, manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "2599.99", date(2026, 1, 10))
    assert PrepayAward.objects.count() == 0


def test_earlier_credit_counts_toward_the_year(estate):
    community, unit, owner, manager = estate
    prepay(community, manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "600.00", date(2026, 1, 5))  # before the programme's… it is in force, but 600 is not a year
    assert PrepayAward.objects.count() == 0
    pay(unit, owner, "2000.00", date(2026, 1, 10))  # 400.00 credit + 2,000.00 ≥ 2,400.00
    assert PrepayAward.objects.get().payment.amount == D("2000.00")


def test_a_fixed_reward_is_spent_on_the_first_charges_of_the_year(estate):
    community, unit, owner, manager = estate
    prepay(community, manager, percent=None, amount="250.00")
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "2600.00", date(2026, 1, 10))
    services.bill(through=date(2026, 4, 1))
    # 200.00 waives February whole, 50.00 of March; April gets nothing
    assert list(IncentiveGrant.objects.order_by("charge__period_start").values_list("charge__period_start", "amount")) == [
        (date(2026, 2, 1), D("200.00")), (date(2026, 3, 1), D("50.00"))]
    assert credit(unit) == D("2400.00") - D("150.00") - D("200.00")


def test_reversing_the_prepayment_withdraws_its_grants_and_voids_the_rest_of_the_year(estate):
    community, unit, owner, manager = estate
    prepay(community, manager)
    services.bill(through=date(2026, 1, 1))
    payment = pay(unit, owner, "2600.00", date(2026, 1, 10))
    services.bill(through=date(2026, 2, 1))
    with time_machine.travel(date(2026, 2, 10), tick=False):
        services.reverse_payment(payment_id=payment.pk, reversed_on=date(2026, 2, 10), reason="退票")
    services.bill(through=date(2026, 3, 1))
    withdrawal = IncentiveGrant.objects.get(withdraws__isnull=False)
    assert (withdrawal.amount, withdrawal.restores.amount, withdrawal.restores.due_date) == (
        D("-10.00"), D("10.00"), date(2026, 2, 10))
    assert IncentiveGrant.objects.filter(charge__period_start=date(2026, 3, 1)).count() == 0


def test_a_designated_payment_earns_no_prepaid_year(estate):
    community, unit, owner, manager = estate
    prepay(community, manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "2600.00", date(2026, 1, 10), designation=[january(unit).pk])
    assert PrepayAward.objects.count() == 0


# -- the late-fee waiver (granted by the ledger, with the first reminder collection knows) ------------
# January's 200.00 falls due 2026-01-25; 万分之五 a day. The first reminder went out on 2026-02-01;
# the programme waives the late fee of owners who clear the principal within 7 days of it.

def waiver_programme(community, manager, **extra):
    values = {"community_id": community.pk, "kind": "late_fee_waiver", "name": "主动缴清免违约金", "valid_from": date(2026, 1, 1),
              "days": 7, "created_by": manager}
    return incentives.create_programme(**{**values, **extra})


def test_the_late_fee_is_waived_for_an_owner_who_clears_the_principal_in_time(estate):
    community, unit, owner, manager = estate
    waiver_programme(community, manager)
    services.bill(through=date(2026, 1, 1))
    # 200.00 on 2026-02-05 pays the principal (principal first); 11 days × 0.10 = 1.10 late fee is left
    pay(unit, owner, "200.00", date(2026, 2, 5))
    charge = january(unit)
    assert charge.settled_on is None
    written = incentives.grant_late_fee_waivers(first_reminders={(unit.pk, owner.pk): date(2026, 2, 1)},
                                                as_of=date(2026, 2, 6))
    assert [(g.kind, g.component, g.amount, g.granted_on) for g in written] == [
        ("late_fee_waiver", Component.LATE_FEE, D("1.10"), date(2026, 2, 6))]
    charge.refresh_from_db()
    assert charge.settled_on == date(2026, 2, 6)
    # and asking again grants nothing more
    assert incentives.grant_late_fee_waivers(first_reminders={(unit.pk, owner.pk): date(2026, 2, 1)},
                                             as_of=date(2026, 2, 7)) == []


def test_the_late_fee_stays_for_an_owner_who_clears_the_principal_a_day_too_late(estate):
    community, unit, owner, manager = estate
    waiver_programme(community, manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "200.00", date(2026, 2, 9))  # 2026-02-01 + 7 = 2026-02-08
    assert incentives.grant_late_fee_waivers(first_reminders={(unit.pk, owner.pk): date(2026, 2, 1)},
                                             as_of=date(2026, 2, 10)) == []


def test_the_late_fee_stays_while_any_overdue_principal_is_unpaid(estate):
    community, unit, owner, manager = estate
    waiver_programme(community, manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "150.00", date(2026, 2, 5))
    assert incentives.grant_late_fee_waivers(first_reminders={(unit.pk, owner.pk): date(2026, 2, 1)},
                                             as_of=date(2026, 2, 6)) == []


def test_no_late_fee_waiver_outside_the_programmes_dates_or_community(estate):
    community, unit, owner, manager = estate
    waiver_programme(community, manager, valid_from=date(2026, 3, 1))
    waiver_programme(factories.community("月亮湾", company_obj=community.company), manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "200.00", date(2026, 2, 5))
    assert incentives.grant_late_fee_waivers(first_reminders={(unit.pk, owner.pk): date(2026, 2, 1)},
                                             as_of=date(2026, 2, 6)) == []


def test_reversing_the_payment_withdraws_the_late_fee_waiver(estate):
    community, unit, owner, manager = estate
    waiver_programme(community, manager)
    services.bill(through=date(2026, 1, 1))
    payment = pay(unit, owner, "200.00", date(2026, 2, 5))
    incentives.grant_late_fee_waivers(first_reminders={(unit.pk, owner.pk): date(2026, 2, 1)}, as_of=date(2026, 2, 6))
    with time_machine.travel(date(2026, 2, 10), tick=False):
        services.reverse_payment(payment_id=payment.pk, reversed_on=date(2026, 2, 10), reason="退票")
    withdrawal = IncentiveGrant.objects.get(withdraws__isnull=False)
    assert (withdrawal.kind, withdrawal.amount, withdrawal.restores.amount) == ("late_fee_waiver", D("-1.10"), D("1.10"))


# -- measured -------------------------------------------------------------------------------------

def test_incentive_figures_count_grants_units_cost_and_eligible_units(estate):
    # given two owner-units billed January, one of which pays early, and a programme of another community
    community, unit, owner, manager = estate
    programme = early(community, manager)
    neighbour_unit = factories.unit(community, room="102")
    factories.owner(neighbour_unit, "李四")
    idle = early(factories.community("月亮湾", company_obj=community.company), manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "190.00", date(2026, 1, 10))
    # when
    figures = selectors.incentive_figures(start=date(2026, 1, 1), end=date(2026, 1, 31))
    # then
    assert figures == [
        {"programme_id": programme.pk, "community_id": community.pk, "kind": "early_payment", "name": "提前缴费九五折",
         "grants": 1, "units": 1, "cost": D("10.00"), "eligible_units": 2},
        {"programme_id": idle.pk, "community_id": idle.community_id, "kind": "early_payment", "name": "提前缴费九五折",
         "grants": 0, "units": 0, "cost": D("0.00"), "eligible_units": 0},
    ]
    assert selectors.incentive_figures(start=date(2026, 2, 1), end=date(2026, 2, 28), community_ids=[community.pk]) == [
        {"programme_id": programme.pk, "community_id": community.pk, "kind": "early_payment", "name": "提前缴费九五折",
         "grants": 0, "units": 0, "cost": D("0.00"), "eligible_units": 0},
    ]


def test_incentive_figures_is_one_query(estate, django_assert_num_queries):
    community, unit, owner, manager = estate
    early(community, manager)
    waiver_programme(community, manager)
    prepay(community, manager)
    with django_assert_num_queries(1):
        assert len(selectors.incentive_figures(start=date(2026, 1, 1), end=date(2026, 12, 31))) == 3


# -- append-only ----------------------------------------------------------------------------------

def _refused(sql, params):
    from django.db import connection

    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    assert "append-only evidence" in str(error.value)


def test_the_database_refuses_to_change_a_grant_or_an_award(estate):
    from django.db import connection

    community, unit, owner, manager = estate
    prepay(community, manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "2600.00", date(2026, 1, 10))
    services.bill(through=date(2026, 2, 1))
    grant, award = IncentiveGrant.objects.get(), PrepayAward.objects.get()
    _refused("UPDATE ledger_incentivegrant SET amount = %s WHERE id = %s", ["99.00", grant.pk])
    _refused("UPDATE ledger_incentivegrant SET granted_on = %s WHERE id = %s", [date(2026, 6, 1), grant.pk])
    _refused("UPDATE ledger_prepayaward SET ends = %s WHERE id = %s", [date(2030, 1, 1), award.pk])
    if connection.vendor == "postgresql":
        _refused("DELETE FROM ledger_incentivegrant WHERE id = %s", [grant.pk])
        _refused("DELETE FROM ledger_prepayaward WHERE id = %s", [award.pk])
    with pytest.raises(DomainError):
        IncentiveGrant.objects.filter(pk=grant.pk).update(amount=D("1.00"))
    with pytest.raises(DomainError):
        grant.delete()
    grant.refresh_from_db()
    assert grant.amount == D("10.00")


def test_a_programme_cannot_end_before_a_discount_it_granted(estate):
    # given a programme that granted 10.00 off on 2026-01-10
    community, unit, owner, manager = estate
    programme = early(community, manager)
    services.bill(through=date(2026, 1, 1))
    pay(unit, owner, "190.00", date(2026, 1, 10))
    # when a manager tries to end it on the 5th, then on the 10th
    with pytest.raises(DomainError) as error:
        incentives.end_programme(programme_id=programme.pk, on=date(2026, 1, 5))
    # then the earlier end is refused with the reason (the grant would outlive its programme); the 10th is fine
    assert error.value.code == "granted" and "2026-01-10" in str(error.value)
    assert incentives.end_programme(programme_id=programme.pk, on=date(2026, 1, 10)).valid_to == date(2026, 1, 10)


def test_a_withdrawal_within_the_statements_window_lists_its_older_grant(estate):
    # given a grant of 2026-01-10 whose payment is reversed more than a year later
    community, unit, owner, manager = estate
    early(community, manager)
    services.bill(through=date(2026, 1, 1))
    payment = pay(unit, owner, "190.00", date(2026, 1, 10))
    with time_machine.travel(date(2027, 3, 1), tick=False):
        services.reverse_payment(payment_id=payment.pk, reversed_on=date(2027, 3, 1), reason="退票",
                                 requested_by=manager, approved_by=factories.user("checker"))
    # when the statement lists the last year's discounts
    lines = selectors.owner_incentive_grants(unit_ids=[unit.pk], owner_id=owner.pk, since=date(2026, 3, 1))
    # then the old grant is there, marked withdrawn
    assert [(line.granted_on, line.withdrawn) for line in lines] == [(date(2026, 1, 10), True)]
