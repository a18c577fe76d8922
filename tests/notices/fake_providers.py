"""An email backend that fails on demand, as smtplib does mid-conversation."""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend


class FailingEmailBackend(BaseEmailBackend):
    """Raises `FailingEmailBackend.error` from send_messages, as smtplib would mid-conversation."""

    error: Exception | None = None

    def send_messages(self, email_messages):
        if self.error is not None:
            raise self.error
        return len(email_messages)
