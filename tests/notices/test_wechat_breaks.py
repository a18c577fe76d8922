"""Break tests of the WeChat channel, its SMS fallback and the openid binding: attacks and what held."""

import hashlib

import pytest
from django.core.cache import cache
from django.test import Client

from arrears.collection.models import MessageStatus, OutgoingMessage
from arrears.core.models import AuditEvent
from arrears.estate.models import Contact, Ownership
from arrears.notices import outbox
from arrears.notices.models import EventKind, MessageEvent
from tests import factories
from tests.notices.test_wechat_outbox import OPENID, TUESDAY, bound, by_wechat, fake, wechat  # noqa: F401 - fixtures
from tests.portal import test_wechat_binding as binding

from .conftest import at
from .recording import Provider

pytestmark = pytest.mark.django_db

NEIGHBOUR_OPENID = "o6_neighbour_li_si"


@pytest.fixture
def account(settings, fake):  # noqa: F811 - the fake WeChat of test_wechat_outbox
    settings.ARREARS_WECHAT = {"appid": binding.APPID, "secret": binding.SECRET, "api_base": fake.base}
    settings.ARREARS_PUBLIC_URL = binding.PUBLIC
    cache.clear()
    return fake


@pytest.fixture
def neighbour(estate):
    """An owner of another unit of the same community, their own WeChat bound."""
    unit = factories.unit(estate["community"], building="9栋", room="0901")
    owner = factories.owner(unit, "李四")
    Contact.objects.create(community=estate["community"], owner=owner, kind="wechat", value=NEIGHBOUR_OPENID,
                           relation="self")
    return owner


def _bind_through(client, account, token, openid, code="CODE-X"):
    state = binding.start(client, token)
    account.codes[code] = openid
    return binding.callback(client, token, code=code, state=state)


# ---- binding ------------------------------------------------------------------------------------


def test_a_neighbours_wechat_is_not_bound_to_another_households_link(client, estate, account, neighbour):
    # Attack: a neighbour in the same community gets the owner's statement link (a letter at the door, a
    # forwarded SMS) and opens it in WeChat: their openid became the owner's own WeChat, and every
    # reminder of the owner's debt went to the neighbour from then on.
    token = binding.token_of(estate["owner"], estate["unit"])

    response = _bind_through(client, account, token, NEIGHBOUR_OPENID)

    assert response.status_code == 302  # the statement, never an error page
    assert binding.bound(estate["owner"]) == []
    refused = AuditEvent.objects.get(action="portal.wechat_bind_refused")
    assert refused.detail["owner"] == estate["owner"].pk and NEIGHBOUR_OPENID not in str(refused.detail)
    assert "另一户" in refused.detail["reason"] and "another household" in refused.detail["reason"]


def test_a_co_owner_of_the_same_unit_may_share_the_households_wechat(client, estate, account):
    # Held: two owners of one unit (a couple) may be reminded on the one phone they share.
    spouse = factories.owner(estate["unit"], "王小红")
    Contact.objects.create(community=estate["community"], owner=spouse, kind="wechat", value=NEIGHBOUR_OPENID,
                           relation="self")
    token = binding.token_of(estate["owner"], estate["unit"])

    _bind_through(client, account, token, NEIGHBOUR_OPENID)

    assert binding.bound(estate["owner"]) == [(NEIGHBOUR_OPENID, "self")]


def test_a_former_owner_of_the_unit_does_not_count_as_the_household(client, estate, account):
    # Attack: the unit's former owner (sold, ownership ended) still has their WeChat bound; they open the new
    # owner's link: a past ownership must not make them the new owner's household.
    former = factories.owner(estate["unit"], "赵前任")
    Ownership.objects.filter(owner=former).update(end="2024-12-31")
    Contact.objects.create(community=estate["community"], owner=former, kind="wechat", value=NEIGHBOUR_OPENID,
                           relation="self")
    token = binding.token_of(estate["owner"], estate["unit"])

    _bind_through(client, account, token, NEIGHBOUR_OPENID)

    assert binding.bound(estate["owner"]) == []


def test_the_binding_audit_cannot_be_matched_to_an_openid(client, estate, account):
    # Attack (the owner's lawyer, PIPL): the audit kept sha256(openid)[:12]: anyone holding an openid (any
    # WeChat developer, a leaked contact list) finds it in the append-only log by hashing it.
    token = binding.token_of(estate["owner"], estate["unit"])

    _bind_through(client, account, token, OPENID)

    event = AuditEvent.objects.get(action="portal.wechat_bound")
    plain = hashlib.sha256(OPENID.encode()).hexdigest()
    assert plain[:12] not in str(event.detail) and OPENID not in str(event.detail)
    assert event.detail["openid"]  # still: two bindings of one openid can be told apart by staff


def test_a_replayed_callback_in_another_browser_binds_nothing(client, estate, account):
    # Held: the callback URL (code and state) carried to another browser binds nothing.
    token = binding.token_of(estate["owner"], estate["unit"])
    state = binding.start(client, token)
    account.codes["CODE-R"] = NEIGHBOUR_OPENID

    binding.callback(Client(), token, code="CODE-R", state=state)

    assert binding.bound(estate["owner"]) == []


def test_the_callback_redirects_only_to_the_statement(client, estate, account):
    # Held: no open redirect through the callback's next/return/redirect_uri parameters.
    token = binding.token_of(estate["owner"], estate["unit"])
    state = binding.start(client, token)
    account.codes["CODE-O"] = OPENID
    response = client.get(f"/s/{token}/wechat", {"code": "CODE-O", "state": state, "next": "https://evil.example/",
                                                  "return": "//evil.example", "redirect_uri": "https://evil.example"},
                          HTTP_USER_AGENT=binding.IN_WECHAT)

    assert response.status_code == 302 and response["Location"] == f"/s/{token}"


# ---- the outbox ---------------------------------------------------------------------------------


def test_wechat_switched_off_with_messages_queued_sends_them_by_sms_not_to_the_console(wechat, by_wechat, settings):  # noqa: F811
    # Attack (careless operator): ARREARS_WECHAT_BACKEND switched back to console while WeChat reminders
    # were queued: they were "sent" to the console, recorded as sent, and reached nobody.
    settings.ARREARS_WECHAT = {}
    settings.NOTICES_CHANNELS = {**settings.NOTICES_CHANNELS,
                                 "wechat": {"BACKEND": "arrears.notices.channels.console.ConsoleBackend"}}

    assert outbox.dispatch(now=at(TUESDAY)) == {"failed": 1}

    by_wechat.refresh_from_db()
    assert (by_wechat.status, by_wechat.sent_at) == (MessageStatus.FAILED, None)
    assert "未配置" in by_wechat.last_error and "not configured" in by_wechat.last_error
    assert outbox.dispatch(now=at(TUESDAY, "10:01")) == {"sent": 1}
    sms = OutgoingMessage.objects.get(channel="sms")
    assert (sms.key, sms.status, Provider.calls) == (f"{by_wechat.key}:sms", MessageStatus.SENT, 1)
    assert wechat.sent == []


def test_a_relatives_wechat_on_a_queued_message_hears_nothing(wechat, by_wechat, estate):  # noqa: F811
    # Held: a WeChat row pointed at the owner's spouse's openid (not authorised) is blocked by the guard,
    # and no SMS fallback is queued for it.
    spouse = Contact.objects.create(community=estate["community"], owner=estate["owner"], kind="wechat",
                                    value="o6_spouse", relation="spouse")
    OutgoingMessage.objects.filter(pk=by_wechat.pk).update(contact=spouse)
    wechat.subscribed.add("o6_spouse")

    assert outbox.dispatch(now=at(TUESDAY)) == {"blocked": 1}

    assert wechat.sent == [] and not OutgoingMessage.objects.filter(channel="sms").exists()


def test_the_fallback_waits_when_the_owner_reached_the_cap_meanwhile(wechat, by_wechat, estate, case):  # noqa: F811
    # Held: the fallback is judged at its own send time: two texts already this week (the cap) hold it back.
    wechat.subscribed.clear()
    assert outbox.dispatch(now=at(TUESDAY, "09:30")) == {"failed": 1}
    for key in ("earlier-1", "earlier-2"):
        OutgoingMessage.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner, key=key,
                                       channel="sms", template_code="overdue", scheduled_on=case.as_of, status="sent")

    outcome = outbox.dispatch(now=at(TUESDAY, "10:30"))

    assert Provider.calls == 0 and outcome.get("sent", 0) == 0
    assert OutgoingMessage.objects.get(key=f"{by_wechat.key}:sms").status in (MessageStatus.QUEUED, MessageStatus.BLOCKED)


def test_the_fallback_row_and_its_events_cannot_be_deleted(wechat, by_wechat):  # noqa: F811
    # Held (the owner's lawyer): the refused WeChat try and its fallback are append-only.
    from django.db import DatabaseError, transaction

    from arrears.core.errors import DomainError

    wechat.subscribed.clear()
    outbox.dispatch(now=at(TUESDAY))
    sms = OutgoingMessage.objects.get(channel="sms")
    for rows in (OutgoingMessage.objects.filter(pk=sms.pk), OutgoingMessage.objects.filter(pk=by_wechat.pk),
                 MessageEvent.objects.filter(kind=EventKind.FALLBACK)):
        with pytest.raises((DatabaseError, DomainError)), transaction.atomic():
            rows.delete()
    by_wechat.refresh_from_db()
    with pytest.raises((DatabaseError, DomainError)), transaction.atomic():
        OutgoingMessage.objects.filter(pk=by_wechat.pk).update(recipient="o6_someone_else", body="改过的")


def test_a_wechat_message_in_doubt_is_not_sent_by_sms_when_wechat_is_switched_off(wechat, by_wechat, settings):  # noqa: F811
    # Held: a WeChat send whose answer was lost, then the account switched off: "outcome unknown" for a
    # person, never an SMS on top of what WeChat may have delivered.
    from .fake_wechat_api import SEND

    wechat.delay = 1.0
    wechat.script(SEND, "slow")
    settings.NOTICES_CHANNELS = {**settings.NOTICES_CHANNELS,
                                 "wechat": {**settings.NOTICES_CHANNELS["wechat"], "timeout": 0.2}}
    assert outbox.dispatch(now=at(TUESDAY)) == {"retry": 1}
    settings.ARREARS_WECHAT = {}
    settings.NOTICES_CHANNELS = {**settings.NOTICES_CHANNELS,
                                 "wechat": {"BACKEND": "arrears.notices.channels.console.ConsoleBackend"}}

    assert outbox.dispatch(now=at(TUESDAY, "10:05")) == {"unknown": 1}

    assert not OutgoingMessage.objects.filter(channel="sms").exists() and Provider.calls == 0


def test_a_tenants_wechat_known_on_a_co_owner_is_not_bound_as_the_owner(client, estate, account):
    # Attack: the unit's tenant, registered with their WeChat as the co-owner's tenant contact, opens the
    # owner's link (the letter came to the flat): "the same household" made the tenant the owner's own WeChat.
    co_owner = factories.owner(estate["unit"], "王小红")
    Contact.objects.create(community=estate["community"], owner=co_owner, kind="wechat", value="o6_tenant",
                           relation="tenant")
    token = binding.token_of(estate["owner"], estate["unit"])

    _bind_through(client, account, token, "o6_tenant")

    assert binding.bound(estate["owner"]) == []
    refused = AuditEvent.objects.get(action="portal.wechat_bind_refused")
    assert "租户" in refused.detail["reason"] and "tenant" in refused.detail["reason"]


def test_a_relative_known_on_the_owner_is_refused_and_the_refusal_audited(client, estate, account):
    # Attack: the owner's spouse (not authorised to hear of the debt) opens the owner's link in WeChat.
    Contact.objects.create(community=estate["community"], owner=estate["owner"], kind="wechat", value="o6_spouse",
                           relation="spouse")
    token = binding.token_of(estate["owner"], estate["unit"])

    _bind_through(client, account, token, "o6_spouse")

    assert binding.bound(estate["owner"]) == [("o6_spouse", "spouse")]
    assert AuditEvent.objects.filter(action="portal.wechat_bind_refused").count() == 1


def test_a_second_wechat_for_a_bound_owner_is_refused_on_record(estate, account):
    # Attack (the owner's lawyer): someone bound first; the real owner's later binding was dropped without a
    # trace, so nobody could see that a second person claimed to be the owner.
    from arrears.portal import wechat as portal_wechat

    first = portal_wechat.bind_openid(owner=estate["owner"], openid="o6_first", unit_id=estate["unit"].pk)
    again = portal_wechat.bind_openid(owner=estate["owner"], openid="o6_first", unit_id=estate["unit"].pk)
    second = portal_wechat.bind_openid(owner=estate["owner"], openid="o6_second", unit_id=estate["unit"].pk)

    assert (first.reason, again.reason, second.reason) == ("bound", "already", "already")
    refused = AuditEvent.objects.get(action="portal.wechat_bind_refused")
    assert refused.detail["openid"] == portal_wechat.openid_digest("o6_second")
    assert "已绑定" in refused.detail["reason"] and "already" in refused.detail["reason"]


def test_a_wechat_that_never_answers_the_token_call_reminds_the_owner_by_sms(wechat, by_wechat):  # noqa: F811
    # Attack (careless operator: the server's address left off the account's whitelist answers like an
    # outage; or WeChat down for the day): every try failed before anything could go out, the message gave
    # up after its retries, and the owner's written reminder reached nobody though SMS works.
    from datetime import timedelta

    wechat.script("/cgi-bin/token", *["500"] * 10)
    moment, outcomes = at(TUESDAY), []
    for _ in range(4):
        outcomes.append(outbox.send_message(by_wechat.pk, now=moment))
        moment += timedelta(hours=1)

    assert outcomes == ["retry", "retry", "retry", "failed"]
    by_wechat.refresh_from_db()
    assert by_wechat.status == MessageStatus.FAILED and by_wechat.handed_at is None
    sms = OutgoingMessage.objects.get(channel="sms")
    assert sms.key == f"{by_wechat.key}:sms" and wechat.sent == []
    assert outbox.dispatch(now=moment) == {"sent": 1} and Provider.calls == 1


def test_a_wechat_send_in_doubt_on_its_last_try_is_not_sent_by_sms(wechat, by_wechat, settings):  # noqa: F811
    # Held: when WeChat may have the message, giving up is "unknown", never an SMS on top.
    from datetime import timedelta

    from .fake_wechat_api import SEND

    settings.NOTICES_MAX_ATTEMPTS = 1
    wechat.delay = 1.0
    wechat.script(SEND, "slow")
    settings.NOTICES_CHANNELS = {**settings.NOTICES_CHANNELS,
                                 "wechat": {**settings.NOTICES_CHANNELS["wechat"], "timeout": 0.2}}

    assert outbox.send_message(by_wechat.pk, now=at(TUESDAY)) == "failed"

    by_wechat.refresh_from_db()
    assert by_wechat.handed_at is not None
    assert not OutgoingMessage.objects.filter(channel="sms").exists()
    assert outbox.dispatch(now=at(TUESDAY) + timedelta(hours=1)) == {}
