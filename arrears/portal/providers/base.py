"""The one interface every payment provider implements.

The portal creates an order, asks the provider for a checkout (a page to redirect to, or a QR
code to show), and later receives the provider's asynchronous notification. A provider only
verifies and parses: crediting the ledger is `portal.payments.handle_notification`'s job, the
same for every provider. Card and account data never reach us: the owner pays on the
provider's page or in the provider's app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone


class InvalidNotification(Exception):
    """The notification's signature or format is wrong: it is refused and nothing is credited."""


@dataclass(frozen=True)
class Checkout:
    kind: str  # "redirect": send the browser to url; "qr": show url as a QR code to scan
    url: str


@dataclass(frozen=True)
class Notification:
    """What a verified notification says: which order, the provider's trade number, the amount paid."""

    order_number: str
    trade_no: str
    amount: Decimal
    succeeded: bool
    paid_at: datetime | None = None
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StatementRow:
    """One line of a provider's statement (对账单) for reconciliation."""

    order_number: str
    trade_no: str
    amount: Decimal
    paid_at: datetime | None = None
    status: str = "SUCCESS"


@dataclass(frozen=True)
class Ack:
    """The HTTP answer a provider expects to stop (or keep) resending a notification."""

    status: int
    body: str
    content_type: str = "text/plain"


class PaymentProvider:
    code: str = ""
    method: str = ""  # the ledger's PaymentMethod for money taken through this provider

    def __init__(self, *, code: str, **options):
        self.code = code
        self.options = options

    def checkout(self, order, *, mobile: bool, return_url: str, notify_url: str) -> Checkout:
        raise NotImplementedError

    def parse_notification(self, *, headers: dict, body: bytes) -> Notification:
        """Verify the signature and read the notification; raise InvalidNotification when it fails."""
        raise NotImplementedError

    def ack(self, ok: bool) -> Ack:
        raise NotImplementedError

    def parse_statement(self, text: str) -> list[StatementRow]:
        """Read a statement file downloaded from the provider's merchant platform."""
        raise NotImplementedError

    def statement_span(self, text: str) -> tuple[datetime, datetime] | None:
        """The time the statement covers, [start, end): reconciliation expects in it every payment we
        credited then. By default the whole local days of its rows (a daily bill has no dates of its own)."""
        times = [row.paid_at for row in self.parse_statement(text) if row.paid_at is not None]
        if not times:
            return None
        first, last = (timezone.localtime(min(times)).date(), timezone.localtime(max(times)).date())
        start = timezone.make_aware(datetime.combine(first, time.min))
        return start, timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
