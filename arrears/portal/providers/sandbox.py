"""The demo provider: our own pay page stands in for the provider's and walks the same states.

Its notifications are signed with HMAC-SHA256 under a key derived from SECRET_KEY and go
through the same `handle_notification` as WeChat Pay's and Alipay's, so a demo payment is
verified, matched and credited exactly as a real one. It never moves real money.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from arrears.portal.providers.base import (
    Ack,
    Checkout,
    InvalidNotification,
    Notification,
    PaymentProvider,
    StatementRow,
)

SIGNATURE_HEADER = "X-Sandbox-Signature"


def _key() -> bytes:
    return salted_hmac("arrears.portal.sandbox", "notify", secret=settings.SECRET_KEY).digest()


def sign(body: bytes) -> str:
    return hmac.new(_key(), body, hashlib.sha256).hexdigest()


class SandboxProvider(PaymentProvider):
    method = "online"

    def checkout(self, order, *, mobile: bool, return_url: str, notify_url: str) -> Checkout:
        # Like a real provider's page, it sends the owner back to return_url when done.
        return Checkout("redirect", reverse("portal:sandbox_pay", args=[order.number]) + "?" + urlencode({"return": return_url}))

    def notification_for(self, order, *, trade_no: str, succeeded: bool = True, amount=None,
                         paid_at: datetime | None = None) -> tuple[dict, bytes]:
        """The signed notification the sandbox 'provider' sends when the owner pays on its page."""
        body = json.dumps({
            "out_trade_no": order.number, "trade_no": trade_no, "amount": str(order.amount if amount is None else amount),
            "status": "SUCCESS" if succeeded else "CLOSED",
            "paid_at": (paid_at or timezone.now()).isoformat(),
        }, sort_keys=True).encode()
        return {SIGNATURE_HEADER: sign(body)}, body

    def parse_notification(self, *, headers: dict, body: bytes) -> Notification:
        signature = headers.get(SIGNATURE_HEADER) or headers.get("HTTP_X_SANDBOX_SIGNATURE") or ""
        if not hmac.compare_digest(signature, sign(body)):
            raise InvalidNotification("signature does not match")
        try:
            data = json.loads(body)
            return Notification(
                order_number=str(data["out_trade_no"]), trade_no=str(data["trade_no"]), amount=Decimal(data["amount"]),
                succeeded=data["status"] == "SUCCESS", paid_at=datetime.fromisoformat(data["paid_at"]), raw=data,
            )
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise InvalidNotification(f"malformed notification: {exc}") from exc

    def ack(self, ok: bool) -> Ack:
        return Ack(200 if ok else 400, json.dumps({"code": "SUCCESS" if ok else "FAIL"}), "application/json")

    def parse_statement(self, text: str) -> list[StatementRow]:
        """CSV with a header: out_trade_no, trade_no, amount, paid_at, status."""
        rows = []
        for row in csv.DictReader(io.StringIO(text)):
            rows.append(StatementRow(row["out_trade_no"].strip(), row["trade_no"].strip(), Decimal(row["amount"].strip()),
                                     datetime.fromisoformat(row["paid_at"].strip()) if row.get("paid_at") else None,
                                     row.get("status", "SUCCESS").strip() or "SUCCESS"))
        return rows
