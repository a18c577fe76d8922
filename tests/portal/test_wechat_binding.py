"""Binding an owner's openid when they open their statement link in WeChat, and every way it must not bind."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from arrears.core.models import AuditEvent
from arrears.estate.models import Contact, Owner
from arrears.notices.context import statement_token
from arrears.portal import wechat
from tests import factories
from tests.notices.fake_wechat_api import APPID, OAUTH, SECRET, FakeWeChat

IN_WECHAT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c)"
SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"
PUBLIC = "https://wy.example.cn"
OPENID = "o6_wang_xiaoming_openid"


@pytest.fixture
def fake(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    fake = FakeWeChat().start()
    yield fake
    fake.stop()


@pytest.fixture
def account(settings, fake):
    settings.ARREARS_WECHAT = {"appid": APPID, "secret": SECRET, "api_base": fake.base}
    settings.ARREARS_PUBLIC_URL = PUBLIC
    cache.clear()
    return fake


def token_of(owner, unit) -> str:
    return statement_token(owner.pk, unit.pk, owner.link_generation)


def statement(client, token, agent=IN_WECHAT):
    return client.get(reverse("portal:statement", args=[token]), HTTP_USER_AGENT=agent)


def start(client, token) -> str:
    """Open the link in WeChat; the state WeChat would hand back."""
    response = statement(client, token)
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def callback(client, token, *, code="", state=""):
    return client.get(reverse("portal:wechat", args=[token]), {"code": code, "state": state}, HTTP_USER_AGENT=IN_WECHAT)


def bound(owner):
    return list(Contact.objects.filter(owner=owner, kind="wechat").values_list("value", "relation"))


def test_it_asks_wechat_for_the_openid_of_an_owner_with_none(client, estate, account):
    token = token_of(estate["owner"], estate["unit"])

    response = statement(client, token)

    url = urlsplit(response["Location"])
    assert (url.scheme, url.netloc, url.path, url.fragment) == (
        "https", "open.weixin.qq.com", "/connect/oauth2/authorize", "wechat_redirect")
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert query.pop("state").isalnum()
    assert query == {"appid": APPID, "redirect_uri": f"{PUBLIC}/s/{token}/wechat", "response_type": "code",
                     "scope": "snsapi_base"}
    assert response["Referrer-Policy"] == "same-origin"


def test_it_binds_the_openid_and_shows_the_statement(client, estate, account):
    # given
    owner, token = estate["owner"], token_of(estate["owner"], estate["unit"])
    state = start(client, token)
    account.codes["CODE-1"] = OPENID
    # when WeChat sends the owner back
    response = callback(client, token, code="CODE-1", state=state)
    # then
    assert response.status_code == 302 and response["Location"] == reverse("portal:statement", args=[token])
    assert bound(owner) == [(OPENID, "self")]
    assert Contact.objects.get(owner=owner, kind="wechat").community_id == estate["community"].pk
    event = AuditEvent.objects.get(action="portal.wechat_bound")
    assert (event.community_id, event.detail["owner"], event.detail["unit"]) == (
        estate["community"].pk, owner.pk, estate["unit"].pk)
    assert OPENID not in str(event.detail)  # the audit names no personal data
    assert account.calls_to(OAUTH)[0].query == {"appid": APPID, "secret": SECRET, "code": "CODE-1",
                                                "grant_type": "authorization_code"}
    assert statement(client, token).status_code == 200  # bound: asked never again
    assert statement(Client(), token).status_code == 200  # in any browser


def test_nothing_changes_outside_wechat_or_without_the_account(client, estate, account, settings):
    token = token_of(estate["owner"], estate["unit"])
    assert statement(client, token, agent=SAFARI).status_code == 200
    settings.ARREARS_WECHAT = {}
    assert statement(client, token).status_code == 200
    assert account.calls == [] and bound(estate["owner"]) == []


def test_a_forged_state_binds_nothing_and_the_statement_still_shows(client, estate, account):
    token = token_of(estate["owner"], estate["unit"])
    state = start(client, token)
    account.codes["CODE-1"] = OPENID
    forged = state[:-4] + ("0000" if not state.endswith("0000") else "1111")

    assert callback(client, token, code="CODE-1", state=forged).status_code == 302

    assert bound(estate["owner"]) == [] and account.calls_to(OAUTH) == []
    assert statement(client, token).status_code == 200  # tried once in this browser: no loop


@pytest.mark.parametrize("state", ["", "x" * 74, "0" * 200, "../../etc", "é" * 74])
def test_a_mangled_state_binds_nothing(client, estate, account, state):
    token = token_of(estate["owner"], estate["unit"])
    start(client, token)
    account.codes["CODE-1"] = OPENID
    assert callback(client, token, code="CODE-1", state=state).status_code == 302
    assert bound(estate["owner"]) == []


def test_a_replayed_state_binds_nothing(client, estate, account):
    # given a callback that used the state but whose code WeChat refused
    token = token_of(estate["owner"], estate["unit"])
    state = start(client, token)
    callback(client, token, code="STALE", state=state)
    account.codes["CODE-2"] = OPENID
    # when the same state comes again with a good code
    callback(client, token, code="CODE-2", state=state)
    # then
    assert bound(estate["owner"]) == [] and len(account.calls_to(OAUTH)) == 1


def test_a_state_made_for_one_link_binds_nothing_through_another(client, estate, account):
    # given the owner's state, and the neighbour's link (another owner of the community)
    mine = token_of(estate["owner"], estate["unit"])
    theirs = token_of(estate["neighbour_owner"], estate["other_unit"])
    state = start(client, mine)
    account.codes["CODE-1"] = OPENID
    # when the callback of the other link carries it
    callback(client, theirs, code="CODE-1", state=state)
    # then neither owner is bound
    assert bound(estate["neighbour_owner"]) == [] and bound(estate["owner"]) == []
    assert account.calls_to(OAUTH) == []


def test_a_callback_carried_to_another_browser_binds_nothing(client, estate, account):
    # an attacker's own authorisation, planted in the owner's browser (login CSRF), or a lifted URL
    token = token_of(estate["owner"], estate["unit"])
    state = start(client, token)
    account.codes["CODE-1"] = "o6_attacker"

    callback(Client(), token, code="CODE-1", state=state)

    assert bound(estate["owner"]) == []


def test_an_expired_state_binds_nothing(client, estate, account):
    token = token_of(estate["owner"], estate["unit"])
    state = start(client, token)
    account.codes["CODE-1"] = OPENID

    with time_machine.travel(timezone.now() + timedelta(seconds=wechat.STATE_SECONDS + 1), tick=False):
        callback(client, token, code="CODE-1", state=state)

    assert bound(estate["owner"]) == []


def test_a_failed_exchange_shows_the_statement_without_asking_again(client, estate, account):
    token = token_of(estate["owner"], estate["unit"])
    state = start(client, token)

    response = callback(client, token, code="UNKNOWN", state=state)  # WeChat answers 40029

    assert response.status_code == 302
    assert statement(client, token).status_code == 200
    assert bound(estate["owner"]) == []


def test_an_oauth_endpoint_that_is_down_shows_the_statement(client, estate, account, settings):
    token = token_of(estate["owner"], estate["unit"])
    state = start(client, token)
    account.script(OAUTH, "500")
    account.codes["CODE-1"] = OPENID

    assert callback(client, token, code="CODE-1", state=state).status_code == 302
    assert statement(client, token).status_code == 200 and bound(estate["owner"]) == []


def test_an_owner_who_declines_sees_the_statement(client, estate, account):
    token = token_of(estate["owner"], estate["unit"])
    state = start(client, token)

    assert callback(client, token, state=state).status_code == 302  # WeChat sends no code

    assert statement(client, token).status_code == 200 and account.calls_to(OAUTH) == []


def test_a_bad_or_revoked_link_has_no_callback(client, estate, account):
    owner = estate["owner"]
    token = token_of(owner, estate["unit"])
    state = start(client, token)
    assert callback(client, token[:-2] + "xx", code="C", state=state).status_code == 404
    Owner.objects.filter(pk=owner.pk).update(link_generation=owner.link_generation + 1)
    account.codes["CODE-1"] = OPENID
    assert callback(client, token, code="CODE-1", state=state).status_code == 404
    assert bound(owner) == []


def test_an_openid_of_another_communitys_owner_is_not_bound(client, estate, account):
    # given the openid already bound to an owner of 翠湖苑
    far = Owner.objects.get(name="钱远方")
    Contact.objects.create(community=far.community, owner=far, kind="wechat", value=OPENID)
    token = token_of(estate["owner"], estate["unit"])
    state = start(client, token)
    account.codes["CODE-1"] = OPENID
    # when the owner of 阳光花园 comes back with the same openid
    callback(client, token, code="CODE-1", state=state)
    # then
    assert bound(estate["owner"]) == []
    refused = AuditEvent.objects.get(action="portal.wechat_bind_refused")
    assert (refused.community_id, refused.detail["owner"]) == (estate["community"].pk, estate["owner"].pk)


def test_two_owners_of_one_household_sharing_a_phone_are_both_bound(client, estate, account):
    # a couple owning one unit together, one WeChat: each statement reaches that phone anyway
    # (owners of two different units are two households: see test_wechat_breaks)
    spouse = factories.owner(estate["unit"], "王小红")
    for code, owner, unit in (("C1", estate["owner"], estate["unit"]), ("C2", spouse, estate["unit"])):
        token = token_of(owner, unit)
        state = start(client, token)
        account.codes[code] = OPENID
        callback(client, token, code=code, state=state)
    assert bound(estate["owner"]) == [(OPENID, "self")] and bound(spouse) == [(OPENID, "self")]


def test_opening_the_link_twice_binds_once(client, estate, account):
    # given two authorisations started in one browser (the second replaces the first's nonce)
    token = token_of(estate["owner"], estate["unit"])
    first = start(client, token)
    session = client.session
    session[wechat.SESSION_KEY] = {**session[wechat.SESSION_KEY], "tried": []}
    session.save()
    second = start(client, token)
    account.codes.update({"C1": OPENID, "C2": OPENID})
    # when both come back
    callback(client, token, code="C2", state=second)
    callback(client, token, code="C1", state=first)
    # then one contact, one audit
    assert bound(estate["owner"]) == [(OPENID, "self")]
    assert AuditEvent.objects.filter(action="portal.wechat_bound").count() == 1
    # and a reload of the callback page binds nothing more
    assert callback(client, token, code="C2", state=second).status_code == 302
    assert len(bound(estate["owner"])) == 1


def test_a_second_tab_opened_meanwhile_shows_the_statement(client, estate, account):
    token = token_of(estate["owner"], estate["unit"])
    start(client, token)
    assert statement(client, token).status_code == 200  # asked once in this browser already


def test_an_owner_keeps_the_first_openid(estate, account):
    owner = estate["owner"]
    assert wechat.bind_openid(owner=owner, openid=OPENID, unit_id=estate["unit"].pk).reason == "bound"
    assert wechat.bind_openid(owner=owner, openid="o6_someone_else", unit_id=estate["unit"].pk).reason == "already"
    assert bound(owner) == [(OPENID, "self")]


def test_a_state_says_only_letters_and_digits_and_fits_wechat():
    state = wechat.make_state("token", "a" * 32, now=1_800_000_000)
    assert state.isalnum() and len(state) <= 128
    assert wechat.read_state(state, "token", now=1_800_000_000 + 60) == "a" * 32
    assert wechat.read_state(state, "other-token", now=1_800_000_000 + 60) is None
    assert wechat.read_state(state, "token", now=1_800_000_000 - 1) is None
