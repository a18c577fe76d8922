import io
import json
import smtplib

import pytest
from django.core import mail
from django.utils import timezone

from arrears.notices.channels import (
    LookupUnsupported,
    Outbound,
    PermanentError,
    SendResult,
    TransientError,
)
from arrears.notices.channels.console import ConsoleBackend
from arrears.notices.channels.email import EmailBackend
from arrears.notices.channels.file import FileBackend

from .fake_providers import FailingEmailBackend

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
