"""The method's pure rules: no database."""

from datetime import date
from decimal import Decimal

import pytest

from arrears.collection import rules
from arrears.collection.defaults import ladder_rows
from arrears.core.errors import DomainError


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(1, "1-5"), (5, "1-5"), (6, "6-10"), (10, "6-10"), (11, "11-30"), (30, "11-30"), (31, "31-90"), (90, "31-90"),
     (91, "91-180"), (180, "91-180"), (181, "181-365"), (365, "181-365"), (366, "366-730"), (730, "366-730"),
     (731, "730+"), (4000, "730+")],
)
def test_it_puts_each_day_in_its_bucket(days, bucket):
    assert rules.bucket_of(days) == bucket


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [(date(2026, 1, 5), date(2026, 3, 15), 2), (date(2026, 1, 5), date(2026, 3, 4), 1), (date(2026, 1, 5), date(2026, 3, 5), 2),
     (date(2025, 12, 31), date(2026, 1, 30), 0), (date(2024, 2, 29), date(2025, 2, 28), 11), (date(2026, 1, 5), date(2026, 1, 6), 0)],
)
def test_it_counts_whole_calendar_months(start, end, months):
    assert rules.whole_months(start, end) == months


@pytest.mark.parametrize(
    ("months", "amount", "tier"),
    [(12, "1.00", "A"), (0, "5000.00", "A"), (11, "4999.99", "B"), (3, "10.00", "B"), (0, "1000.00", "B"),
     (2, "999.99", "C"), (0, "0.01", "C")],
)
def test_it_tiers_by_months_or_amount(months, amount, tier):
    assert rules.tier_of(months, Decimal(amount)) == tier


@pytest.mark.parametrize(("situation", "techniques"), [
    (1, [1]), (2, [2, 3, 7]), (3, [4, 7]), (4, [3, 5, 6, 8]), (5, [3, 5, 6, 8, 9]), (6, [6]), (7, [2, 3, 7]), (8, [8, 9]),
])
def test_it_reproduces_the_seed_situation_table(situation, techniques):
    assert rules.techniques_for([situation]) == techniques


def test_it_orders_techniques_mandatory_then_optional_then_escalation():
    assert rules.techniques_for([1, 8, 6, 3]) == [1, 4, 6, 7, 8, 9]


def test_it_never_recommends_sympathy_to_an_irritable_owner():
    assert rules.techniques_for([1, 2], irritable=True) == [1, 2, 7]


@pytest.mark.parametrize(("situations", "persona", "irritable", "techniques"), [
    # 理解型: ② with the instalment offer ahead of the plain reminder
    ([1, 2, 7], "understanding", False, [2, 1, 3, 7]),
    ([1], "understanding", False, [1]),
    # 抗拒型: the service fix (⑥, then ⑤) before any demand
    ([1, 4], "resistant", False, [6, 5, 1, 3, 8]),
    ([1, 4], "resistant", True, [6, 5, 1, 8]),
    ([1, 6], "resistant", False, [6, 1]),
    ([1, 2], "resistant", False, [1, 2, 3, 7]),
    # 忽视型: the seeds' order; the education is in the words
    ([1, 2, 7], "neglectful", False, [1, 2, 3, 7]),
    # 逃避型: find them (④), everyone helps (⑦)
    ([1, 3], "evasive", False, [4, 7, 1]),
    ([1, 2], "evasive", False, [7, 1, 2, 3]),
    ([1, 3, 8], "evasive", False, [4, 7, 1, 8, 9]),
    # no persona yet: the seeds' order
    ([1, 3], "", False, [1, 4, 7]),
])
def test_it_orders_techniques_for_the_persona(situations, persona, irritable, techniques):
    assert rules.techniques_for(situations, irritable=irritable, persona=persona) == techniques


@pytest.mark.parametrize("persona", ["understanding", "resistant", "neglectful", "evasive"])
def test_the_situation_table_alone_decides_which_techniques_apply(persona):
    # every combination of the eight situations, with and without the irritable flag
    for mask in range(1, 256):
        situations = [number for number in range(1, 9) if mask & (1 << (number - 1))]
        for irritable in (False, True):
            plain = rules.techniques_for(situations, irritable=irritable)
            ordered = rules.techniques_for(situations, irritable=irritable, persona=persona)
            assert sorted(ordered) == sorted(plain) and len(ordered) == len(set(ordered))


def test_it_states_each_personas_strategy():
    assert rules.PERSONA_STRATEGY["understanding"][0] == "分期 3–6 个月、减免违约金、提前缴费优惠"
    assert set(rules.PERSONA_STRATEGY) == set(rules.PERSONA_LEAD) == {"understanding", "resistant", "neglectful", "evasive"}


@pytest.mark.parametrize(("signals", "situations"), [
    (rules.Signals(), [1]),
    (rules.Signals(broken_promises=1), [1, 2]),
    (rules.Signals(failed_streak=2), [1]),
    (rules.Signals(failed_streak=3), [1, 3]),
    (rules.Signals(dead_number=True), [1, 3]),
    (rules.Signals(open_rectification=True), [1, 4]),
    (rules.Signals(vacant_months=5), [1]),
    (rules.Signals(vacant_months=6), [1, 5]),
    (rules.Signals(unhappy_past=True), [1, 6]),
    (rules.Signals(excuses=1), [1, 7]),
    (rules.Signals(refused=True, days_overdue=89), [1]),
    (rules.Signals(refused=True, days_overdue=90), [1, 8]),
    (rules.Signals(deliberate=True, days_overdue=200), [1, 8]),
])
def test_it_reads_situations_from_signals(signals, situations):
    assert rules.situations_of(signals) == situations


@pytest.mark.parametrize(("signals", "persona"), [
    (rules.Signals(open_rectification=True), "resistant"),
    (rules.Signals(unhappy_past=True), "resistant"),
    (rules.Signals(failed_streak=3), "evasive"),
    (rules.Signals(broken_promises=2), "evasive"),
    (rules.Signals(economic=True, days_overdue=40), "understanding"),
    (rules.Signals(excuses=1, days_overdue=40), "neglectful"),
    (rules.Signals(days_overdue=10), "understanding"),
    (rules.Signals(days_overdue=31), "neglectful"),
])
def test_it_suggests_a_persona(signals, persona):
    assert rules.suggest_persona(signals, rules.situations_of(signals)) == persona


def test_limitation_runs_three_years_from_the_due_date():
    assert rules.limitation_deadline(date(2026, 1, 5)) == date(2029, 1, 5)


def test_limitation_restarts_on_the_latest_interruption_after_the_due_date():
    assert rules.limitation_deadline(date(2026, 1, 5), [date(2025, 12, 1), date(2027, 3, 8), None, date(2026, 6, 1)]) == date(2030, 3, 8)


def test_limitation_from_29_february_ends_on_28_february():
    assert rules.limitation_deadline(date(2028, 2, 29)) == date(2031, 2, 28)


@pytest.mark.parametrize(("today", "warning"), [
    (date(2028, 10, 6), None), (date(2028, 10, 7), 90), (date(2028, 12, 5), 90), (date(2028, 12, 6), 30),
    (date(2029, 1, 5), 30), (date(2029, 1, 6), None),
])
def test_it_warns_90_and_30_days_before_limitation(today, warning):
    assert rules.limitation_warning(date(2029, 1, 5), today) == warning


def _ladder():
    return [
        rules.StepRule(code=row["code"], day_offset=row["day_offset"], channel=row["channel"],
                       credit=row.get("credit", "any"), min_months=row.get("min_months", 0),
                       requires=tuple(c for c in row.get("requires_steps", "").split(",") if c),
                       days_after_required=row.get("days_after_required", 0),
                       no_payment_since_required=row.get("no_payment_since_required", False),
                       lawyer_letter_eligibility=row.get("lawyer_letter_eligibility", False),
                       quiet_days=row.get("quiet_days", 0), after_delivery=row.get("after_delivery", False))
        for row in ladder_rows() if row["day_offset"] > 0
    ]


def _state(days, **extra):
    values = {"tier": "C", "persona": "neglectful", "principal": Decimal("300.00"), "months": days // 30}
    values.update(extra)
    return rules.CaseState(days_overdue=days, **values)


@pytest.mark.parametrize(("days", "codes"), [
    (0, []), (1, ["overdue_sms"]), (2, ["overdue_sms"]), (3, ["call_3"]), (10, ["call_10", "sms_10"]), (20, ["call_20"]),
    (30, ["front_desk_flag", "visit_30"]), (60, ["front_desk_flag", "heads_up_60"]),
])
def test_a_fresh_case_gets_only_the_latest_reminder(days, codes):
    due = rules.steps_due(_ladder(), _state(days), date(2026, 6, 1))
    assert [step.code for step in due] == codes


def test_the_first_letter_follows_the_heads_up_a_day_later_then_quiet():
    fired = {"heads_up_60": date(2026, 6, 1), "front_desk_flag": date(2026, 6, 1)}
    assert [s.code for s in rules.steps_due(_ladder(), _state(60, fired=fired), date(2026, 6, 1))] == []
    assert [s.code for s in rules.steps_due(_ladder(), _state(61, fired=fired), date(2026, 6, 2))] == ["letter_1"]


def test_the_second_letter_needs_seven_days_and_no_payment_since_the_first():
    fired = {"heads_up_60": date(2026, 5, 1), "letter_1": date(2026, 5, 2), "front_desk_flag": date(2026, 4, 1)}
    assert [s.code for s in rules.steps_due(_ladder(), _state(90, fired=fired), date(2026, 5, 8))] == []
    assert [s.code for s in rules.steps_due(_ladder(), _state(90, fired=fired), date(2026, 5, 9))] == ["letter_2"]
    paid_after = _state(90, fired=fired, last_payment=date(2026, 5, 3))
    assert rules.steps_due(_ladder(), paid_after, date(2026, 5, 9)) == []


def test_no_contact_step_fires_in_a_quiet_period():
    fired = {"heads_up_60": date(2026, 5, 1), "letter_1": date(2026, 5, 2), "front_desk_flag": date(2026, 4, 1)}
    quiet = _state(95, fired=fired, quiet_until=date(2026, 5, 20))
    assert rules.steps_due(_ladder(), quiet, date(2026, 5, 20)) == []
    assert [s.code for s in rules.steps_due(_ladder(), quiet, date(2026, 5, 21))] == ["letter_2"]


def test_the_private_heads_up_before_a_lawyer_letter_needs_the_same_eligibility():
    fired = {"heads_up_60": date(2026, 1, 1), "letter_1": date(2026, 1, 2), "letter_2": date(2026, 2, 2),
             "front_desk_flag": date(2026, 1, 1)}
    assert [s.code for s in rules.steps_due(_ladder(), _state(115, fired=fired), date(2026, 3, 1))] == []
    eligible = _state(115, fired=fired, lawyer_letter_eligible=True)
    assert [s.code for s in rules.steps_due(_ladder(), eligible, date(2026, 3, 1))] == ["lawyer_heads_up"]
    paid_since_letter = _state(115, fired=fired, lawyer_letter_eligible=True, last_payment=date(2026, 2, 10))
    assert rules.steps_due(_ladder(), paid_since_letter, date(2026, 3, 1)) == []


def test_the_lawyer_letter_needs_eligibility_and_comes_five_days_after_the_heads_up():
    fired = {"heads_up_60": date(2026, 1, 1), "letter_1": date(2026, 1, 2), "letter_2": date(2026, 2, 2),
             "front_desk_flag": date(2026, 1, 1), "lawyer_heads_up": date(2026, 2, 24)}
    assert [s.code for s in rules.steps_due(_ladder(), _state(121, fired=fired), date(2026, 3, 1))] == []
    eligible = _state(121, fired=fired, lawyer_letter_eligible=True)
    assert rules.steps_due(_ladder(), eligible, date(2026, 2, 28)) == []
    assert [s.code for s in rules.steps_due(_ladder(), eligible, date(2026, 3, 1))] == ["lawyer_letter"]


def test_a_late_eligible_case_still_hears_the_heads_up_before_the_lawyer_letter():
    # given a case that becomes eligible long after day 120
    fired = {"heads_up_60": date(2026, 1, 1), "letter_1": date(2026, 1, 2), "letter_2": date(2026, 2, 2),
             "front_desk_flag": date(2026, 1, 1), "legal_review": date(2026, 3, 1)}
    eligible = _state(200, fired=fired, lawyer_letter_eligible=True)
    # then the heads-up comes first, never the letter straight away
    assert [s.code for s in rules.steps_due(_ladder(), eligible, date(2026, 5, 1))] == ["lawyer_heads_up"]


LETTER_1_FIRED = {"heads_up_60": date(2026, 3, 6), "letter_1": date(2026, 3, 7), "front_desk_flag": date(2026, 2, 4)}


@pytest.mark.parametrize(("delivered", "quiet_until", "today", "codes"), [
    (None, date(2026, 3, 14), date(2026, 3, 15), []),  # not delivered: no follow-up, whatever the date
    (None, date(2026, 3, 14), date(2026, 3, 30), []),
    (date(2026, 3, 10), date(2026, 3, 17), date(2026, 3, 17), []),  # the quiet week after delivery
    (date(2026, 3, 10), date(2026, 3, 17), date(2026, 3, 18), ["letter_1_follow_up"]),  # the day after it
    (date(2026, 3, 20), date(2026, 3, 27), date(2026, 3, 28), ["letter_1_follow_up"]),  # a late delivery
    (date(2026, 3, 20), date(2026, 3, 27), date(2026, 3, 27), []),
])
def test_the_follow_up_call_comes_the_day_after_a_delivered_letters_quiet_week(delivered, quiet_until, today, codes):
    state = _state((today - date(2026, 1, 5)).days, fired=LETTER_1_FIRED, quiet_until=quiet_until,
                   delivered={"letter_1": delivered} if delivered else {})
    assert [s.code for s in rules.steps_due(_ladder(), state, today)] == codes


def test_the_follow_up_of_a_lawyer_letter_waits_for_its_deadline():
    fired = {**LETTER_1_FIRED, "letter_2": date(2026, 4, 6), "lawyer_heads_up": date(2026, 4, 30),
             "lawyer_letter": date(2026, 5, 5)}
    # delivered 05-08; the letter's deadline (05-19, 14 days from issue) is the quiet period on record
    state = _state(140, fired=fired, quiet_until=date(2026, 5, 19), delivered={"lawyer_letter": date(2026, 5, 8)})
    assert rules.steps_due(_ladder(), state, date(2026, 5, 19)) == []
    assert [s.code for s in rules.steps_due(_ladder(), state, date(2026, 5, 20))] == ["lawyer_letter_follow_up"]


def test_it_reads_each_letter_steps_delivery_from_the_record():
    fired = {"letter_1": date(2026, 3, 7), "letter_2": date(2026, 4, 6), "call_3": date(2026, 1, 8)}
    channels = {"letter_1": "letter", "letter_2": "letter", "call_3": "call"}
    deliveries = {"letter": [date(2026, 4, 9), date(2026, 3, 10)], "call": [date(2026, 1, 8)]}
    assert rules.deliveries_by_step(fired, channels, deliveries) == {
        "letter_1": date(2026, 3, 10), "letter_2": date(2026, 4, 9), "call_3": date(2026, 1, 8)}
    assert rules.deliveries_by_step(fired, channels, {}) == {}


def test_legal_review_fires_when_reached_even_in_a_quiet_period():
    fired = {"heads_up_60": date(2026, 1, 1), "letter_1": date(2026, 1, 2), "front_desk_flag": date(2026, 1, 1)}
    state = _state(150, fired=fired, quiet_until=date(2026, 6, 5))
    assert [s.code for s in rules.steps_due(_ladder(), state, date(2026, 6, 1))] == ["legal_review"]


@pytest.mark.parametrize(("letters", "days", "deliberate", "pending", "eligible"), [
    (2, 90, True, False, True), (1, 90, True, False, False), (2, 89, True, False, False),
    (2, 90, False, False, False), (2, 90, True, True, False),
])
def test_lawyer_letter_eligibility(letters, days, deliberate, pending, eligible):
    assert rules.lawyer_letter_eligible(days_overdue=days, letters_ignored=letters, deliberate=deliberate,
                                        care_pending=pending) is eligible


@pytest.mark.parametrize("text", [
    "您好，请转告业主与物业服务中心联系，电话 {company_phone}。",
    "Hello, please ask the owner to call the service centre.",
])
def test_neutral_text_passes_when_it_says_nothing_of_a_debt(text):
    rules.validate_neutral_text(text)


@pytest.mark.parametrize(("text", "found"), [
    ("请转告业主尽快缴纳物业费", "费"), ("业主欠款 {amount}", "{amount}"), ("共计 300 元", "300 元"), ("¥300", "¥"),
    ("Your relative has overdue fees", "overdue"), ("已逾期三个月", "逾期"),
])
def test_neutral_text_is_refused_with_an_amount_or_words_of_arrears(text, found):
    with pytest.raises(DomainError) as refused:
        rules.validate_neutral_text(text)
    assert found in refused.value.zh and found in refused.value.en
