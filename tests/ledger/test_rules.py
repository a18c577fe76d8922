"""Pure ledger rules, no database: periods, splits, the late-fee closed form, allocation order."""

from datetime import date
from decimal import Decimal as D

import pytest

from arrears.core.money import MoneyError, round_money, to_money
from arrears.ledger import rules

TERMS = rules.LateFeeTerms(D("0.0005"), 0, D("1"))


def test_it_rounds_half_up_to_the_fen():
    assert round_money(D("2.345")) == D("2.35")
    assert round_money(D("2.3449")) == D("2.34")
    assert round_money(D("-2.345")) == D("-2.35")


@pytest.mark.parametrize("bad", [1.5, "abc", "1.234", True, "NaN"])
def test_it_refuses_what_is_not_money(bad):
    with pytest.raises(MoneyError):
        to_money(bad)


def test_it_reads_money_from_text_and_ints():
    assert to_money("1,200.5") == D("1200.50")
    assert to_money(7) == D("7.00")


def test_it_aligns_quarters_to_the_calendar_year():
    periods = list(rules.billing_periods(cycle_months=3, due_day=10, effective_from=date(2026, 2, 15), effective_to=None,
                                         first_month=date(2026, 1, 1), last_month=date(2026, 7, 1)))
    assert [(p.start, p.end, p.due) for p in periods] == [
        (date(2026, 1, 1), date(2026, 3, 31), date(2026, 1, 10)),
        (date(2026, 4, 1), date(2026, 6, 30), date(2026, 4, 10)),
        (date(2026, 7, 1), date(2026, 9, 30), date(2026, 7, 10)),
    ]


def test_it_splits_a_month_between_two_owners_by_days():
    period = rules.Period(date(2026, 1, 1), date(2026, 1, 31), date(2026, 1, 5))
    shares = rules.split_by_days(D("200.00"), period, [("A", date(2020, 1, 1), date(2026, 1, 10)), ("B", date(2026, 1, 11), None)])
    # A: 200 × 10/31 = 64.516… → 64.52; B: 200 × 21/31 = 135.483… → 135.48; together exactly 200.00.
    assert [(s.key, s.start, s.end, s.amount) for s in shares] == [
        ("A", date(2026, 1, 1), date(2026, 1, 10), D("64.52")),
        ("B", date(2026, 1, 11), date(2026, 1, 31), D("135.48")),
    ]


def test_it_never_creates_a_fen_when_both_halves_round_up():
    period = rules.Period(date(2026, 4, 1), date(2026, 4, 30), date(2026, 4, 5))
    shares = rules.split_by_days(D("100.01"), period, [("A", date(2020, 1, 1), date(2026, 4, 15)), ("B", date(2026, 4, 16), None)])
    # 100.01 × 15/30 = 50.005 → 50.01 for A; B takes the rest, 50.00: no 分 appears.
    assert [s.amount for s in shares] == [D("50.01"), D("50.00")]
    assert sum(s.amount for s in shares) == D("100.01")


def test_it_bills_only_the_owned_days_when_nobody_held_the_start():
    period = rules.Period(date(2026, 1, 1), date(2026, 1, 31), date(2026, 1, 5))
    shares = rules.split_by_days(D("310.00"), period, [("B", date(2026, 1, 22), None)])
    assert [(s.amount, s.start) for s in shares] == [(D("100.00"), date(2026, 1, 22))]


def test_it_computes_a_late_fee_across_a_month_end():
    # 200.00 due 2026-01-05, 万分之五 a day; on 2026-02-10 it is 36 days late: 200 × 0.0005 × 36 = 3.60.
    fee = rules.late_fee(amount=D("200.00"), due_date=date(2026, 1, 5), terms=TERMS, as_of=date(2026, 2, 10), reductions=[])
    assert fee == D("3.60")


def test_a_partial_payment_ends_a_stretch():
    # 200 unpaid for 15 days (1-05→1-20), then 80 unpaid for 21 days (1-20→2-10): 0.0005 × (3000 + 1680) = 2.34.
    fee = rules.late_fee(amount=D("200.00"), due_date=date(2026, 1, 5), terms=TERMS, as_of=date(2026, 2, 10),
                         reductions=[(date(2026, 1, 20), D("120.00"))])
    assert fee == D("2.34")


def test_grace_days_move_the_start():
    terms = rules.LateFeeTerms(D("0.0005"), 10, D("1"))
    # s = 1-15: 200 × 5 days + 80 × 21 days = 2680 → 1.34.
    fee = rules.late_fee(amount=D("200.00"), due_date=date(2026, 1, 5), terms=terms, as_of=date(2026, 2, 10),
                         reductions=[(date(2026, 1, 20), D("120.00"))])
    assert fee == D("1.34")
    assert rules.late_fee(amount=D("200.00"), due_date=date(2026, 1, 5), terms=terms, as_of=date(2026, 1, 15), reductions=[]) == 0


def test_a_payment_before_the_grace_ends_counts_from_the_start():
    terms = rules.LateFeeTerms(D("0.0005"), 10, D("1"))
    fee = rules.late_fee(amount=D("200.00"), due_date=date(2026, 1, 5), terms=terms, as_of=date(2026, 2, 10),
                         reductions=[(date(2026, 1, 8), D("200.00"))])
    assert fee == D("0.00")


def test_the_cap_limits_the_fee():
    terms = rules.LateFeeTerms(D("0.0005"), 0, D("0.01"))
    fee = rules.late_fee(amount=D("200.00"), due_date=date(2026, 1, 5), terms=terms, as_of=date(2026, 2, 10), reductions=[])
    assert fee == D("2.00")


def test_the_fee_rounds_half_up_once_on_the_sum():
    terms = rules.LateFeeTerms(D("0.0003"), 0, D("1"))
    # 123.45 × 0.0003 × 1 = 0.037035 → 0.04
    assert rules.late_fee(amount=D("123.45"), due_date=date(2026, 1, 5), terms=terms, as_of=date(2026, 1, 6), reductions=[]) == D("0.04")


def _two_charges():
    return [
        rules.ChargeState(1, date(2026, 1, 1), date(2026, 1, 5), D("200.00"), TERMS),
        rules.ChargeState(2, date(2026, 2, 1), date(2026, 2, 5), D("200.00"), TERMS),
    ]


def test_principal_first_pays_principals_oldest_first():
    charges = _two_charges()
    planned = rules.allocate(charges=charges, payments=[rules.PaymentState("p", date(2026, 3, 5), D("250.00"))],
                             as_of=date(2026, 3, 5), rule=rules.PRINCIPAL_FIRST)
    assert [(p.charge_id, p.component, p.amount) for p in planned] == [(1, "principal", D("200.00")), (2, "principal", D("50.00"))]


def test_civil_code_pays_each_charges_late_fee_before_its_principal():
    charges = _two_charges()
    planned = rules.allocate(charges=charges, payments=[rules.PaymentState("p", date(2026, 3, 5), D("250.00"))],
                             as_of=date(2026, 3, 5), rule=rules.CIVIL_CODE)
    # Jan: 59 days → 5.90; Feb: 28 days → 2.80.
    assert [(p.charge_id, p.component, p.amount) for p in planned] == [
        (1, "late_fee", D("5.90")), (1, "principal", D("200.00")), (2, "late_fee", D("2.80")), (2, "principal", D("41.30")),
    ]


def test_credit_waits_for_the_charge_to_exist():
    charges = _two_charges()
    payments = [rules.PaymentState("p", date(2025, 12, 20), D("400.00"))]
    planned = rules.replay(charges=charges, payments=payments, since=date(2025, 12, 20), rule=rules.PRINCIPAL_FIRST)
    assert [(p.charge_id, p.value_date) for p in planned] == [(1, date(2026, 1, 1)), (2, date(2026, 2, 1))]
    assert payments[0].unallocated == 0
    assert charges[1].late_fee_accrued(date(2026, 6, 1)) == 0


def test_equal_due_dates_are_paid_in_the_order_the_charges_were_made():
    # ids 9 and 10 on the same due date: 9 first (a text sort would put "10" first).
    charges = [
        rules.ChargeState(10, date(2026, 1, 1), date(2026, 1, 5), D("100.00"), TERMS),
        rules.ChargeState(9, date(2026, 1, 1), date(2026, 1, 5), D("100.00"), TERMS),
    ]
    planned = rules.allocate(charges=charges, payments=[rules.PaymentState(1, date(2026, 1, 5), D("100.00"))],
                             as_of=date(2026, 1, 5), rule=rules.PRINCIPAL_FIRST)
    assert [(p.charge_id, p.amount) for p in planned] == [(9, D("100.00"))]


# -- the payer's designation (民法典第560条) and held charges ---------------------------------------


def _three_charges(*, held=()):
    """Jan, Feb, Mar at 200.00, due the 5th; on 03-05 Jan's late fee is 59 days → 5.90, Feb's 28 → 2.80."""
    return [
        rules.ChargeState(month, date(2026, month, 1), date(2026, month, 5), D("200.00"), TERMS, held=month in held)
        for month in (1, 2, 3)
    ]


def _planned(planned):
    return [(p.charge_id, p.component, p.amount) for p in planned]


def test_it_pays_the_designated_charge_first_then_the_rest_by_the_rule():
    # given
    charges, payment = _three_charges(), rules.PaymentState("p", date(2026, 3, 5), D("250.00"))
    # when: the payer designates February
    planned = rules.replay(charges=charges, payments=[payment], since=date(2026, 3, 5), rule=rules.PRINCIPAL_FIRST,
                           designations={"p": [2]})
    # then: Feb's principal and its 2.80 late fee, then 250 − 202.80 = 47.20 on Jan's principal by the rule
    assert _planned(planned) == [(2, "principal", D("200.00")), (2, "late_fee", D("2.80")), (1, "principal", D("47.20"))]
    assert payment.unallocated == D("0.00")


def test_it_keeps_the_payers_order_and_the_civil_code_component_order_within_it():
    # given
    charges, payment = _three_charges(), rules.PaymentState("p", date(2026, 3, 5), D("210.00"))
    # when: March first, then February, under 第561条 (late fee before principal per charge)
    planned = rules.designated(charges=charges, payment=payment, designation=[3, 2], rule=rules.CIVIL_CODE)
    # then: March has no late fee yet; 200.00 on it, then Feb's 2.80 late fee and 7.20 of its principal
    assert _planned(planned) == [(3, "principal", D("200.00")), (2, "late_fee", D("2.80")), (2, "principal", D("7.20"))]
    assert payment.unallocated == D("0.00")


def test_the_rule_passes_a_held_charge_by_and_pays_the_next_oldest():
    # given: January under dispute
    charges, payment = _three_charges(held={1}), rules.PaymentState("p", date(2026, 3, 5), D("250.00"))
    # when: no designation
    planned = rules.allocate(charges=charges, payments=[payment], as_of=date(2026, 3, 5), rule=rules.PRINCIPAL_FIRST)
    # then
    assert _planned(planned) == [(2, "principal", D("200.00")), (3, "principal", D("50.00"))]
    assert charges[0].principal_events == []


def test_only_a_designation_pays_a_held_charge():
    # given
    charges, payment = _three_charges(held={1}), rules.PaymentState("p", date(2026, 3, 5), D("100.00"))
    # when
    planned = rules.replay(charges=charges, payments=[payment], since=date(2026, 3, 5), rule=rules.CIVIL_CODE,
                           designations={"p": [1]})
    # then: 第561条 within the designated charge: its 5.90 late fee, then 94.10 of its principal
    assert _planned(planned) == [(1, "late_fee", D("5.90")), (1, "principal", D("94.10"))]


def test_prepaid_credit_never_pays_a_held_charge():
    # given: 400.00 paid ahead, January held from the start
    charges, payment = _three_charges(held={1}), rules.PaymentState("p", date(2025, 12, 20), D("400.00"))
    # when: the days go by
    planned = rules.replay(charges=charges, payments=[payment], since=date(2025, 12, 20), rule=rules.PRINCIPAL_FIRST)
    # then: February and March on their period starts; January waits
    assert [(p.charge_id, p.value_date, p.amount) for p in planned] == [
        (2, date(2026, 2, 1), D("200.00")), (3, date(2026, 3, 1), D("200.00"))]
    assert charges[0].principal_outstanding == D("200.00")


def test_money_designated_for_a_charge_not_yet_begun_waits_for_it():
    # given: paid 01-20 for February, whose period starts 02-01
    charges, payment = _three_charges(), rules.PaymentState("p", date(2026, 1, 20), D("200.00"))
    # when
    planned = rules.replay(charges=charges, payments=[payment], since=date(2026, 1, 20), rule=rules.PRINCIPAL_FIRST,
                           designations={"p": [2]})
    # then: it pays February on 02-01 and never touches January
    assert [(p.charge_id, p.value_date, p.amount) for p in planned] == [(2, date(2026, 2, 1), D("200.00"))]
    assert charges[0].principal_outstanding == D("200.00")
