"""Small helpers shared by the backends: key hashing, China time, receipt bodies."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from zoneinfo import ZoneInfo

# Providers in mainland China speak Beijing time in dates, query days and receipts.
CHINA = ZoneInfo("Asia/Shanghai")

# Texts of network errors raised before a request left this machine: those cannot have been
# delivered, so a retry is safe without a lookup. Anything else (read timeouts, resets) may have.
_NEVER_SENT = (
    "NewConnectionError",
    "ConnectTimeout",
    "Connection refused",
    "NameResolutionError",
    "Name or service not known",
    "nodename nor servname",
    "connect timeout",
)


def key_digest(key: str) -> str:
    """A stable, file- and header-safe stand-in for an idempotency key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def in_doubt(error_text: str) -> bool:
    """Whether a network error may have come after the provider received the request."""
    return not any(marker in error_text for marker in _NEVER_SENT)


def china_time(text: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> datetime | None:
    """A provider's local timestamp ("2024-03-01 08:00:00") as an aware datetime; None if blank."""
    if not text:
        return None
    return datetime.strptime(text, fmt).replace(tzinfo=CHINA)


def json_items(body: bytes) -> list[dict]:
    """The JSON array of objects both SMS providers push; ValueError on anything else."""
    try:
        items = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"receipt body is not JSON: {exc}") from exc
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValueError("receipt body is not a JSON array of objects")
    return items
