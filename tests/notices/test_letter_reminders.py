"""A letter states the reminders on record (dates and channels), or says nothing of them."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from arrears.collection.models import ContactAttempt, OutgoingMessage
from arrears.estate.models import Contact
from arrears.notices import letters, reminders, texts
from arrears.notices.models import NoticeTemplate

from . import test_letters

ISSUE, street = test_letters.ISSUE, test_letters.street  # the letters' fixture: three units owing since January

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(day: str, clock: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


def _attempt(case, channel, day, outcome="answered", **extra) -> ContactAttempt:
    values = {"relation": "self", **extra}
    return ContactAttempt.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner,
                                         channel=channel, at=_at(day), outcome=outcome, **values)


def _message(case, channel, day, status="sent", template_code="overdue", **extra) -> OutgoingMessage:
    return OutgoingMessage.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner,
                                          key=f"{template_code}:{channel}:{day}:{status}", channel=channel,
                                          template_code=template_code, scheduled_on=date.fromisoformat(day),
                                          status=status, sent_at=_at(day) if status in ("sent", "delivered") else None,
                                          **extra)


def _issue(case, staff, on=ISSUE):
    return letters.issue_batch(kind="collection", cases=[case], issued_on=on, staff=staff).letters.get()


def test_it_lists_only_the_reminders_that_reached_the_owner(street):
    # given, for 张三 of 1栋101, by hand:
    case, other = street["cases"][0], street["cases"][1]
    _attempt(case, "call", "2026-03-02")  # answered by the owner: counts
    _message(case, "sms", "2026-03-05")  # accepted by the provider: counts
    _attempt(case, "visit", "2026-03-15", outcome="promised")  # counts
    _attempt(case, "call", "2026-03-20", outcome="no_answer")  # reached no one
    _attempt(case, "sms", "2026-03-21", outcome="blocked", blocked_rule="holiday", blocked_reason="法定节假日")
    spouse = Contact.objects.create(community=case.community, owner=case.owner, kind="mobile", value="13700001111",
                                    relation="spouse", name="孙丽")
    _attempt(case, "call", "2026-03-22", contact=spouse, relation="spouse")  # a third party heard nothing of it
    told_wrong = _attempt(case, "call", "2026-03-25")
    _attempt(case, "call", "2026-03-25", outcome="no_answer", corrects=told_wrong, notes="实为未接通", correction_reason="记错了")
    logged_wrong = _attempt(case, "call", "2026-03-26", outcome="no_answer")
    _attempt(case, "call", "2026-03-26", outcome="answered", corrects=logged_wrong, notes="实为接通", correction_reason="记错了")  # its correction counts
    _message(case, "sms", "2026-03-27", status="failed")
    _message(case, "sms", "2026-03-28", template_code="neutral_contact")
    _message(case, "sms", "2026-03-29", template_code="thanks_payment")
    _message(case, "sms", "2026-03-30", contact=spouse)  # sent to the spouse's phone
    _attempt(other, "call", "2026-03-31")  # another owner's
    # when
    letter = _issue(case, street["collector"])
    # then
    sentence = "此前已于2026年3月2日（电话）、2026年3月5日（短信）、2026年3月15日（上门）、2026年3月26日（电话）提醒您。"
    assert any(paragraph.endswith("明细见下表。" + sentence) for paragraph in letter.content["paragraphs"])
    assert "多次" not in "".join(letter.content["paragraphs"])
    # and the list is frozen with the letter: a reprint says the same
    assert letter.content["reminders"] == [
        {"on": "2026-03-02", "channel": "call"}, {"on": "2026-03-05", "channel": "sms"},
        {"on": "2026-03-15", "channel": "visit"}, {"on": "2026-03-26", "channel": "call"},
    ]
    assert letter.content["reminders_total"] == 4


def test_it_says_nothing_of_earlier_reminders_when_none_are_on_record(street):
    # given no reminder that reached 张三, only an unanswered call
    case = street["cases"][0]
    _attempt(case, "call", "2026-03-20", outcome="no_answer")
    # when
    letter = _issue(case, street["collector"])
    # then
    body = "".join(letter.content["paragraphs"])
    assert "提醒" not in body and "此前" not in body
    assert "明细见下表。" in body
    assert (letter.content["reminders"], letter.content["reminders_total"]) == ([], 0)


def test_it_lists_the_last_six_and_says_how_many_in_all(street):
    # given eight answered calls, 1 to 8 April
    case = street["cases"][0]
    for day in range(1, 9):
        _attempt(case, "call", f"2026-04-0{day}")
    # when
    letter = _issue(case, street["collector"])
    # then
    listed = "、".join(f"2026年4月{day}日（电话）" for day in range(3, 9))
    assert f"此前已于{listed}等8次提醒您。" in "".join(letter.content["paragraphs"])
    assert [row["on"] for row in letter.content["reminders"]] == [f"2026-04-0{day}" for day in range(3, 9)]
    assert letter.content["reminders_total"] == 8


def test_a_backdated_letter_lists_only_the_reminders_before_its_date(street):
    # given reminders on 2 and 20 April, and a letter dated 10 April
    case = street["cases"][0]
    _attempt(case, "call", "2026-04-02")
    _attempt(case, "visit", "2026-04-20")
    # when
    letter = _issue(case, street["collector"], on=date(2026, 4, 10))
    # then
    assert "此前已于2026年4月2日（电话）提醒您。" in "".join(letter.content["paragraphs"])
    assert letter.content["reminders_total"] == 1


def test_a_community_letter_with_the_old_blanket_claim_states_the_record(street):
    # given a community's own letter that still says "已通过电话、短信等方式多次提醒", saved before the rule
    case = street["cases"][0]
    NoticeTemplate.objects.create(community=case.community, code="collection_letter", channel="letter", name="本小区催费函",
                                  subject="催费函", body="经核对，您尚欠{amount}元。此前我们已通过电话、短信等方式多次提醒。",
                                  payment_methods="到服务中心缴纳")
    _message(case, "wechat", "2026-04-03", status="delivered")
    # when
    letter = _issue(case, street["collector"])
    # then
    assert letter.content["paragraphs"] == ["经核对，您尚欠629.10元。此前已于2026年4月3日（微信）提醒您。"]


@pytest.mark.parametrize(("earlier", "expected"), [
    ([], "二、经委托人核对，截至2026年5月12日，明细见下表。您至今未予缴纳。"),
    ([reminders.Reminder(date(2026, 3, 15), "letter"), reminders.Reminder(date(2026, 4, 20), "letter")],
     "二、经委托人核对，截至2026年5月12日，明细见下表。此前已于2026年3月15日（催费函）、2026年4月20日（催费函）提醒您。您至今未予缴纳。"),
])
def test_the_lawyer_letter_states_the_record_too(earlier, expected):
    # given the default lawyer letter's second point
    body = next(row["body"] for row in texts.DEFAULT_TEMPLATES if row["code"] == "lawyer_letter")
    point = next(line for line in body.splitlines() if line.startswith("二、"))
    point = point.replace("您名下{room}尚欠物业服务费等费用合计人民币{amount}元（其中违约金{late_fee}元），", "")
    # when
    rendered = texts.render(point, {"as_of": "2026年5月12日", "reminders": reminders.sentence(earlier)})
    # then
    assert rendered == expected


def test_it_cites_no_reminder_made_in_breach_of_the_contact_rules_nor_one_with_a_third_party(street):
    # given, for 张三 of 1栋101: a lawful answered call, an answered call at 22:30 that the guard
    # recorded as a violation, a visit on Qingming recorded as a violation, and a
    # call recorded as made with a third party (an old row with no contact on it)
    case = street["cases"][0]
    _attempt(case, "call", "2026-03-02")
    _attempt(case, "call", "2026-03-03", violation_rule="hours", violation_reason="22:30 不在联系时段内")
    _attempt(case, "visit", "2026-04-05", violation_rule="holiday", violation_reason="清明节")
    _attempt(case, "call", "2026-03-06", relation="", third_party=True)
    # when
    letter = _issue(case, street["collector"])
    # then: the letter cites the lawful reminder only: a contact the law forbade is not a reminder
    # a demand may rest on, and one with a third party reminded no one
    assert letter.content["reminders"] == [{"on": "2026-03-02", "channel": "call"}]
    assert any(paragraph.endswith("此前已于2026年3月2日（电话）提醒您。") for paragraph in letter.content["paragraphs"])
