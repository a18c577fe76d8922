"""Holidays that fail closed: the law and the lunar calendar for any year, the confirmed arrangement, the presumption."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import time_machine
from django.urls import reverse

from arrears.collection import arrangements, guard
from arrears.collection.guard import ContactRequest, GuardPolicy, check_contact, decide
from arrears.collection.holidays import (
    HOLIDAY,
    WEEKEND,
    WORKDAY,
    Arrangement,
    HolidayCalendar,
    admin_arrangement,
    arrangement_problems,
    package_arrangement,
    parse_days,
    presumed_days_off,
    statutory_days,
)
from arrears.collection.models import CollectionPolicy, HolidayArrangement
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from tests import factories

SH = ZoneInfo("Asia/Shanghai")
SPRING_FESTIVAL_2027 = [date(2027, 2, 5) + timedelta(days=n) for n in range(4)]  # 除夕 (Fri) … 正月初三 (Mon)
# An arrangement for 2027 as an admin might enter it from a notice (made up for the tests: no notice exists yet).
DAYS_OFF_2027 = """2027-01-01 至 2027-01-03
2027-02-05 至 2027-02-13
2027-04-03 至 2027-04-05
2027-05-01 至 2027-05-05
2027-06-09
2027-09-15
2027-10-01 至 2027-10-07
"""
WORKING_DAYS_2027 = "2027-02-20\n2027-10-09\n"


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SH)


DEFAULT_POLICY = GuardPolicy()


def judge(channel, when, *, calendar=None, policy=DEFAULT_POLICY):
    request = ContactRequest(owner_id=1, unit_id=1, channel=channel, at=when)
    return decide(request, guard.GuardFacts(), policy, calendar or HolidayCalendar())


def _entered() -> Arrangement:
    return admin_arrangement(2027, parse_days(DAYS_OFF_2027)[0], parse_days(WORKING_DAYS_2027)[0])


# -- the law ----------------------------------------------------------------------------------


def test_it_computes_the_statutory_days_of_2025_and_2026_as_the_law_and_the_notices_give_them():
    assert {day: f.zh for day, f in statutory_days(2025).items()} == {
        date(2025, 1, 1): "元旦", date(2025, 1, 28): "春节", date(2025, 1, 29): "春节", date(2025, 1, 30): "春节",
        date(2025, 1, 31): "春节", date(2025, 4, 4): "清明节", date(2025, 5, 1): "劳动节", date(2025, 5, 2): "劳动节",
        date(2025, 5, 31): "端午节", date(2025, 10, 6): "中秋节", date(2025, 10, 1): "国庆节", date(2025, 10, 2): "国庆节",
        date(2025, 10, 3): "国庆节",
    }
    assert {day: f.zh for day, f in statutory_days(2026).items()} == {
        date(2026, 1, 1): "元旦", date(2026, 2, 16): "春节", date(2026, 2, 17): "春节", date(2026, 2, 18): "春节",
        date(2026, 2, 19): "春节", date(2026, 4, 5): "清明节", date(2026, 5, 1): "劳动节", date(2026, 5, 2): "劳动节",
        date(2026, 6, 19): "端午节", date(2026, 9, 25): "中秋节", date(2026, 10, 1): "国庆节", date(2026, 10, 2): "国庆节",
        date(2026, 10, 3): "国庆节",
    }


def test_it_computes_2027_from_the_lunar_calendar():
    # 2027: 正月初一 is Saturday 6 February, 清明 5 April, 端午 9 June, 中秋 15 September
    assert sorted(statutory_days(2027)) == [
        date(2027, 1, 1), *SPRING_FESTIVAL_2027, date(2027, 4, 5), date(2027, 5, 1), date(2027, 5, 2), date(2027, 6, 9),
        date(2027, 9, 15), date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3),
    ]


@pytest.mark.parametrize("year", range(2004, 2027))
def test_every_computed_statutory_day_was_a_holiday_in_the_published_calendar(year):
    assert [day for day in statutory_days(year) if not chinese_calendar.is_holiday(day)] == []


@pytest.mark.parametrize("year", range(2027, 2061))
def test_it_knows_the_statutory_days_of_every_year_ahead(year):
    days = statutory_days(year)
    assert len([d for d, f in days.items() if f.key == "spring_festival"]) == 4
    assert {date(year, 1, 1), date(year, 5, 1), date(year, 5, 2), date(year, 10, 1)} <= set(days)


# -- the presumption --------------------------------------------------------------------------


@pytest.mark.parametrize("year", range(2019, 2027))
def test_the_presumption_covers_every_day_off_the_state_council_gave(year):
    # given the published arrangement of a year; when it was not yet published, the presumption of
    # that year (and of the next, for the last days of December) would have blocked every day off
    presumed = set(presumed_days_off(year)) | set(presumed_days_off(year + 1))
    assert [day for day in package_arrangement(year).days_off if day not in presumed] == []


def test_it_presumes_the_usual_days_off_of_2027():
    assert sorted(presumed_days_off(2027)) == [
        date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3),  # Friday, and the weekend after
        *[date(2027, 2, 4) + timedelta(days=n) for n in range(11)],  # the day before 除夕 … 正月初八, and Sunday
        date(2027, 4, 3), date(2027, 4, 4), date(2027, 4, 5),  # 清明 on a Monday: the weekend before
        *[date(2027, 5, 1) + timedelta(days=n) for n in range(5)],
        date(2027, 6, 9), date(2027, 9, 15),  # on a Wednesday: the day alone
        *[date(2027, 10, 1) + timedelta(days=n) for n in range(7)],
    ]


# -- the guard on a year the package lacks ----------------------------------------------------


def test_the_calendar_package_does_not_know_2027():
    assert package_arrangement(2027) is None and package_arrangement(2026) is not None


@pytest.mark.parametrize("channel", ["sms", "call", "visit", "wechat", "front_desk_flag"])
@pytest.mark.parametrize("day", [date(2026, 10, 1), date(2027, 1, 1), *SPRING_FESTIVAL_2027, date(2027, 10, 1)])
def test_it_blocks_every_channel_on_the_statutory_days(channel, day):
    decision = judge(channel, at(day, 10))

    assert (decision.allowed, decision.rule) == (False, "holiday")


def test_it_blocks_the_whole_presumed_spring_festival_and_says_why():
    for day in [date(2027, 2, 4) + timedelta(days=n) for n in range(11)]:
        assert judge("call", at(day, 10)).rule == "holiday", day

    statutory = judge("call", at(date(2027, 2, 5), 10))
    presumed = judge("sms", at(date(2027, 2, 10), 10))

    assert statutory.reason == (
        "2027-02-05 是法定节假日（春节），不联系业主；2027 年放假安排尚未确认 / "
        "2027-02-05 is a statutory holiday (Spring Festival): no contact; the 2027 holiday arrangement is not yet confirmed"
    )
    assert presumed.reason == (
        "2027-02-10 通常在春节假期内，2027 年放假安排尚未确认：不联系业主 / "
        "2027-02-10 is usually within the Spring Festival holiday and the 2027 holiday arrangement is not yet confirmed: no contact"
    )
    assert presumed.next_allowed == at(date(2027, 2, 15), 9)


def test_the_front_desk_reminds_in_the_daytime_of_an_ordinary_day_but_never_on_a_holiday():
    # given the gate reminds an owner when the owner walks past: from 08:00 to 21:00, the lunch
    # break of calls included (issue 14: the reminder goes through the guard's quiet hours too)
    assert judge("front_desk_flag", at(date(2027, 3, 9), 12, 30)).allowed is True
    night = judge("front_desk_flag", at(date(2027, 3, 9), 22))
    assert (night.rule, night.reason_zh) == ("outside_hours", "当面提醒仅可在 08:00–21:00 进行")
    assert night.next_allowed == at(date(2027, 3, 10), 8)
    assert judge("front_desk_flag", at(date(2027, 3, 10), 7, 59)).rule == "outside_hours"
    assert judge("front_desk_flag", at(date(2027, 2, 10), 22)).rule == "holiday"
    assert judge("front_desk_flag", at(date(2027, 2, 10), 22)).next_allowed == at(date(2027, 2, 15), 8)


def test_it_allows_an_ordinary_tuesday_of_an_unconfirmed_year():
    assert judge("call", at(date(2027, 3, 9), 10)).allowed is True
    assert judge("sms", at(date(2030, 3, 12), 10)).allowed is True


def test_it_knows_no_swapped_saturday_in_an_unconfirmed_year():
    no_weekends = GuardPolicy(contact_on_weekends=False)

    assert judge("call", at(date(2027, 2, 20), 10), policy=no_weekends).rule == "weekend"
    assert HolidayCalendar().day(date(2027, 2, 20)).kind == WEEKEND


def test_it_blocks_the_end_of_december_before_an_unconfirmed_new_year():
    # 2030-01-01 is a Tuesday: the presumed block runs from Saturday 29 December 2029
    decision = judge("call", at(date(2029, 12, 31), 10))

    assert decision.reason_zh == "2029-12-31 通常在元旦假期内，2030 年放假安排尚未确认：不联系业主"
    assert judge("call", at(date(2029, 12, 28), 10)).allowed is True


# -- a confirmed arrangement ------------------------------------------------------------------


def test_a_confirmed_arrangement_allows_its_swapped_saturday_and_ends_the_presumption():
    calendar = HolidayCalendar({2027: _entered()})
    no_weekends = GuardPolicy(contact_on_weekends=False)

    assert judge("call", at(date(2027, 2, 20), 10), calendar=calendar, policy=no_weekends).allowed is True
    assert judge("call", at(date(2027, 2, 14), 10), calendar=calendar).allowed is True  # presumed off, now a Sunday
    assert judge("call", at(date(2027, 2, 12), 10), calendar=calendar).reason_zh == "2027-02-12 在春节放假期间，不联系业主"
    assert judge("call", at(date(2027, 2, 5), 10), calendar=calendar).reason_zh == "2027-02-05 是法定节假日（春节），不联系业主"


def test_no_source_makes_a_statutory_day_a_working_day():
    # given arrangements that (wrongly) leave National Day out and list it as a working day
    wrong = Arrangement(2027, {}, frozenset({date(2027, 10, 1), date(2027, 10, 2)}))
    calendar = HolidayCalendar({2027: wrong, 2026: Arrangement(2026, {}, frozenset({date(2026, 10, 1)}))})

    # then the law still decides
    for day in (date(2027, 10, 1), date(2027, 10, 2), date(2026, 10, 1), date(2027, 1, 1)):
        assert calendar.day(day).kind == HOLIDAY and calendar.day(day).statutory, day
    assert calendar.day(date(2027, 10, 4)).kind == WORKDAY  # not off in that arrangement: a Monday
    assert judge("call", at(date(2027, 10, 1), 10), calendar=calendar).rule == "holiday"


def test_it_refuses_an_arrangement_that_makes_a_statutory_day_a_working_day():
    problems = arrangement_problems(2027, [date(2027, 1, 1), *SPRING_FESTIVAL_2027, date(2027, 4, 5), date(2027, 5, 1),
                                           date(2027, 5, 2), date(2027, 6, 9), date(2027, 9, 15), date(2027, 10, 1)],
                                    [date(2027, 10, 2), date(2027, 10, 6), date(2028, 1, 8)])

    assert problems == [
        ("日期须在 2027 年内（元旦前后可含上年 12 月 25–31 日）：2028-01-08",
         "Dates must lie in 2027 (or 25–31 December before it, for New Year): 2028-01-08"),
        ("法定节假日必须放假，不能调为上班日；放假日期缺少：2027-10-02（国庆节）、2027-10-03（国庆节）",
         "A statutory holiday is always a day off and never a working day; the days off lack: "
         "2027-10-02 (National Day), 2027-10-03 (National Day)"),
        ("调休上班日须为周六或周日：2027-10-06（周三）", "A 调休 working day must be a Saturday or Sunday: 2027-10-06 (Wednesday)"),
    ]


# -- stored arrangements, on the database -----------------------------------------------------


@pytest.mark.django_db
def test_save_arrangement_refuses_and_writes_nothing():
    # given an admin and an arrangement whose National Day is a working day
    admin = factories.user("root", is_superuser=True, is_staff=True)
    arrangement = HolidayArrangement(year=2027, notice_date=date(2026, 11, 20), notice_reference="国办发明电〔2026〕1号",
                                     days_off=DAYS_OFF_2027.replace("2027-10-01 至 2027-10-07", "2027-10-04 至 2027-10-07"),
                                     working_days="2027-10-01", confirmed=True)

    # when / then
    with pytest.raises(DomainError) as refused:
        arrangements.save_arrangement(arrangement, actor=admin)
    assert refused.value.zh == (
        "法定节假日必须放假，不能调为上班日；放假日期缺少：2027-10-01（国庆节）、2027-10-02（国庆节）、2027-10-03（国庆节）；"
        "调休上班日须为周六或周日：2027-10-01（周五）"
    )
    assert HolidayArrangement.objects.count() == 0 and AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_newly_confirmed_arrangement_takes_effect_on_the_next_check():
    # given an owner, and the 2027 arrangement entered but not yet confirmed
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    CollectionPolicy.objects.create(community=community, contact_on_weekends=False)
    admin = factories.user("root", is_superuser=True, is_staff=True)
    draft = arrangements.save_arrangement(HolidayArrangement(year=2027, days_off=DAYS_OFF_2027, working_days=WORKING_DAYS_2027),
                                          actor=admin)
    swapped_saturday = ContactRequest(owner_id=owner.pk, unit_id=unit.pk, channel="call", at=at(date(2027, 2, 20), 10))
    assert check_contact(swapped_saturday).rule == "weekend"  # a draft is not an arrangement
    assert guard.unconfirmed_years(date(2026, 12, 2)) == [2027]

    # when it is confirmed
    draft.notice_date, draft.notice_reference, draft.confirmed = date(2026, 11, 20), "国办发明电〔2026〕1号", True
    with time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=SH), tick=False):
        arrangements.save_arrangement(draft, actor=admin)

    # then the next check sees it, with who confirmed it and when
    assert check_contact(swapped_saturday).allowed is True
    assert check_contact(ContactRequest(owner_id=owner.pk, unit_id=unit.pk, channel="call",
                                        at=at(date(2027, 10, 1), 10))).rule == "holiday"
    assert guard.unconfirmed_years(date(2026, 12, 2)) == []
    draft.refresh_from_db()
    assert (draft.entered_by, draft.confirmed_by, draft.confirmed_at) == (admin, admin, datetime(2026, 12, 2, 10, 0, tzinfo=SH))
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["holiday_arrangement.saved"] * 2


@pytest.mark.django_db
def test_it_names_the_years_nobody_confirmed():
    assert guard.unconfirmed_years(date(2026, 11, 30)) == []  # 2026 is in the calendar package
    assert guard.unconfirmed_years(date(2026, 12, 1)) == [2027]
    assert guard.unconfirmed_years(date(2027, 6, 1)) == [2027]


def test_the_admin_refuses_a_statutory_working_day_with_its_reason(admin_client):
    # when an admin enters a 2027 arrangement that works on National Day
    response = admin_client.post(reverse("admin:collection_holidayarrangement_add"), {
        "year": "2027", "notice_date": "2026-11-20", "notice_reference": "国办发明电〔2026〕1号",
        "days_off": DAYS_OFF_2027.replace("2027-10-01 至 2027-10-07", "2027-10-02 至 2027-10-07"),
        "working_days": "2027-02-20\n2027-02-17", "confirmed": "on",
    })

    # then it is refused, saying why, and nothing is stored
    html = response.content.decode()
    assert response.status_code == 200
    assert "法定节假日必须放假，不能调为上班日；放假日期缺少：2027-10-01（国庆节）" in html
    assert "调休上班日须为周六或周日：2027-02-17（周三）" in html
    assert HolidayArrangement.objects.count() == 0


def test_the_admin_records_who_entered_and_confirmed(admin_client, admin_user):
    response = admin_client.post(reverse("admin:collection_holidayarrangement_add"), {
        "year": "2027", "notice_date": "2026-11-20", "notice_reference": "国办发明电〔2026〕1号",
        "days_off": DAYS_OFF_2027, "working_days": WORKING_DAYS_2027, "confirmed": "on",
    })

    assert response.status_code == 302
    stored = HolidayArrangement.objects.get()
    assert (stored.year, stored.confirmed, stored.entered_by, stored.confirmed_by) == (2027, True, admin_user, admin_user)
    change_page = admin_client.get(reverse("admin:collection_holidayarrangement_change", args=[stored.pk])).content.decode()
    assert "01-01 元旦、02-05 春节、02-06 春节、02-07 春节、02-08 春节、04-05 清明节" in change_page
    assert admin_client.get(reverse("admin:collection_holidayarrangement_add") + "?year=2028").status_code == 200


def test_it_answers_for_years_before_the_present_law():
    # 2007: no 清明/端午/中秋 yet, 劳动节 three days
    assert sorted(d for d, f in statutory_days(2007).items() if f.key == "labour_day") == [
        date(2007, 5, 1), date(2007, 5, 2), date(2007, 5, 3)]
    assert HolidayCalendar({2001: Arrangement(2001)}).day(date(2001, 10, 2)).kind == HOLIDAY
    assert date(1999, 10, 7) in presumed_days_off(1999)
