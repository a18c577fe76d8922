"""The WeChat template-message backend against a local fake of WeChat's API: tokens, sends, errcodes."""

import importlib
import socket

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from arrears.notices.channels import Outbound, PermanentError, TransientError, backend_for
from arrears.notices.channels.wechat import WeChatTemplateBackend

from .fake_wechat_api import APPID, SECRET, SEND, TOKEN, FakeWeChat

OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
MESSAGE = Outbound(
    key="case:7:step:overdue_sms", channel="wechat", to=OPENID, body="尊敬的张三业主：您的物业费1280.00元已于2026-04-30到期。",
    template_code="overdue", provider_template="TPL-overdue",
    params={"owner_name": "张三业主", "amount": "1280.00", "payment_link": "https://wy.example.cn/s/abc"},
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fake():
    fake = FakeWeChat().start()
    fake.subscribed.add(OPENID)
    yield fake
    fake.stop()


def wechat(fake, **options) -> WeChatTemplateBackend:
    return WeChatTemplateBackend(**{"appid": APPID, "secret": SECRET, "api_base": fake.base, "timeout": 0.5, **options})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_sends_a_template_message_with_the_statement_link(fake):
    result = wechat(fake).send(MESSAGE)

    assert (result.provider, result.provider_message_id) == ("wechat", str(fake.sent[0]["msgid"]))
    assert fake.sent[0] == {
        "touser": OPENID, "template_id": "TPL-overdue", "url": "https://wy.example.cn/s/abc", "msgid": fake.sent[0]["msgid"],
        "data": {"owner_name": {"value": "张三业主"}, "amount": {"value": "1280.00"},
                 "payment_link": {"value": "https://wy.example.cn/s/abc"}},
    }
    assert fake.calls_to(TOKEN)[0].query == {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}


def test_it_maps_wechat_fields_to_our_placeholders(fake):
    code = {"template_id": "TPL-overdue", "data": {"thing1": "owner_name", "amount2": "amount"}}
    message = Outbound(**{**MESSAGE.__dict__, "provider_template": code, "params": {"owner_name": "张三业主", "amount": "1.00"}})

    wechat(fake).send(message)

    assert fake.sent[0]["data"] == {"thing1": {"value": "张三业主"}, "amount2": {"value": "1.00"}}
    assert "url" not in fake.sent[0]  # no link in the message: the card opens nothing


def test_it_fetches_the_token_once_for_many_sends(fake):
    backend = wechat(fake)
    for _ in range(3):
        backend.send(MESSAGE)
    assert len(fake.calls_to(TOKEN)) == 1
    assert len(wechat(fake).send(MESSAGE).provider_message_id) > 0  # another worker's backend: the cached token
    assert len(fake.calls_to(TOKEN)) == 1


def test_it_refreshes_an_expired_token_and_sends(fake):
    # given a token WeChat has since expired
    backend = wechat(fake)
    backend.send(MESSAGE)
    fake.expire_tokens()
    # when
    backend.send(MESSAGE)
    # then the send answered 42001, a new token was fetched, and the send went through
    assert len(fake.calls_to(TOKEN)) == 2
    assert len(fake.calls_to(SEND)) == 3 and len(fake.sent) == 2


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
def test_it_refreshes_the_token_on_each_invalid_token_errcode(fake, errcode):
    fake.script(SEND, errcode)

    wechat(fake).send(MESSAGE)

    assert len(fake.calls_to(TOKEN)) == 2 and len(fake.sent) == 1


def test_it_refreshes_once_then_retries_later(fake):
    fake.script(SEND, 42001, 42001)

    with pytest.raises(TransientError) as error:
        wechat(fake).send(MESSAGE)

    assert error.value.code == "42001" and not error.value.in_doubt
    assert len(fake.calls_to(TOKEN)) == 2 and len(fake.calls_to(SEND)) == 2 and fake.sent == []


def test_it_refreshes_a_token_near_expiry_before_use(fake):
    with time_machine.travel(1_800_000_000, tick=False):
        wechat(fake).send(MESSAGE)
    with time_machine.travel(1_800_000_000 + 7200 - 301, tick=False):
        wechat(fake).send(MESSAGE)
        assert len(fake.calls_to(TOKEN)) == 1
    with time_machine.travel(1_800_000_000 + 7200 - 299, tick=False):
        wechat(fake).send(MESSAGE)
    assert len(fake.calls_to(TOKEN)) == 2
    assert len(fake.calls_to(SEND)) == 3  # no send went out with the old token


@pytest.mark.parametrize("errcode", [43004, 43101, 40003])
def test_an_owner_who_does_not_take_our_messages_is_a_permanent_refusal(fake, errcode):
    fake.script(SEND, errcode)

    with pytest.raises(PermanentError) as error:
        wechat(fake).send(MESSAGE)

    assert error.value.code == str(errcode)


def test_an_unsubscribed_openid_is_refused(fake):
    fake.subscribed.clear()
    with pytest.raises(PermanentError) as error:
        wechat(fake).send(MESSAGE)
    assert error.value.code == "43004"


@pytest.mark.parametrize("errcode", [45009, 45047, -1])
def test_rate_limits_and_a_busy_wechat_are_retried_later(fake, errcode):
    fake.script(SEND, errcode)

    with pytest.raises(TransientError) as error:
        wechat(fake).send(MESSAGE)

    assert error.value.code == str(errcode) and not error.value.in_doubt


def test_a_5xx_after_the_send_may_have_gone_out(fake):
    fake.script(SEND, "500")
    with pytest.raises(TransientError) as error:
        wechat(fake).send(MESSAGE)
    assert error.value.in_doubt


def test_a_timeout_after_the_send_may_have_gone_out(fake):
    fake.delay = 1.0
    backend = wechat(fake, timeout=0.2)
    backend.access_token()
    fake.script(SEND, "slow")

    with pytest.raises(TransientError) as error:
        backend.send(MESSAGE)

    assert error.value.in_doubt


def test_a_token_endpoint_that_is_down_sends_nothing_and_retries_later(fake):
    fake.script(TOKEN, "500")

    with pytest.raises(TransientError) as error:
        wechat(fake).send(MESSAGE)

    assert not error.value.in_doubt  # no message left this machine
    assert fake.calls_to(SEND) == []
    assert wechat(fake).send(MESSAGE).provider == "wechat"  # and the next try fetches a token


def test_an_unreachable_wechat_is_retried_without_doubt():
    backend = WeChatTemplateBackend(appid=APPID, secret=SECRET, api_base=f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(TransientError) as error:
        backend.send(MESSAGE)
    assert not error.value.in_doubt


def test_a_wrong_secret_is_a_permanent_refusal(fake):
    with pytest.raises(PermanentError) as error:
        wechat(fake, secret="wrong").send(MESSAGE)
    assert error.value.code == "40125"
    assert fake.calls_to(SEND) == []


def test_a_refresh_that_fails_is_retried_later(fake):
    # odd order: the send says the token expired, then the token endpoint is busy
    fake.script(SEND, 42001)
    fake.script(TOKEN, None, -1)  # the first token call answers normally

    with pytest.raises(TransientError) as error:
        wechat(fake).send(MESSAGE)

    assert error.value.code == "-1" and fake.sent == []


def test_a_template_without_a_wechat_template_id_is_refused_before_any_call(fake):
    with pytest.raises(PermanentError) as error:
        wechat(fake).send(Outbound(**{**MESSAGE.__dict__, "provider_template": ""}))
    assert error.value.code == "no_template"
    assert fake.calls == []


def test_an_unknown_wechat_template_is_refused(fake):
    with pytest.raises(PermanentError) as error:
        wechat(fake).send(Outbound(**{**MESSAGE.__dict__, "provider_template": "TPL-unknown"}))
    assert error.value.code == "40037"


def test_it_needs_the_appid_and_the_secret():
    with pytest.raises(ImproperlyConfigured, match="secret"):
        WeChatTemplateBackend(appid=APPID)


# ---- settings -----------------------------------------------------------------------------------


@pytest.fixture
def reload_settings(monkeypatch):
    import config.settings

    for name in ("ARREARS_WECHAT_BACKEND", "ARREARS_WECHAT_APPID", "ARREARS_WECHAT_SECRET", "ARREARS_WECHAT_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    yield lambda: importlib.reload(config.settings)
    monkeypatch.undo()
    importlib.reload(config.settings)


def test_wechat_prints_by_default(reload_settings):
    reloaded = reload_settings()
    assert reloaded.NOTICES_CHANNELS["wechat"]["BACKEND"].endswith("ConsoleBackend")
    assert reloaded.ARREARS_WECHAT == {}


def test_the_official_backend_is_chosen_from_the_environment(reload_settings, monkeypatch, settings):
    monkeypatch.setenv("ARREARS_WECHAT_BACKEND", "official")
    monkeypatch.setenv("ARREARS_WECHAT_APPID", APPID)
    monkeypatch.setenv("ARREARS_WECHAT_SECRET", SECRET)

    reloaded = reload_settings()

    assert reloaded.NOTICES_CHANNELS["wechat"] == {
        "BACKEND": "arrears.notices.channels.wechat.WeChatTemplateBackend", "appid": APPID, "secret": SECRET,
        "api_base": "https://api.weixin.qq.com",
    }
    settings.NOTICES_CHANNELS = reloaded.NOTICES_CHANNELS
    assert isinstance(backend_for("wechat"), WeChatTemplateBackend)


@pytest.mark.parametrize(("backend", "secret"), [("official", ""), ("offical", SECRET)])
def test_a_wechat_backend_it_cannot_build_stops_the_start(reload_settings, monkeypatch, backend, secret):
    monkeypatch.setenv("ARREARS_WECHAT_BACKEND", backend)
    monkeypatch.setenv("ARREARS_WECHAT_APPID", APPID)
    monkeypatch.setenv("ARREARS_WECHAT_SECRET", secret)

    with pytest.raises(ImproperlyConfigured, match="ARREARS_WECHAT"):
        reload_settings()


@pytest.mark.parametrize(("answers", "error", "code"), [
    ((42001, 43004), PermanentError, "43004"),  # a refreshed token, then the owner has unfollowed
    ((42001, -1), TransientError, "-1"),
    ((45009, 0), TransientError, "45009"),  # the first answer stands: one send per call, the outbox retries
])
def test_errcodes_in_odd_orders(fake, answers, error, code):
    fake.script(SEND, *[answer for answer in answers if answer])

    with pytest.raises(error) as raised:
        wechat(fake).send(MESSAGE)

    assert raised.value.code == code and fake.sent == []


def test_a_token_answer_without_a_token_is_retried_later(fake, monkeypatch):
    monkeypatch.setattr(fake, "_token", lambda query: {"expires_in": 7200})
    with pytest.raises(TransientError):
        wechat(fake).send(MESSAGE)
    assert fake.calls_to(SEND) == []
