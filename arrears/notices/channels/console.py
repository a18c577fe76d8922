"""Prints each message as one line: the default in development, like Django's console email."""

from __future__ import annotations

import sys
import threading

from .base import Backend, Outbound, SendResult

_lock = threading.Lock()  # one message per line even when threads share the stream


class ConsoleBackend(Backend):
    """Options: `stream` (a text file object; sys.stdout at the time of sending by default)."""

    name = "console"

    def send(self, message: Outbound) -> SendResult:
        stream = self.options.get("stream") or sys.stdout
        subject = f"{message.subject} | " if message.subject else ""
        # Newlines escaped so that a multi-line body stays one line in a log.
        text = (subject + message.body).replace("\\", "\\\\").replace("\n", "\\n")
        line = f"[{message.channel}] to={message.to} key={message.key} {text}\n"
        with _lock:
            stream.write(line)
            stream.flush()
        return SendResult(provider=self.name, provider_message_id=f"console-{message.key}")
