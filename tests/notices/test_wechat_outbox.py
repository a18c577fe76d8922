"""WeChat first, SMS as the fallback: the run's choice, the outbox's fallback, and what is never sent twice."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.cache import cache

from arrears.collection.models import Case, MessageStatus, OutgoingMessage
from arrears.collection.run import run_collection
from arrears.core.errors import DomainError
from arrears.estate.models import Contact
from arrears.ledger import services
from arrears.notices import outbox
from arrears.notices.models import EventKind, MessageEvent, NoticeTemplate
from tests import factories

from .conftest import at
from .fake_wechat_api import APPID, SECRET, SEND, FakeWeChat
from .recording import Provider

pytestmark = pytest.mark.django_db

TUESDAY = "2026-05-12"
OPENID = "o6_owner_wang_xiaoming"


@pytest.fixture
def fake(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    cache.clear()
    fake = FakeWeChat().start()
    fake.subscribed.add(OPENID)
    yield fake
    fake.stop()
    cache.clear()


@pytest.fixture
def wechat(settings, fake, provider):
    """The official account configured against the fake, SMS through the recording backend."""
    account = {"appid": APPID, "secret": SECRET, "api_base": fake.base}
    settings.ARREARS_WECHAT = account
    settings.NOTICES_CHANNELS = {**settings.NOTICES_CHANNELS, "wechat": {
        "BACKEND": "arrears.notices.channels.wechat.WeChatTemplateBackend", "timeout": 0.5, **account}}
    NoticeTemplate.objects.filter(community__isnull=True, channel="wechat").update(provider_codes={"wechat": "TPL-overdue"})
    return fake


@pytest.fixture
def bound(estate):
    return Contact.objects.create(community=estate["community"], owner=estate["owner"], kind="wechat", value=OPENID,
                                  relation="self")


@pytest.fixture
def by_wechat(case, bound):
    return OutgoingMessage.objects.create(
        community=case.community, case=case, unit=case.unit, owner=case.owner, contact=bound,
        key=f"case:{case.pk}:step:overdue_sms", channel="wechat", template_code="overdue", scheduled_on=case.as_of,
    )


def _kinds(message):
    return list(MessageEvent.objects.filter(message=message).values_list("kind", flat=True))


def test_a_wechat_message_goes_to_the_openid_with_its_text_frozen(wechat, by_wechat):
    assert outbox.dispatch(now=at(TUESDAY)) == {"sent": 1}

    by_wechat.refresh_from_db()
    assert (by_wechat.status, by_wechat.provider, by_wechat.recipient) == (MessageStatus.SENT, "wechat", OPENID)
    assert by_wechat.provider_message_id == str(wechat.sent[0]["msgid"])
    assert by_wechat.body.startswith("尊敬的王小明业主：您在阳光花园3栋1单元1201的物业费")  # no 【signature】
    assert wechat.sent[0]["url"] == by_wechat.params["payment_link"]
    assert Provider.calls == 0 and not OutgoingMessage.objects.filter(channel="sms").exists()


def test_an_unsubscribed_owner_gets_the_same_message_by_sms(wechat, by_wechat):
    # given an owner who unfollowed the account
    wechat.subscribed.clear()
    # when
    assert outbox.dispatch(now=at(TUESDAY)) == {"failed": 1}
    # then the WeChat message failed for good and the same message is queued by SMS, pointing back at it
    by_wechat.refresh_from_db()
    assert (by_wechat.status, by_wechat.last_error[:5]) == (MessageStatus.FAILED, "43004")
    sms = OutgoingMessage.objects.get(channel="sms")
    assert (sms.key, sms.case_id, sms.template_code, sms.status) == (
        f"{by_wechat.key}:sms", by_wechat.case_id, "overdue", MessageStatus.QUEUED)
    assert _kinds(by_wechat) == [EventKind.RENDERED, EventKind.FAILED, EventKind.FALLBACK]
    assert MessageEvent.objects.get(message=sms).detail == f"← #{by_wechat.pk}"
    # and the SMS goes out once, to the owner's own mobile, through the guard
    assert outbox.dispatch(now=at(TUESDAY, "10:01")) == {"sent": 1}
    assert outbox.dispatch(now=at(TUESDAY, "10:02")) == {}
    sms.refresh_from_db()
    assert (sms.status, sms.recipient, Provider.calls) == (MessageStatus.SENT, "13912348888", 1)
    assert sms.body.startswith("【示范物业】尊敬的王小明业主")
    assert wechat.sent == []
    by_wechat.refresh_from_db()
    assert by_wechat.body and by_wechat.recipient == OPENID  # the evidence of the refused try stays


def test_a_rate_limited_wechat_message_is_retried_with_backoff_not_sent_by_sms(wechat, by_wechat):
    wechat.script(SEND, 45009)
    start = at(TUESDAY)

    assert outbox.dispatch(now=start) == {"retry": 1}
    by_wechat.refresh_from_db()
    assert (by_wechat.status, by_wechat.next_try_at, by_wechat.handed_at) == (
        MessageStatus.QUEUED, start + timedelta(minutes=1), None)
    assert outbox.dispatch(now=start + timedelta(minutes=1)) == {"sent": 1}
    assert len(wechat.sent) == 1 and not OutgoingMessage.objects.filter(channel="sms").exists()


def test_a_wechat_message_that_may_have_gone_out_is_never_sent_by_sms(wechat, by_wechat, settings):
    # given a send whose answer never came (WeChat may have it)
    wechat.delay = 1.0
    wechat.script(SEND, "slow")
    settings.NOTICES_CHANNELS = {**settings.NOTICES_CHANNELS,
                                 "wechat": {**settings.NOTICES_CHANNELS["wechat"], "timeout": 0.2}}
    assert outbox.dispatch(now=at(TUESDAY)) == {"retry": 1}
    # when the next try asks WeChat, which cannot say
    assert outbox.dispatch(now=at(TUESDAY, "10:05")) == {"unknown": 1}
    # then a person checks; no SMS copy, no second WeChat send
    by_wechat.refresh_from_db()
    assert by_wechat.status == MessageStatus.FAILED
    assert len(wechat.calls_to(SEND)) == 1
    assert not OutgoingMessage.objects.filter(channel="sms").exists()


def test_a_message_the_guard_refuses_goes_by_neither_channel(wechat, by_wechat, estate):
    estate["owner"].do_not_contact = True
    estate["owner"].save()

    assert outbox.dispatch(now=at(TUESDAY)) == {"blocked": 1}

    assert wechat.calls == [] and Provider.calls == 0
    assert not OutgoingMessage.objects.filter(channel="sms").exists()


def test_the_sms_fallback_waits_for_its_own_contact_window(wechat, by_wechat):
    wechat.subscribed.clear()
    assert outbox.dispatch(now=at(TUESDAY, "19:59")) == {"failed": 1}

    assert outbox.dispatch(now=at(TUESDAY, "20:30")) == {"rescheduled": 1}  # SMS 09:00–20:00 only
    sms = OutgoingMessage.objects.get(channel="sms")
    assert sms.not_before == at("2026-05-13", "09:00") and Provider.calls == 0


def test_a_code_without_a_wechat_template_goes_by_sms(wechat, by_wechat):
    NoticeTemplate.objects.filter(channel="wechat", code="overdue").update(active=False)

    assert outbox.dispatch(now=at(TUESDAY)) == {"failed": 1}

    assert wechat.calls == []
    assert OutgoingMessage.objects.get(channel="sms").key == f"{by_wechat.key}:sms"


def test_a_wechat_template_without_its_wechat_id_goes_by_sms(wechat, by_wechat):
    NoticeTemplate.objects.filter(channel="wechat", code="overdue").update(provider_codes={})

    assert outbox.dispatch(now=at(TUESDAY)) == {"failed": 1}

    assert wechat.calls == [] and OutgoingMessage.objects.filter(channel="sms").count() == 1


def test_a_fallback_is_queued_once(wechat, by_wechat):
    wechat.subscribed.clear()
    outbox.dispatch(now=at(TUESDAY))

    assert outbox._fall_back(by_wechat, at(TUESDAY, "10:01")) is None
    assert OutgoingMessage.objects.filter(channel="sms").count() == 1


def test_a_wechat_message_gone_by_sms_is_not_resent_by_hand(wechat, by_wechat, insider):
    wechat.subscribed.clear()
    outbox.dispatch(now=at(TUESDAY))
    by_wechat.refresh_from_db()

    with pytest.raises(DomainError) as refused:
        outbox.resend(by_wechat, staff=insider, now=at(TUESDAY, "10:05"))

    assert refused.value.code == "resend_pending"
    assert OutgoingMessage.objects.count() == 2


def test_an_expired_token_is_refreshed_in_the_outbox_too(wechat, by_wechat):
    wechat.script(SEND, 42001)

    assert outbox.dispatch(now=at(TUESDAY)) == {"sent": 1}

    assert len(wechat.calls_to("/cgi-bin/token")) == 2 and len(wechat.sent) == 1


# ---- the daily run chooses the channel ------------------------------------------------------------


@pytest.fixture
def owing():
    """One unit at ¥200.00 a month from January 2026, its owner with a mobile."""
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    Contact.objects.create(community=community, owner=owner, kind="mobile", value="13800001234")
    factories.tariff(community)
    services.bill(through=date(2026, 1, 1))
    return community, unit, owner


def _run(day):
    with time_machine.travel(day, tick=False):
        return run_collection(as_of=day)


def test_the_run_sends_by_wechat_to_an_owner_with_a_bound_openid(wechat, owing):
    community, unit, owner = owing
    openid = Contact.objects.create(community=community, owner=owner, kind="wechat", value=OPENID)

    _run(date(2026, 1, 6))
    _run(date(2026, 1, 6))  # twice is once

    message = OutgoingMessage.objects.get()
    assert (message.channel, message.contact, message.key) == (
        "wechat", openid, f"case:{Case.objects.get().pk}:step:overdue_sms")


def test_the_run_sends_by_sms_without_an_openid(wechat, owing):
    _run(date(2026, 1, 6))
    assert OutgoingMessage.objects.get().channel == "sms"


def test_the_run_sends_by_sms_when_wechat_is_not_configured(provider, owing, settings):
    community, unit, owner = owing
    settings.ARREARS_WECHAT = {}
    Contact.objects.create(community=community, owner=owner, kind="wechat", value=OPENID)

    _run(date(2026, 1, 6))

    assert OutgoingMessage.objects.get().channel == "sms"


def test_a_relatives_wechat_is_never_used_for_the_owners_reminder(wechat, owing):
    community, unit, owner = owing
    Contact.objects.create(community=community, owner=owner, kind="wechat", value="o6_spouse", relation="spouse")

    _run(date(2026, 1, 6))

    assert OutgoingMessage.objects.get().channel == "sms"


def test_a_token_endpoint_that_is_down_retries_the_wechat_message_later(wechat, by_wechat):
    wechat.script("/cgi-bin/token", "500")

    assert outbox.dispatch(now=at(TUESDAY)) == {"retry": 1}

    by_wechat.refresh_from_db()
    assert (by_wechat.status, by_wechat.handed_at) == (MessageStatus.QUEUED, None)  # nothing can have gone out
    assert not OutgoingMessage.objects.filter(channel="sms").exists()
    assert outbox.dispatch(now=at(TUESDAY, "10:01")) == {"sent": 1}


def test_a_misconfigured_account_still_reminds_the_owner_by_sms(wechat, by_wechat, settings):
    settings.NOTICES_CHANNELS = {**settings.NOTICES_CHANNELS,
                                 "wechat": {**settings.NOTICES_CHANNELS["wechat"], "secret": "wrong"}}

    assert outbox.dispatch(now=at(TUESDAY)) == {"failed": 1}
    assert outbox.dispatch(now=at(TUESDAY, "10:01")) == {"sent": 1}

    assert Provider.calls == 1 and wechat.sent == []
