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
