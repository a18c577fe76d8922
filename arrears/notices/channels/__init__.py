"""Channel backends chosen by settings (`NOTICES_CHANNELS`), like Django's EMAIL_BACKEND.

    NOTICES_CHANNELS = {"sms": {"BACKEND": "arrears.notices.channels.aliyun.AliyunSmsBackend", ...options}}

Options other than BACKEND are passed to the backend's constructor.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from .base import (  # noqa: F401 - re-exported
    Backend,
    ChannelError,
    LookupUnsupported,
    Outbound,
    PermanentError,
    Receipt,
    SendResult,
    TransientError,
)

DEFAULT = {"BACKEND": "arrears.notices.channels.console.ConsoleBackend"}


def backend_for(channel: str) -> Backend:
    config = dict(getattr(settings, "NOTICES_CHANNELS", {}).get(channel) or DEFAULT)
    cls = import_string(config.pop("BACKEND"))
    return cls(**config)


def backend_named(name: str) -> Backend | None:
    """The configured backend whose `name` is `name` (for receipt callbacks), or None."""
    for channel in getattr(settings, "NOTICES_CHANNELS", {}):
        backend = backend_for(channel)
        if backend.name == name:
            return backend
    return None
