"""The compliance guard: every rule at its edges on `decide` (no DB), then the loaders on the DB."""

import logging
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arrears.collection import guard
from arrears.collection.guard import (
    ContactRequest,
    GuardDecision,
    GuardFacts,
    GuardPolicy,
    GuardRule,
    HolidayCalendar,
    channel_is_contact,
    check_contact,
    check_many,
    decide,
    first_allowed,
)
from arrears.collection.models import (
    Case,
    ChargeDispute,
    CollectionPolicy,
    ContactAttempt,
    OutgoingMessage,
)
from arrears.estate.models import Contact
from arrears.ledger.models import Charge
from tests import factories

SH = ZoneInfo("Asia/Shanghai")
TUESDAY = date(2026, 9, 15)  # an ordinary working day


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SH)


NO_FACTS = GuardFacts()
DEFAULT_POLICY = GuardPolicy()


def judge(channel, when, *, facts=NO_FACTS, policy=DEFAULT_POLICY, calendar=None, neutral=False) -> GuardDecision:
    request = ContactRequest(owner_id=1, unit_id=1, channel=channel, at=when, neutral=neutral)
    return decide(request, facts, policy, calendar or HolidayCalendar())


def recent(**times) -> GuardFacts:
    return GuardFacts(recent=times)


@pytest.fixture
def fresh_warnings(monkeypatch):
    """The ignored-line warning is logged once per process: start each test with none logged, nothing parsed."""
    monkeypatch.setattr(guard, "_warned_lines", set())
    guard.community_days_off.cache_clear()


# -- windows ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("hour", "minute", "allowed"), [
    (7, 59, False), (8, 0, True), (11, 59, True), (12, 0, False), (13, 59, False), (14, 0, True),
    (20, 59, True), (21, 0, False),
])
def test_it_allows_calls_only_inside_the_windows(hour, minute, allowed):
    decision = judge("call", at(TUESDAY, hour, minute))

    assert decision.allowed is allowed
    assert decision.rule == ("" if allowed else GuardRule.OUTSIDE_HOURS)


def test_it_says_which_windows_a_call_may_use():
    decision = judge("call", at(TUESDAY, 7, 59))

    assert decision == GuardDecision(
        allowed=False, rule="outside_hours",
        reason_zh="电话仅可在 08:00–12:00、14:00–21:00 拨打",
        reason_en="calls only 08:00–12:00 and 14:00–21:00",
        next_allowed=at(TUESDAY, 8, 0),
    )
    assert decision.reason == "电话仅可在 08:00–12:00、14:00–21:00 拨打 / calls only 08:00–12:00 and 14:00–21:00"


def test_it_points_a_lunchtime_call_to_the_afternoon_window():
    assert judge("call", at(TUESDAY, 12, 0)).next_allowed == at(TUESDAY, 14, 0)
    assert judge("visit", at(TUESDAY, 13, 59)).next_allowed == at(TUESDAY, 14, 0)


def test_it_points_a_call_at_nine_pm_to_the_next_morning():
    assert judge("call", at(TUESDAY, 21, 0)).next_allowed == at(date(2026, 9, 16), 8, 0)


def test_it_points_a_call_on_the_eve_of_national_day_past_the_holiday():
    decision = judge("call", at(date(2026, 9, 30), 21, 0))

    assert decision.rule == "outside_hours"
    assert decision.next_allowed == at(date(2026, 10, 8), 8, 0)


@pytest.mark.parametrize(("hour", "minute", "allowed"), [(8, 59, False), (9, 0, True), (19, 59, True), (20, 0, False)])
@pytest.mark.parametrize("channel", ["sms", "wechat"])
def test_it_sends_messages_only_between_nine_and_eight(channel, hour, minute, allowed):
    decision = judge(channel, at(TUESDAY, hour, minute))

    assert decision.allowed is allowed
    assert decision.rule == ("" if allowed else "outside_hours")


def test_it_says_when_an_sms_may_go():
    decision = judge("sms", at(TUESDAY, 20, 0))

    assert (decision.reason_zh, decision.next_allowed) == ("短信仅可在 09:00–20:00 发送", at(date(2026, 9, 16), 9, 0))


def test_it_judges_the_time_in_shanghai_whatever_the_zone_given():
    assert judge("call", datetime(2026, 9, 15, 0, 0, tzinfo=UTC)).allowed is True  # 08:00 in Shanghai
    assert judge("call", datetime(2026, 9, 14, 23, 59, tzinfo=UTC)).rule == "outside_hours"  # 07:59


def test_it_refuses_a_naive_time():
    with pytest.raises(ValueError, match="aware"):
        judge("call", datetime(2026, 9, 15, 10, 0))


def test_it_uses_the_community_windows():
    policy = GuardPolicy(call_afternoon_end=time(18, 0), sms_start=time(10, 0))

    assert judge("call", at(TUESDAY, 18, 0), policy=policy).reason_zh == "电话仅可在 08:00–12:00、14:00–18:00 拨打"
    assert judge("sms", at(TUESDAY, 9, 30), policy=policy).next_allowed == at(TUESDAY, 10, 0)


# -- holidays and weekends --------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["sms", "call", "visit", "wechat"])
def test_it_blocks_contact_on_a_statutory_holiday(channel):
    decision = judge(channel, at(date(2026, 10, 1), 10, 0))

    assert decision.rule == "holiday"
    assert decision.reason == "2026-10-01 是法定节假日（国庆节），不联系业主 / 2026-10-01 is a statutory holiday (National Day): no contact"
    assert decision.next_allowed == (at(date(2026, 10, 8), 8, 0) if channel in ("call", "visit") else at(date(2026, 10, 8), 9, 0))


def test_it_blocks_the_last_day_of_a_holiday_and_allows_the_day_after():
    assert judge("call", at(date(2026, 10, 7), 10, 0)).rule == "holiday"
    assert judge("call", at(date(2026, 10, 8), 8, 0)).allowed is True


def test_it_allows_ordinary_weekends_by_default():
    assert judge("call", at(date(2026, 10, 17), 10, 0)).allowed is True


def test_it_treats_a_swapped_saturday_as_a_working_day():
    no_weekends = GuardPolicy(contact_on_weekends=False)

    for swapped in (date(2026, 10, 10), date(2026, 9, 20), date(2026, 2, 14), date(2026, 2, 28)):
        assert judge("call", at(swapped, 10, 0), policy=no_weekends).allowed is True, swapped
    ordinary = judge("call", at(date(2026, 10, 17), 10, 0), policy=no_weekends)
    assert (ordinary.rule, ordinary.next_allowed) == ("weekend", at(date(2026, 10, 19), 8, 0))
    assert ordinary.reason_zh == "2026-10-17 是周末，本小区策略为周末不联系"


@pytest.mark.parametrize("channel", ["letter", "lawyer_letter"])
def test_it_posts_letters_on_holidays_and_at_night(channel):
    assert judge(channel, at(date(2026, 10, 1), 23, 30)).allowed is True
    assert judge(channel, at(date(2026, 10, 17), 3, 0), policy=GuardPolicy(contact_on_weekends=False)).allowed is True


def test_it_never_lets_the_old_fallback_list_make_a_working_day(caplog, fresh_warnings):
    # given: a community list written for the old fail-open fallback: a holiday and a "+" 调休 working day
    no_weekends = GuardPolicy(contact_on_weekends=False, fallback_holidays="2027-01-01\n+2027-01-09\n\nnot-a-date\n2027-03-10\n")

    # when
    with caplog.at_level(logging.WARNING, logger="arrears.collection.guard"):
        new_year = judge("call", at(date(2027, 1, 1), 10, 0), policy=no_weekends)
        swapped = judge("call", at(date(2027, 1, 9), 10, 0), policy=no_weekends)
        community_day = judge("call", at(date(2027, 3, 10), 10, 0), policy=no_weekends)
        tuesday = judge("call", at(date(2027, 3, 9), 10, 0), policy=no_weekends)

    # then: 2027-01-01 is a statutory holiday by law, the "+" line makes no working day (no 调休 is
    # known before the 2027 arrangement is confirmed), the list's plain dates still block
    assert (new_year.rule, new_year.reason_zh) == ("holiday", "2027-01-01 是法定节假日（元旦），不联系业主；2027 年放假安排尚未确认")
    assert new_year.next_allowed == at(date(2027, 1, 4), 8, 0)  # the presumed block runs Fri 1 – Sun 3 January
    assert (swapped.rule, swapped.next_allowed) == ("weekend", at(date(2027, 1, 11), 8, 0))
    assert (community_day.rule, community_day.reason_zh) == ("holiday", "2027-03-10 是本小区设定的不联系日")
    assert tuesday.allowed is True
    assert [r.getMessage() for r in caplog.records if "fallback_holidays line" in r.getMessage()] == [
        "fallback_holidays line 2 ignored: a working day comes only from a confirmed holiday arrangement: '+2027-01-09'",
        "fallback_holidays line 4 is not a YYYY-MM-DD date: 'not-a-date'",
    ]


# -- caps -------------------------------------------------------------------------------------


def test_it_allows_the_second_sms_in_seven_days():
    assert judge("sms", at(TUESDAY), facts=recent(sms=[at(date(2026, 9, 10))])).allowed is True


def test_it_blocks_the_third_sms_until_the_first_ages_out():
    facts = recent(sms=[at(date(2026, 9, 10), 19, 0)], wechat=[at(date(2026, 9, 14))])

    decision = judge("sms", at(TUESDAY), facts=facts)

    # 09-16 still counts 09-10 (its 7 days are 09-10…09-16); on 09-17 only the WeChat message is left.
    assert decision == GuardDecision(
        allowed=False, rule="sms_cap", reason_zh="7 日内已发短信/微信 2 条，上限 2 条",
        reason_en="2 SMS/WeChat messages in 7 days; the cap is 2", next_allowed=at(date(2026, 9, 17), 9, 0),
    )
    assert judge("wechat", at(date(2026, 9, 16), 19, 59), facts=facts).rule == "sms_cap"
    assert judge("sms", at(date(2026, 9, 17), 9, 0), facts=facts).allowed is True


def test_it_does_not_count_contacts_outside_the_seven_days():
    facts = recent(sms=[at(date(2026, 9, 8), 23, 59), at(date(2026, 9, 16), 9, 0)])

    assert judge("sms", at(TUESDAY), facts=facts).allowed is True


def test_it_blocks_the_third_call_of_the_day():
    facts = recent(call=[at(TUESDAY, 8, 30), at(TUESDAY, 9, 0)])

    decision = judge("call", at(TUESDAY, 10, 0), facts=facts)

    assert (decision.rule, decision.reason_zh) == ("call_day_cap", "当日已拨打 2 次电话，上限 2 次")
    assert decision.next_allowed == at(date(2026, 9, 16), 8, 0)
    assert judge("call", at(TUESDAY, 10, 0), facts=recent(call=[at(TUESDAY, 8, 30)])).allowed is True


def test_it_blocks_the_eighth_call_in_seven_days():
    calls = [at(date(2026, 9, d), h) for d in (11, 12, 13) for h in (9, 15)] + [at(date(2026, 9, 14), 9)]

    decision = judge("call", at(TUESDAY, 10, 0), facts=recent(call=calls))

    assert (decision.rule, decision.reason_zh) == ("call_week_cap", "7 日内已拨打 7 次电话，上限 7 次")
    # 09-16 and 09-17 still see 7 calls; 09-18's 7 days start on 09-12, leaving 5.
    assert decision.next_allowed == at(date(2026, 9, 18), 8, 0)
    assert judge("call", at(TUESDAY, 10, 0), facts=recent(call=calls[1:])).allowed is True


def test_it_blocks_the_second_visit_in_seven_days():
    decision = judge("visit", at(TUESDAY, 10, 0), facts=recent(visit=[at(date(2026, 9, 10), 15, 0)]))

    assert (decision.rule, decision.reason_zh) == ("visit_cap", "7 日内已上门 1 次，上限 1 次")
    assert decision.next_allowed == at(date(2026, 9, 17), 8, 0)


def test_it_does_not_cap_letters_or_count_them_as_calls():
    facts = recent(letter=[at(TUESDAY, 9, 0)] * 5, call=[at(TUESDAY, 9, 0)])

    assert judge("letter", at(TUESDAY), facts=facts).allowed is True
    assert judge("call", at(TUESDAY), facts=facts).allowed is True


# -- people's blocks: do-not-contact, dispute, third party ------------------------------------


@pytest.mark.parametrize("channel", ["sms", "call", "visit", "wechat", "front_desk_flag"])
def test_it_honours_do_not_contact(channel):
    decision = judge(channel, at(TUESDAY), facts=GuardFacts(do_not_contact=True))

    assert (decision.allowed, decision.rule, decision.next_allowed) == (False, "do_not_contact", None)


@pytest.mark.parametrize("channel", ["letter", "lawyer_letter"])
def test_it_still_posts_written_demands_to_an_owner_who_asked_not_to_be_contacted(channel):
    assert judge(channel, at(TUESDAY), facts=GuardFacts(do_not_contact=True)).allowed is True


@pytest.mark.parametrize("channel", ["sms", "call", "visit", "wechat", "letter", "lawyer_letter", "front_desk_flag"])
def test_it_pauses_every_contact_during_a_dispute(channel):
    decision = judge(channel, at(TUESDAY), facts=GuardFacts(disputed=True))

    assert (decision.rule, decision.next_allowed) == ("dispute", None)


def test_it_blocks_telling_a_third_party_of_the_debt():
    decision = judge("call", at(TUESDAY), facts=GuardFacts(may_disclose=False))

    assert (decision.rule, decision.next_allowed) == ("third_party", None)


def test_it_lets_neutral_words_reach_a_third_party_within_the_other_rules():
    third_party = GuardFacts(may_disclose=False)

    assert judge("call", at(TUESDAY), facts=third_party, neutral=True).allowed is True
    assert judge("call", at(TUESDAY, 22, 0), facts=third_party, neutral=True).rule == "outside_hours"


def test_it_reports_the_first_rule_that_blocks():
    everything = GuardFacts(do_not_contact=True, disputed=True, may_disclose=False, quiet_until=TUESDAY)

    assert judge("call", at(date(2026, 10, 1), 22, 0), facts=everything).rule == "do_not_contact"
    assert judge("letter", at(TUESDAY), facts=everything).rule == "dispute"


# -- quiet period -----------------------------------------------------------------------------


def test_it_keeps_quiet_through_the_last_day_and_not_after():
    quiet = GuardFacts(quiet_until=TUESDAY)

    last_day = judge("call", at(TUESDAY, 20, 0), facts=quiet)

    assert (last_day.rule, last_day.reason_zh) == ("quiet_period", "发函后静默期至 2026-09-15（含当日），期间不联系业主")
    assert last_day.next_allowed == at(date(2026, 9, 16), 8, 0)
    assert judge("call", at(date(2026, 9, 16), 8, 0), facts=quiet).allowed is True


def test_the_quiet_period_holds_neither_letters_nor_the_front_desk_flag():
    quiet = GuardFacts(quiet_until=TUESDAY)

    assert judge("letter", at(TUESDAY), facts=quiet).allowed is True
    assert judge("lawyer_letter", at(TUESDAY), facts=quiet).allowed is True
    assert judge("front_desk_flag", at(TUESDAY), facts=quiet).allowed is True
    assert judge("sms", at(TUESDAY, 10, 0), facts=quiet).rule == "quiet_period"


def test_it_gives_no_next_time_beyond_sixty_days():
    decision = judge("call", at(TUESDAY), facts=GuardFacts(quiet_until=date(2026, 11, 30)))

    assert (decision.rule, decision.next_allowed) == ("quiet_period", None)


# -- small helpers ----------------------------------------------------------------------------


def test_it_knows_which_channels_are_contacts():
    assert [c for c in ("sms", "call", "visit", "wechat", "letter", "lawyer_letter", "front_desk_flag", "legal_review")
            if channel_is_contact(c)] == ["sms", "call", "visit", "wechat", "letter", "lawyer_letter", "front_desk_flag"]
    assert judge("legal_review", at(date(2026, 10, 1), 23, 0), facts=GuardFacts(do_not_contact=True)).allowed is True


def test_it_defaults_to_the_model_defaults():
    assert GuardPolicy.from_model(CollectionPolicy()) == GuardPolicy()


def test_it_fits_every_rule_in_the_stored_column():
    max_length = ContactAttempt._meta.get_field("blocked_rule").max_length

    assert max(len(rule.value) for rule in GuardRule) <= max_length


# -- loading the facts (database) -------------------------------------------------------------


@pytest.fixture
def estate(db):
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    return community, unit, owner


def make_case(unit, owner, **extra) -> Case:
    fields = dict(
        community=unit.community, unit=unit, owner=owner, opened_on=date(2026, 8, 6), as_of=date(2026, 9, 15),
        principal=Decimal("400.00"), late_fee=Decimal("0.00"), oldest_due=date(2026, 8, 5), days_overdue=41,
        months_overdue=1, bucket="31-90", tier="C",
    )
    return Case.objects.create(**{**fields, **extra})


def make_charge(unit, owner, month: int, **extra) -> Charge:
    return Charge.objects.create(
        community=unit.community, unit=unit, owner=owner, charge_type=factories.charge_type(),
        period_start=date(2026, month, 1), period_end=date(2026, month, 28), amount=Decimal("200.00"),
        due_date=date(2026, month, 5), **extra,
    )


def dispute(charge, **extra) -> ChargeDispute:
    return ChargeDispute.objects.create(community=charge.community, charge=charge, reason="面积有误", opened_on=date(2026, 9, 1), **extra)


def request_for(unit, owner, channel="call", when=None, **extra) -> ContactRequest:
    return ContactRequest(owner_id=owner.pk, unit_id=unit.pk, channel=channel, at=when or at(TUESDAY), **extra)


def attempt(unit, owner, channel, when, outcome="answered", **extra) -> ContactAttempt:
    return ContactAttempt.objects.create(
        community=unit.community, unit=unit, owner=owner, channel=channel, at=when, outcome=outcome, **extra,
    )


def message(unit, owner, key, scheduled_on, *, channel="sms", **extra) -> OutgoingMessage:
    return OutgoingMessage.objects.create(
        community=unit.community, unit=unit, owner=owner, key=key, channel=channel, template_code="reminder",
        scheduled_on=scheduled_on, **extra,
    )


def test_it_loads_do_not_contact(estate):
    _, unit, owner = estate
    owner.do_not_contact = True
    owner.save(update_fields=["do_not_contact"])

    assert check_contact(request_for(unit, owner, "call")).rule == "do_not_contact"
    assert check_contact(request_for(unit, owner, "letter")).allowed is True


def test_it_pauses_only_when_every_overdue_charge_is_disputed(estate):
    _, unit, owner = estate
    august, september = make_charge(unit, owner, 8), make_charge(unit, owner, 9)
    make_charge(unit, owner, 10)  # not yet due on 09-15
    dispute(august)
    dispute(september, closed_on=date(2026, 9, 10), resolution="面积无误")

    assert check_contact(request_for(unit, owner)).allowed is True  # September's dispute is closed

    dispute(september)

    assert check_contact(request_for(unit, owner)).rule == "dispute"


def test_it_ignores_charges_settled_by_the_day(estate):
    _, unit, owner = estate
    dispute(make_charge(unit, owner, 8))
    make_charge(unit, owner, 7, settled_on=date(2026, 9, 1))

    assert check_contact(request_for(unit, owner)).rule == "dispute"
    assert check_contact(request_for(unit, owner, when=at(date(2026, 8, 20)))).allowed is True  # July still open then


def test_it_does_not_call_an_owner_without_overdue_charges_disputed(estate):
    _, unit, owner = estate

    assert check_contact(request_for(unit, owner)).allowed is True


def test_it_checks_what_a_contact_may_be_told(estate):
    community, unit, owner = estate
    relative = Contact.objects.create(community=community, owner=owner, kind="mobile", value="13800000001", relation="relative")
    spouse = Contact.objects.create(community=community, owner=owner, kind="mobile", value="13800000002", relation="spouse",
                                    disclosure_authorised=True)
    own = Contact.objects.create(community=community, owner=owner, kind="mobile", value="13800000003")

    assert check_contact(request_for(unit, owner, contact_id=relative.pk)).rule == "third_party"
    assert check_contact(request_for(unit, owner, contact_id=relative.pk, neutral=True)).allowed is True
    assert check_contact(request_for(unit, owner, contact_id=spouse.pk)).allowed is True
    assert check_contact(request_for(unit, owner, contact_id=own.pk)).allowed is True
    assert check_contact(request_for(unit, owner, contact_id=999_999)).rule == "third_party"


def test_it_loads_the_quiet_period_from_the_case_or_the_open_case(estate):
    _, unit, owner = estate
    case = make_case(unit, owner, quiet_until=TUESDAY)

    assert check_contact(request_for(unit, owner, case_id=case.pk)).rule == "quiet_period"
    assert check_contact(request_for(unit, owner)).rule == "quiet_period"
    assert check_contact(request_for(unit, owner, when=at(date(2026, 9, 16)))).allowed is True


def test_it_counts_attempts_and_queued_messages_but_not_blocked_or_cancelled_ones(estate):
    _, unit, owner = estate
    attempt(unit, owner, "sms", at(date(2026, 9, 10)))
    attempt(unit, owner, "sms", at(date(2026, 9, 11)), outcome="blocked", blocked_rule="sms_cap")
    message(unit, owner, "m-cancelled", date(2026, 9, 12), status="cancelled")
    message(unit, owner, "m-old", date(2026, 9, 8), status="sent")

    assert check_contact(request_for(unit, owner, "sms")).allowed is True

    queued = message(unit, owner, "m-queued", TUESDAY, channel="wechat", not_before=at(TUESDAY, 9, 0))

    decision = check_contact(request_for(unit, owner, "sms"))
    assert (decision.rule, decision.next_allowed) == ("sms_cap", at(date(2026, 9, 17), 9, 0))
    # The queued message checked again before sending does not count against itself.
    assert check_contact(request_for(unit, owner, "wechat", message_id=queued.pk)).allowed is True


def test_it_counts_contacts_per_owner_across_units(estate):
    community, unit, owner = estate
    second_unit = factories.unit(community, room="102")
    attempt(second_unit, owner, "visit", at(date(2026, 9, 14), 15))

    assert check_contact(request_for(unit, owner, "visit")).rule == "visit_cap"


def test_it_uses_the_community_policy(estate):
    community, unit, owner = estate
    saturday = at(date(2026, 10, 17))

    assert check_contact(request_for(unit, owner, when=saturday)).allowed is True  # no policy row: defaults

    CollectionPolicy.objects.create(community=community, contact_on_weekends=False)

    assert check_contact(request_for(unit, owner, when=saturday)).rule == "weekend"


def test_it_gives_the_first_allowed_instant(estate):
    _, unit, owner = estate

    assert first_allowed(request_for(unit, owner, when=at(TUESDAY, 10, 0))) == at(TUESDAY, 10, 0)
    assert first_allowed(request_for(unit, owner, when=at(TUESDAY, 12, 30))) == at(TUESDAY, 14, 0)


def build_portfolio(count: int) -> list[ContactRequest]:
    """`count` owners on their own units, each with a case, a charge, a contact and a recent call."""
    community = factories.community(f"小区{count}", company_obj=factories.company(f"物业{count}"))
    CollectionPolicy.objects.create(community=community, contact_on_weekends=False)
    requests = []
    for number in range(count):
        unit = factories.unit(community, room=str(1000 + number))
        owner = factories.owner(unit, f"业主{number}", do_not_contact=number % 5 == 1)
        case = make_case(unit, owner, quiet_until=TUESDAY if number % 5 == 2 else None)
        charge = make_charge(unit, owner, 8)
        if number % 5 == 3:
            dispute(charge)
        contact = Contact.objects.create(community=community, owner=owner, kind="mobile", value=f"1390000{number:04d}",
                                         relation="relative" if number % 5 == 4 else "self")
        attempt(unit, owner, "call", at(TUESDAY, 8, 30))
        attempt(unit, owner, "call", at(TUESDAY, 9, 0))
        requests.append(ContactRequest(owner_id=owner.pk, unit_id=unit.pk, channel="call" if number % 2 else "sms",
                                       at=at(TUESDAY, 10, 0), case_id=case.pk, contact_id=contact.pk))
    return requests


@pytest.mark.django_db
def test_it_checks_many_in_a_constant_number_of_queries(django_assert_num_queries):
    one, twenty = build_portfolio(1), build_portfolio(20)

    with django_assert_num_queries(8):  # the facts (6), the policies, the confirmed holiday arrangements
        check_many(one)
    with django_assert_num_queries(8):
        decisions = check_many(twenty)

    assert [d.rule for d in decisions[:10]] == [
        "", "do_not_contact", "quiet_period", "dispute", "third_party",
        "call_day_cap", "do_not_contact", "quiet_period", "dispute", "third_party",
    ]
    assert decisions == [check_contact(request) for request in twenty]


@pytest.mark.django_db
def test_it_answers_nothing_for_no_requests():
    with CaptureQueriesContext(connection) as queries:
        assert check_many([]) == []
    assert len(queries) == 0
