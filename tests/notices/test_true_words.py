"""Months in messages are at least 1, or the text says days: never "（0个月）"."""

import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps

from arrears.collection import rules
from arrears.collection.models import MessageStatus, OutgoingMessage
from arrears.core.errors import DomainError
from arrears.estate.models import Contact
from arrears.ledger.models import Charge
from arrears.notices import outbox, texts
from arrears.notices.context import message_context
from arrears.notices.models import NoticeTemplate
from tests import factories
from tests.collection.conftest import make_case

from .conftest import at

TUESDAY = date(2026, 5, 12)


@pytest.mark.parametrize(("oldest_due", "today", "period", "months", "english"), [
    (date(2026, 4, 30), TUESDAY, "12 天", "不足1", "12 days"),
    (date(2026, 5, 11), TUESDAY, "1 天", "不足1", "1 day"),
    (date(2026, 4, 2), TUESDAY, "1 个月", "1", "1 month"),  # 40 days
    (date(2026, 4, 13), TUESDAY, "29 天", "不足1", "29 days"),  # a day short of a whole month
    (date(2026, 4, 12), TUESDAY, "1 个月", "1", "1 month"),
    (date(2025, 11, 5), TUESDAY, "6 个月", "6", "6 months"),
    (date(2026, 5, 12), TUESDAY, "", "", ""),  # due today: nothing overdue yet
    (None, TUESDAY, "", "", ""),
])
def test_it_says_whole_months_or_else_days(oldest_due, today, period, months, english):
    # given the oldest unpaid due date
    found = rules.arrears_period(oldest_due, today)
    # when / then
    assert rules.period_words(found) == period
    assert rules.months_words(found) == months
    assert rules.period_words(found, english=True) == english


@pytest.fixture
def owner_owing(db, settings):
    """王小明 of 1栋1单元101 owes one charge of ¥200.00 (no late fee); the SMS goes through a recording provider."""
    settings.NOTICES_CHANNELS = {"sms": {"BACKEND": "tests.notices.recording.RecordingBackend"}}
    from .recording import Provider

    Provider.reset()
    community = factories.community(company_obj=factories.company(phone="0755-88886200"))
    unit = factories.unit(community)
    owner = factories.owner(unit, "王小明")
    Contact.objects.create(community=community, owner=owner, kind="mobile", value="13912348888", relation="self")

    def owing_since(due: date) -> Charge:
        return Charge.objects.create(community=community, unit=unit, owner=owner, charge_type=factories.charge_type(),
                                     period_start=date(due.year, due.month, 1), period_end=due, amount=Decimal("200.00"),
                                     due_date=due)

    return {"community": community, "unit": unit, "owner": owner, "owing_since": owing_since, "provider": Provider}


def _send_second_reminder(owner_owing, due: date) -> OutgoingMessage:
    unit, owner = owner_owing["unit"], owner_owing["owner"]
    owner_owing["owing_since"](due)
    # The case snapshot of the last run says 0 whole months, as it did when SMS read "（0个月）".
    case = make_case(unit, owner, principal="200.00", late_fee="0.00", oldest_due=due, as_of=TUESDAY,
                     days_overdue=(TUESDAY - due).days, months_overdue=rules.whole_months(due, TUESDAY), bucket="11-30",
                     tier="C")
    message = OutgoingMessage.objects.create(community=case.community, case=case, unit=unit, owner=owner,
                                             key=f"case:{case.pk}:step:overdue_second", channel="sms",
                                             template_code="overdue_second", scheduled_on=TUESDAY)
    assert outbox.dispatch(now=at(f"{TUESDAY}")) == {"sent": 1}
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    return message


def test_it_tells_an_owner_12_days_overdue_12_days_not_0_months(owner_owing):
    # given ¥200.00 due on 2026-04-30, and the second reminder sent on Tuesday 2026-05-12
    # when
    message = _send_second_reminder(owner_owing, date(2026, 4, 30))
    # then
    assert "尚有物业费200.00元（已逾期 12 天）未缴。" in message.body
    assert "0个月" not in message.body and "0 个月" not in message.body
    assert message.params["arrears_period"] == "12 天"
    assert owner_owing["provider"].accepted[message.key].body == message.body


def test_it_tells_an_owner_40_days_overdue_1_month(owner_owing):
    # given ¥200.00 due on 2026-04-02: 40 days, one whole month
    # when
    message = _send_second_reminder(owner_owing, date(2026, 4, 2))
    # then
    assert "尚有物业费200.00元（已逾期 1 个月）未缴。" in message.body


def test_a_community_template_written_with_months_stays_true(owner_owing):
    # given a community's own SMS written before {arrears_period}: "（{months}个月）"
    NoticeTemplate.objects.create(community=owner_owing["community"], code="overdue_second", channel="sms", name="本小区再次提醒",
                                  body="{owner_name}：您{room}的物业费{amount}元（{months}个月）未缴。",
                                  provider_codes={"aliyun": "SMS_OLD_1"})
    # when
    message = _send_second_reminder(owner_owing, date(2026, 4, 30))
    # then it reads "不足1个月", and the provider's approved copy ("${months}个月") gets the same value
    assert message.body.endswith("王小明业主：您1栋1单元101的物业费200.00元（不足1个月）未缴。")
    assert message.params["months"] == "不足1"


def test_the_email_and_an_old_months_text_say_days_or_whole_months(owner_owing):
    # given ¥200.00 due on 2026-04-30
    unit, owner = owner_owing["unit"], owner_owing["owner"]
    owner_owing["owing_since"](date(2026, 4, 30))
    email = NoticeTemplate.objects.get(community__isnull=True, code="overdue", channel="email")
    # when
    on_day_12 = message_context(unit=unit, owner=owner, template_code="overdue", today=TUESDAY)
    on_day_40 = message_context(unit=unit, owner=owner, template_code="overdue", today=date(2026, 6, 9))
    # then
    assert "的物业费200.00元已于2026-04-30到期，至今已逾期 12 天，尚未缴纳。" in texts.render(email.body, on_day_12)
    assert texts.render("（{months}个月）", on_day_12) == "（不足1个月）"
    assert texts.render("（{months}个月）", on_day_40) == "（1个月）"
    assert texts.render("（{arrears_period}）", on_day_40) == "（1 个月）"


def test_no_default_text_says_months_in_arrears_with_a_bare_months_count():
    bodies = [row["body"] + row.get("subject", "") for row in texts.DEFAULT_TEMPLATES]
    assert not [body for body in bodies if "{months}" in body]


def test_the_migration_rewords_untouched_defaults_only(db):
    # given the defaults as the first migration wrote them, one with a provider's approved code,
    # and a community's copy of the old SMS
    migration = importlib.import_module("arrears.notices.migrations.0003_true_words")
    old_sms = "尊敬的{owner_name}：您在{community}{room}尚有物业费{amount}元（{months}个月）未缴。"
    old_letter = "明细见下表。此前我们已通过电话、短信等方式多次提醒。\n\n请您于{deadline}前缴清上述费用。"
    NoticeTemplate.objects.filter(community__isnull=True, code="overdue_second", channel="sms").update(body=old_sms)
    NoticeTemplate.objects.filter(community__isnull=True, code="collection_letter").update(body=old_letter)
    email = NoticeTemplate.objects.get(community__isnull=True, code="overdue", channel="email")
    old_email = "您在{community}{room}的物业费{amount}元（{months}个月）已于{oldest_due}起到期未缴。"
    NoticeTemplate.objects.filter(pk=email.pk).update(body=old_email, provider_codes={"tencent": "123"})
    community = factories.community()
    own = NoticeTemplate.objects.create(community=community, code="overdue_second", channel="sms", name="本小区",
                                        body=old_sms)
    # when
    migration.forwards(apps, None)
    # then
    default = NoticeTemplate.objects.get(community__isnull=True, code="overdue_second", channel="sms")
    assert default.body == "尊敬的{owner_name}：您在{community}{room}尚有物业费{amount}元（已逾期 {arrears_period}）未缴。"
    assert NoticeTemplate.objects.get(community__isnull=True, code="collection_letter").body == (
        "明细见下表。{reminders}\n\n请您于{deadline}前缴清上述费用。")
    assert NoticeTemplate.objects.get(pk=email.pk).body == old_email  # the provider's copy still says {months}
    assert NoticeTemplate.objects.get(pk=own.pk).body == old_sms
    # and back
    migration.backwards(apps, None)
    assert NoticeTemplate.objects.get(community__isnull=True, code="overdue_second", channel="sms").body == old_sms


@pytest.mark.parametrize(("channel", "body"), [
    ("sms", "尊敬的{owner_name}：{reminders}请缴费：{payment_link}"),
    ("letter", "经核对，您尚欠{amount}元。此前我们已通过电话、短信等方式多次提醒。"),
])
def test_a_template_that_would_claim_reminders_off_the_record_is_refused(db, channel, body):
    # when
    with pytest.raises(DomainError) as refused:
        texts.save_template(code="custom", channel=channel, name="自定义", body=body)
    # then
    assert refused.value.code in ("template_placeholder", "template_body")
    assert not NoticeTemplate.objects.filter(code="custom").exists()
