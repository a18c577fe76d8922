"""What every channel backend takes and returns, in the manner of Django's email backends.

The outbox renders and freezes a message's text, then hands an `Outbound` to the backend for its
channel. A backend either returns a `SendResult` (the provider accepted the message and gave it
an id), or raises `TransientError` (timeouts, throttling, 5xx: the outbox retries with backoff)
or `PermanentError` (bad number, template not approved, no balance: retrying cannot help).

`lookup` answers, after a worker died mid-send, whether the provider already holds the message:
the outbox resends only when the answer is "no", so a message is never sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class ChannelError(Exception):
    """A send that did not go through; `code` is the provider's code, kept on the message."""

    def __init__(self, message: str, *, code: str = "", in_doubt: bool = False):
        super().__init__(message)
        self.code = code
        # True when the provider may have accepted the message anyway (the answer timed out, a
        # 5xx after the request went out): `lookup` before resending, or it may arrive twice.
        self.in_doubt = in_doubt


class TransientError(ChannelError):
    """Worth retrying later: timeouts, connection errors, throttling, provider 5xx."""


class PermanentError(ChannelError):
    """Retrying cannot help: invalid number, unapproved template, account problems."""


class LookupUnsupported(Exception):
    """The backend cannot tell whether a message was sent; a person must check and resend."""


@dataclass(frozen=True)
class Outbound:
    key: str  # the outbox row's idempotency key; unique per message, sent as the provider's out-id
    channel: str  # "sms", "wechat" or "email"
    to: str  # phone number (11 digits, mainland) or email address
    body: str  # the rendered, frozen text: what the owner reads
    subject: str = ""  # email only
    template_code: str = ""  # our template code
    provider_template: str = ""  # the provider's approved template code for this template
    params: dict[str, str] = field(default_factory=dict)  # values for the provider's template
    sign_name: str = ""  # SMS signature (签名), e.g. "阳光物业"


@dataclass(frozen=True)
class SendResult:
    provider: str  # backend name: "console", "file", "email", "aliyun", "tencent"
    provider_message_id: str  # the provider's id (BizId, SerialNo, …), matched by receipts


@dataclass(frozen=True)
class Receipt:
    """A delivery report pushed by the provider (状态报告)."""

    provider: str
    provider_message_id: str
    delivered: bool
    at: datetime | None
    code: str = ""
    description: str = ""
    phone: str = ""
    key: str = ""  # our Outbound.key when the provider echoes it (Aliyun's out_id)


class Backend:
    """Base class. `name` identifies the provider in stored rows and receipt URLs."""

    name = "base"

    def __init__(self, **options):
        self.options = options

    def send(self, message: Outbound) -> SendResult:  # pragma: no cover - interface
        raise NotImplementedError

    def longest_call(self) -> float:
        """Seconds one `send` may take at most, by its timeouts: the outbox's lease must be longer."""
        return 60.0

    def lookup(self, message: Outbound, sent_after: datetime) -> SendResult | None:
        """The provider's record of `message` sent after `sent_after`, or None if it has none."""
        raise LookupUnsupported(self.name)

    def parse_receipts(self, body: bytes, headers: dict[str, str]) -> list[Receipt]:
        """Delivery reports from the provider's HTTP push; raise ValueError on a malformed body."""
        raise NotImplementedError(self.name)

    def receipt_ack(self) -> tuple[str, bytes]:
        """The (content type, body) the provider expects back, or it pushes the reports again."""
        return "text/plain; charset=utf-8", b"OK"
