import importlib
import io
import json
import smtplib
import socket
import time
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from arrears.notices.channels import (
    LookupUnsupported,
    Outbound,
    PermanentError,
    Receipt,
    SendResult,
    TransientError,
    backend_for,
    backend_named,
)
from arrears.notices.channels.aliyun import AliyunSmsBackend
from arrears.notices.channels.console import ConsoleBackend
from arrears.notices.channels.email import EmailBackend
from arrears.notices.channels.file import FileBackend
from arrears.notices.channels.tencent import TencentSmsBackend

from .fake_providers import CHINA, FailingEmailBackend, FakeAliyun, FakeTencent

SMS = Outbound(
    key="notice-42-1",
    channel="sms",
    to="13800138000",
    body="【阳光物业】张三您好，您尚欠物业费 1,280.00 元，请及时缴纳。",
    template_code="reminder",
    provider_template="SMS_460001",
    params={"name": "张三", "amount": "1,280.00"},
    sign_name="阳光物业",
)
EMAIL = Outbound(
    key="notice-43-1",
    channel="email",
    to="zhang@example.com",
    subject="物业费催缴通知",
    body="张三您好：\n您尚欠物业费 1,280.00 元。",
)
TIMEOUT = 0.1  # seconds: the fakes' `delay` goes beyond it in the timeout tests


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """The SDKs honour proxy variables; the fakes live on 127.0.0.1."""
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- console ------------------------------------------------------------------------------------


def test_it_prints_one_line_per_message():
    stream = io.StringIO()

    result = ConsoleBackend(stream=stream).send(EMAIL)

    assert result == SendResult(provider="console", provider_message_id="console-notice-43-1")
    assert stream.getvalue() == (
        "[email] to=zhang@example.com key=notice-43-1 "
        "物业费催缴通知 | 张三您好：\\n您尚欠物业费 1,280.00 元。\n"
    )


def test_it_prints_to_stdout_by_default(capsys):
    ConsoleBackend().send(SMS)

    assert capsys.readouterr().out.count("\n") == 1


def test_it_cannot_look_up_a_console_message():
    with pytest.raises(LookupUnsupported):
        ConsoleBackend().lookup(SMS, timezone.now())


# ---- file ---------------------------------------------------------------------------------------


def test_it_writes_a_message_as_json(tmp_path):
    result = FileBackend(directory=str(tmp_path)).send(SMS)

    [path] = tmp_path.iterdir()
    record = json.loads(path.read_text(encoding="utf-8"))
    assert result.provider == "file"
    assert result.provider_message_id == f"file-{path.stem}"
    assert record["key"] == "notice-42-1"
    assert record["to"] == "13800138000"
    assert record["params"] == {"name": "张三", "amount": "1,280.00"}
    assert record["body"] == SMS.body


def test_it_writes_the_same_key_once(tmp_path):
    backend = FileBackend(directory=str(tmp_path))
    first = backend.send(SMS)
    [path] = tmp_path.iterdir()
    written = path.read_text(encoding="utf-8")

    second = backend.send(Outbound(**{**SMS.__dict__, "body": "changed"}))

    assert second == first
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp files left either
    assert path.read_text(encoding="utf-8") == written


def test_it_writes_to_the_configured_folder(settings, tmp_path):
    settings.NOTICES_FILE_DIR = str(tmp_path / "outbox")

    FileBackend().send(SMS)

    assert len(list((tmp_path / "outbox").iterdir())) == 1


def test_it_looks_up_a_file_message(tmp_path):
    backend = FileBackend(directory=str(tmp_path))
    sent = backend.send(SMS)

    assert backend.lookup(SMS, timezone.now()) == sent
    assert backend.lookup(EMAIL, timezone.now()) is None


# ---- email --------------------------------------------------------------------------------------


def test_it_sends_an_email_with_a_message_id_from_the_key(settings):
    settings.DEFAULT_FROM_EMAIL = "物业服务中心 <notice@sunshine-pm.cn>"

    result = EmailBackend().send(EMAIL)

    [sent] = mail.outbox
    assert sent.subject == "物业费催缴通知"
    assert sent.body == EMAIL.body
    assert sent.to == ["zhang@example.com"]
    assert sent.from_email == "物业服务中心 <notice@sunshine-pm.cn>"
    assert result.provider == "email"
    assert result.provider_message_id == sent.message()["Message-ID"]
    assert result.provider_message_id.endswith("@sunshine-pm.cn>")


def test_it_gives_the_same_key_the_same_message_id():
    backend = EmailBackend(domain="example.org")

    first = backend.send(EMAIL)
    again = backend.send(EMAIL)
    other = backend.send(Outbound(**{**EMAIL.__dict__, "key": "notice-44-1"}))

    assert first == again
    assert other != first
    assert first.provider_message_id.endswith("@example.org>")


@pytest.mark.parametrize(
    ("error", "kind", "code", "in_doubt"),
    [
        (
            smtplib.SMTPRecipientsRefused({"zhang@example.com": (550, b"no such user")}),
            PermanentError,
            "550",
            False,
        ),
        (
            smtplib.SMTPRecipientsRefused({"zhang@example.com": (450, b"greylisted")}),
            TransientError,
            "450",
            False,
        ),
        (smtplib.SMTPDataError(554, b"spam"), PermanentError, "554", False),
        (
            smtplib.SMTPSenderRefused(451, b"try later", "notice@example.com"),
            TransientError,
            "451",
            False,
        ),
        (smtplib.SMTPServerDisconnected("gone"), TransientError, "", True),
        (ConnectionRefusedError(111, "Connection refused"), TransientError, "", False),
        (TimeoutError("timed out"), TransientError, "", True),
    ],
)
def test_it_classifies_smtp_errors(monkeypatch, error, kind, code, in_doubt):
    monkeypatch.setattr(FailingEmailBackend, "error", error)
    backend = EmailBackend(backend="tests.notices.fake_providers.FailingEmailBackend")

    with pytest.raises(kind) as raised:
        backend.send(EMAIL)

    assert type(raised.value) is kind
    assert raised.value.code == code
    assert raised.value.in_doubt is in_doubt


def test_it_cannot_look_up_an_email():
    with pytest.raises(LookupUnsupported):
        EmailBackend().lookup(EMAIL, timezone.now())


# ---- Aliyun -------------------------------------------------------------------------------------


@pytest.fixture
def aliyun_fake():
    fake = FakeAliyun().start()
    yield fake
    fake.stop()


def aliyun(fake, **options):
    return AliyunSmsBackend(
        access_key_id=fake.access_key_id,
        access_key_secret=fake.access_key_secret,
        endpoint=fake.endpoint,
        protocol="http",
        connect_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
        **options,
    )


def test_it_sends_an_sms_through_aliyun(aliyun_fake):
    result = aliyun(aliyun_fake).send(SMS)

    [call] = aliyun_fake.calls
    [accepted] = aliyun_fake.accepted
    assert result == SendResult(provider="aliyun", provider_message_id=accepted.message_id)
    assert call.action == "SendSms"
    assert call.params == {
        "PhoneNumbers": "13800138000",
        "SignName": "阳光物业",
        "TemplateCode": "SMS_460001",
        "TemplateParam": '{"name": "张三", "amount": "1,280.00"}',
        "OutId": "notice-42-1",
    }


def test_it_signs_with_the_configured_sign_name_when_the_message_has_none(aliyun_fake):
    aliyun(aliyun_fake, sign_name="阳光物业").send(Outbound(**{**SMS.__dict__, "sign_name": ""}))

    assert aliyun_fake.calls[0].params["SignName"] == "阳光物业"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"to": "1380013800"}, "isv.MOBILE_NUMBER_ILLEGAL"),
        ({"provider_template": "SMS_999999"}, "isv.SMS_TEMPLATE_ILLEGAL"),
        ({"sign_name": "未审核签名"}, "isv.SMS_SIGNATURE_ILLEGAL"),
        ({"params": {"name": "张三"}}, "isv.TEMPLATE_MISSING_PARAMETERS"),
    ],
)
def test_it_refuses_an_sms_aliyun_refuses(aliyun_fake, change, code):
    with pytest.raises(PermanentError) as raised:
        aliyun(aliyun_fake).send(Outbound(**{**SMS.__dict__, **change}))

    assert raised.value.code == code
    assert aliyun_fake.accepted == []


def test_it_retries_later_when_aliyun_throttles(aliyun_fake):
    aliyun_fake.per_number_limit = 1
    backend = aliyun(aliyun_fake)
    backend.send(SMS)

    with pytest.raises(TransientError) as raised:
        backend.send(Outbound(**{**SMS.__dict__, "key": "notice-42-2"}))

    assert raised.value.code == "isv.BUSINESS_LIMIT_CONTROL"
    assert raised.value.in_doubt is False


def test_it_retries_later_when_aliyun_fails_with_500(aliyun_fake):
    aliyun_fake.outage = True

    with pytest.raises(TransientError) as raised:
        aliyun(aliyun_fake).send(SMS)

    assert raised.value.code == "ServiceUnavailable"
    assert raised.value.in_doubt is True
    assert len(aliyun_fake.calls) == 1  # the SDK did not retry on its own


def test_it_gives_up_waiting_for_aliyun_and_the_lookup_finds_the_message(aliyun_fake):
    aliyun_fake.delay = 5  # far beyond the timeout: the bound below holds however busy the machine is
    backend = aliyun(aliyun_fake)
    started = time.monotonic()

    with pytest.raises(TransientError) as raised:
        backend.send(SMS)

    assert time.monotonic() - started < 4
    assert raised.value.in_doubt is True
    assert len(aliyun_fake.calls) == 1
    aliyun_fake.delay = 0
    assert backend.lookup(SMS, timezone.now() - timedelta(minutes=1)) is not None


def test_it_retries_later_when_aliyun_is_unreachable():
    backend = AliyunSmsBackend(
        access_key_id="ak",
        access_key_secret="secret",
        endpoint=f"127.0.0.1:{closed_port()}",
        protocol="http",
        connect_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
    )

    with pytest.raises(TransientError) as raised:
        backend.send(SMS)

    assert raised.value.in_doubt is False  # refused: the request never left


def test_it_looks_up_an_aliyun_message_by_out_id(aliyun_fake):
    backend = aliyun(aliyun_fake)
    backend.send(Outbound(**{**SMS.__dict__, "key": "notice-41-1"}))
    backend.send(SMS)
    aliyun_fake.calls.clear()

    found = backend.lookup(SMS, timezone.now() - timedelta(minutes=1))

    assert found == SendResult(provider="aliyun", provider_message_id="")
    [call] = aliyun_fake.calls
    assert call.action == "QuerySendDetails"
    assert call.params == {
        "PhoneNumber": "13800138000",
        "SendDate": datetime.now(CHINA).strftime("%Y%m%d"),
        "PageSize": "50",
        "CurrentPage": "1",
    }


def test_it_finds_no_aliyun_message_that_was_never_sent(aliyun_fake):
    backend = aliyun(aliyun_fake)
    backend.send(Outbound(**{**SMS.__dict__, "key": "notice-41-1"}))

    assert backend.lookup(SMS, timezone.now() - timedelta(minutes=1)) is None


def test_it_searches_each_day_since_the_send(aliyun_fake):
    today = datetime.now(CHINA)

    aliyun(aliyun_fake).lookup(SMS, today - timedelta(days=1))

    assert [call.params["SendDate"] for call in aliyun_fake.calls] == [
        (today - timedelta(days=1)).strftime("%Y%m%d"),
        today.strftime("%Y%m%d"),
    ]


def test_it_cannot_look_up_aliyun_messages_older_than_30_days(aliyun_fake):
    with pytest.raises(LookupUnsupported):
        aliyun(aliyun_fake).lookup(SMS, timezone.now() - timedelta(days=31))

    assert aliyun_fake.calls == []


def test_it_parses_aliyun_delivery_reports():
    body = json.dumps(
        [
            {
                "phone_number": "13800138000",
                "send_time": "2024-03-01 09:00:00",
                "report_time": "2024-03-01 09:00:05",
                "success": True,
                "err_code": "DELIVERED",
                "err_msg": "用户接收成功",
                "sms_size": "1",
                "biz_id": "900001^0",
                "out_id": "notice-42-1",
            },
            {
                "phone_number": "13900139000",
                "send_time": "2024-03-01 09:00:00",
                "report_time": "2024-03-01 09:01:00",
                "success": False,
                "err_code": "MK:0001",
                "err_msg": "空号",
                "sms_size": "1",
                "biz_id": "900002^0",
                "out_id": "notice-43-1",
            },
        ],
        ensure_ascii=False,
    ).encode()

    receipts = aliyun(FakeAliyun()).parse_receipts(body, {"Content-Type": "application/json"})

    assert receipts == [
        Receipt(
            provider="aliyun",
            provider_message_id="900001^0",
            delivered=True,
            at=datetime(2024, 3, 1, 9, 0, 5, tzinfo=CHINA),
            code="DELIVERED",
            description="用户接收成功",
            phone="13800138000",
            key="notice-42-1",
        ),
        Receipt(
            provider="aliyun",
            provider_message_id="900002^0",
            delivered=False,
            at=datetime(2024, 3, 1, 9, 1, tzinfo=CHINA),
            code="MK:0001",
            description="空号",
            phone="13900139000",
            key="notice-43-1",
        ),
    ]


@pytest.mark.parametrize("body", [b"not json", b'{"biz_id": "1"}', b'[{"success": true}]', b"[1]"])
def test_it_rejects_a_malformed_aliyun_report(body):
    with pytest.raises(ValueError):
        aliyun(FakeAliyun()).parse_receipts(body, {})


def test_it_answers_aliyun_reports_as_aliyun_expects():
    content_type, body = aliyun(FakeAliyun()).receipt_ack()

    assert content_type.startswith("application/json")
    assert json.loads(body)["code"] == 0


def test_it_needs_aliyun_keys():
    with pytest.raises(ImproperlyConfigured):
        AliyunSmsBackend(access_key_secret="secret")


# ---- Tencent ------------------------------------------------------------------------------------


TENCENT_SMS = Outbound(**{**SMS.__dict__, "provider_template": "1110001"})


@pytest.fixture
def tencent_fake():
    fake = FakeTencent().start()
    yield fake
    fake.stop()


def tencent(fake, **options):
    return TencentSmsBackend(
        secret_id=fake.secret_id,
        secret_key=fake.secret_key,
        sdk_app_id=fake.sdk_app_id,
        endpoint=fake.endpoint,
        scheme="http",
        connect_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
        **options,
    )


def test_it_sends_an_sms_through_tencent(tencent_fake):
    result = tencent(tencent_fake).send(TENCENT_SMS)

    [call] = tencent_fake.calls
    [accepted] = tencent_fake.accepted
    assert result == SendResult(provider="tencent", provider_message_id=accepted.message_id)
    assert call.action == "SendSms"
    assert call.headers["x-tc-region"] == "ap-guangzhou"
    assert call.params == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": "1400006666",
        "SignName": "阳光物业",
        "TemplateId": "1110001",
        "TemplateParamSet": ["张三", "1,280.00"],  # in the order of Outbound.params
        "SessionContext": "notice-42-1",
    }


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"to": "1380013800"}, "InvalidParameterValue.IncorrectPhoneNumber"),
        ({"provider_template": "9999999"}, "FailedOperation.TemplateIncorrectOrUnapproved"),
        ({"sign_name": "未审核签名"}, "FailedOperation.SignatureIncorrectOrUnapproved"),
        ({"params": {"name": "张三"}}, "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"),
    ],
)
def test_it_refuses_an_sms_tencent_refuses(tencent_fake, change, code):
    with pytest.raises(PermanentError) as raised:
        tencent(tencent_fake).send(Outbound(**{**TENCENT_SMS.__dict__, **change}))

    assert raised.value.code == code
    assert tencent_fake.accepted == []


def test_it_retries_later_when_tencent_throttles(tencent_fake):
    tencent_fake.per_number_limit = 1
    backend = tencent(tencent_fake)
    backend.send(TENCENT_SMS)

    with pytest.raises(TransientError) as raised:
        backend.send(Outbound(**{**TENCENT_SMS.__dict__, "key": "notice-42-2"}))

    assert raised.value.code == "LimitExceeded.PhoneNumberDailyLimit"
    assert raised.value.in_doubt is False


def test_it_retries_later_when_tencent_fails_with_500(tencent_fake):
    tencent_fake.outage = True

    with pytest.raises(TransientError) as raised:
        tencent(tencent_fake).send(TENCENT_SMS)

    assert raised.value.in_doubt is True
    assert len(tencent_fake.calls) == 1  # the SDK did not retry on its own


def test_it_gives_up_waiting_for_tencent(tencent_fake):
    tencent_fake.delay = 5  # far beyond the timeout: the bound below holds however busy the machine is
    started = time.monotonic()

    with pytest.raises(TransientError) as raised:
        tencent(tencent_fake).send(TENCENT_SMS)

    assert time.monotonic() - started < 4
    assert raised.value.in_doubt is True
    assert len(tencent_fake.calls) == 1


def test_it_retries_later_when_tencent_is_unreachable():
    backend = TencentSmsBackend(
        secret_id="id",
        secret_key="key",
        sdk_app_id="1400006666",
        endpoint=f"127.0.0.1:{closed_port()}",
        scheme="http",
        connect_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
    )

    with pytest.raises(TransientError) as raised:
        backend.send(TENCENT_SMS)

    assert raised.value.code == "ClientNetworkError"
    assert raised.value.in_doubt is False


def test_it_looks_up_a_tencent_message_by_session_context(tencent_fake):
    backend = tencent(tencent_fake)
    backend.send(Outbound(**{**TENCENT_SMS.__dict__, "key": "notice-41-1"}))
    sent = backend.send(TENCENT_SMS)
    tencent_fake.calls.clear()
    sent_after = timezone.now() - timedelta(minutes=1)

    found = backend.lookup(TENCENT_SMS, sent_after)

    assert found == sent
    [call] = tencent_fake.calls
    assert call.action == "PullSmsSendStatusByPhoneNumber"
    assert call.params["PhoneNumber"] == "+8613800138000"
    assert call.params["SmsSdkAppId"] == "1400006666"
    assert call.params["BeginTime"] == int(sent_after.timestamp()) - 60
    assert (call.params["Offset"], call.params["Limit"]) == (0, 100)


def test_it_cannot_tell_whether_tencent_holds_an_unreported_message(tencent_fake):
    backend = tencent(tencent_fake)
    tencent_fake.reports_arrived = False
    backend.send(TENCENT_SMS)

    with pytest.raises(LookupUnsupported):
        backend.lookup(TENCENT_SMS, timezone.now() - timedelta(minutes=1))
    with pytest.raises(LookupUnsupported):
        backend.lookup(Outbound(**{**TENCENT_SMS.__dict__, "key": "never-sent"}), timezone.now())


def test_it_parses_tencent_delivery_reports():
    body = json.dumps(
        [
            {
                "user_receive_time": "2024-03-01 09:00:05",
                "nationcode": "86",
                "mobile": "13800138000",
                "report_status": "SUCCESS",
                "errmsg": "DELIVRD",
                "description": "用户短信送达成功",
                "sid": "2433:330000000001",
            },
            {
                "user_receive_time": "2024-03-01 09:01:00",
                "nationcode": "86",
                "mobile": "13900139000",
                "report_status": "FAIL",
                "errmsg": "MK:0001",
                "description": "空号",
                "sid": "2433:330000000002",
            },
        ],
        ensure_ascii=False,
    ).encode()

    receipts = tencent(FakeTencent()).parse_receipts(body, {})

    assert receipts == [
        Receipt(
            provider="tencent",
            provider_message_id="2433:330000000001",
            delivered=True,
            at=datetime(2024, 3, 1, 9, 0, 5, tzinfo=CHINA),
            code="DELIVRD",
            description="用户短信送达成功",
            phone="13800138000",
        ),
        Receipt(
            provider="tencent",
            provider_message_id="2433:330000000002",
            delivered=False,
            at=datetime(2024, 3, 1, 9, 1, tzinfo=CHINA),
            code="MK:0001",
            description="空号",
            phone="13900139000",
        ),
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"\xff",
        b"{}",
        b'[{"report_status": "SUCCESS"}]',
        b'[{"sid": "1", "user_receive_time": "soon"}]',
    ],
)
def test_it_rejects_a_malformed_tencent_report(body):
    with pytest.raises(ValueError):
        tencent(FakeTencent()).parse_receipts(body, {})


def test_it_answers_tencent_reports_as_tencent_expects():
    content_type, body = tencent(FakeTencent()).receipt_ack()

    assert content_type.startswith("application/json")
    assert json.loads(body) == {"result": 0, "errmsg": "OK"}


def test_it_needs_tencent_keys():
    with pytest.raises(ImproperlyConfigured):
        TencentSmsBackend(secret_id="id", secret_key="key")


# ---- settings -----------------------------------------------------------------------------------


def test_it_builds_the_configured_backend(settings, aliyun_fake):
    settings.NOTICES_CHANNELS = {
        "sms": {
            "BACKEND": "arrears.notices.channels.aliyun.AliyunSmsBackend",
            "access_key_id": aliyun_fake.access_key_id,
            "access_key_secret": aliyun_fake.access_key_secret,
            "endpoint": aliyun_fake.endpoint,
            "protocol": "http",
        },
        "email": {"BACKEND": "arrears.notices.channels.email.EmailBackend"},
    }

    result = backend_for("sms").send(SMS)

    assert result.provider == "aliyun"
    assert isinstance(backend_named("aliyun"), AliyunSmsBackend)
    assert backend_named("tencent") is None


@pytest.fixture
def reload_settings(monkeypatch):
    """Re-read config.settings under a changed environment; restore it afterwards."""
    import config.settings

    for name in ("ARREARS_SMS_BACKEND", "ALIYUN_SMS_ACCESS_KEY_ID", "TENCENT_SMS_SECRET_ID"):
        monkeypatch.delenv(name, raising=False)
    yield lambda: importlib.reload(config.settings)
    monkeypatch.undo()
    importlib.reload(config.settings)


def test_it_prints_sms_by_default(reload_settings):
    assert reload_settings().NOTICES_CHANNELS["sms"]["BACKEND"].endswith("ConsoleBackend")


def test_it_chooses_the_sms_backend_from_the_environment(reload_settings, monkeypatch):
    monkeypatch.setenv("ARREARS_SMS_BACKEND", "tencent")
    monkeypatch.setenv("TENCENT_SMS_SECRET_ID", "AKID-test")
    monkeypatch.setenv("TENCENT_SMS_SECRET_KEY", "secret")
    monkeypatch.setenv("TENCENT_SMS_SDK_APP_ID", "1400006666")
    monkeypatch.setenv("TENCENT_SMS_SIGN_NAME", "阳光物业")

    sms = reload_settings().NOTICES_CHANNELS["sms"]

    assert sms == {
        "BACKEND": "arrears.notices.channels.tencent.TencentSmsBackend",
        "secret_id": "AKID-test",
        "secret_key": "secret",
        "sdk_app_id": "1400006666",
        "sign_name": "阳光物业",
        "endpoint": "sms.tencentcloudapi.com",
    }


@pytest.mark.parametrize("backend", ["aliyun", "twilio"])
def test_it_refuses_an_sms_backend_it_cannot_build(reload_settings, monkeypatch, backend):
    monkeypatch.setenv("ARREARS_SMS_BACKEND", backend)

    with pytest.raises(ImproperlyConfigured):
        reload_settings()
