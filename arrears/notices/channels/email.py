"""Email through Django's mail machinery, so EMAIL_* settings and test outboxes just work."""

from __future__ import annotations

import smtplib
import socket
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from ._util import key_digest
from .base import Backend, Outbound, PermanentError, SendResult, TransientError


class EmailBackend(Backend):
    """Options: `from_email` (default DEFAULT_FROM_EMAIL), `domain` for the Message-ID (default
    the sender's domain), `backend` (a Django email backend path; default EMAIL_BACKEND) and
    `timeout` in seconds (default EMAIL_TIMEOUT, else 30: Django's own default is to wait forever).
    """

    name = "email"

    def _message_id(self, key: str, from_email: str) -> str:
        # The same key gives the same Message-ID, so a resent copy is recognisably the same
        # message (mail stores such as Gmail drop the duplicate).
        domain = self.options.get("domain") or parseaddr(from_email)[1].rpartition("@")[2]
        return f"<{key_digest(key)}.notice@{domain or 'localhost'}>"

    def timeout(self) -> float:
        return float(self.options.get("timeout") or settings.EMAIL_TIMEOUT or 30)

    def longest_call(self) -> float:
        # Each of the SMTP conversation's eight exchanges (connect, EHLO, STARTTLS, AUTH, MAIL,
        # RCPT, DATA with the message, QUIT) may wait the whole timeout.
        return 8 * self.timeout()

    def send(self, message: Outbound) -> SendResult:
        from_email = self.options.get("from_email") or settings.DEFAULT_FROM_EMAIL
        message_id = self._message_id(message.key, from_email)
        timeout = self.timeout()
        connection = get_connection(
            self.options.get("backend"), fail_silently=False, timeout=timeout
        )
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=from_email,
            to=[message.to],
            headers={"Message-ID": message_id},
            connection=connection,
        )
        try:
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            text = f"收件地址被拒绝 / recipient refused: {exc.recipients}"
            code = str(codes[0]) if codes else ""
            if codes and all(400 <= code < 500 for code in codes):  # greylisting, full mailbox
                raise TransientError(text, code=code) from exc
            raise PermanentError(text, code=code) from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise TransientError(f"邮件服务器断开连接: {exc}", in_doubt=True) from exc
        except smtplib.SMTPResponseException as exc:
            text = f"邮件服务器拒绝 / SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            if 400 <= exc.smtp_code < 500:
                raise TransientError(text, code=str(exc.smtp_code)) from exc
            raise PermanentError(text, code=str(exc.smtp_code)) from exc
        except smtplib.SMTPException as exc:  # e.g. STARTTLS or AUTH unsupported: configuration
            raise PermanentError(f"邮件发送失败: {exc}") from exc
        except (ConnectionRefusedError, socket.gaierror) as exc:
            raise TransientError(f"无法连接邮件服务器: {exc}") from exc
        except OSError as exc:  # timeouts, resets: the server may have taken the message
            raise TransientError(f"邮件服务器无响应: {exc}", in_doubt=True) from exc
        return SendResult(provider=self.name, provider_message_id=message_id)
