"""A channel backend for outbox tests: records what it was handed, fails or dies on request.

The SDK backends have their own tests against local fake providers; these tests are about the
outbox's state machine, so the backend here only has to behave like a provider would.
"""

from arrears.notices.channels import (
    Backend,
    LookupUnsupported,
    PermanentError,
    SendResult,
    TransientError,
)


class WorkerKilled(BaseException):
    """The process died: nothing after this line of the worker runs (not an Exception: nothing catches it)."""


class Provider:
    """The provider's side: what it accepted, by out-id."""

    accepted: dict = {}
    script: list = []  # per call: None (accept), "transient", "timeout", "permanent", "die_after", "die_before"
    calls: int = 0
    lookups: int = 0

    @classmethod
    def reset(cls, *script):
        cls.accepted, cls.script, cls.calls, cls.lookups = {}, list(script), 0, 0


class RecordingBackend(Backend):
    name = "recording"

    def send(self, message):
        Provider.calls += 1
        action = Provider.script.pop(0) if Provider.script else None
        if action == "die_before":
            raise WorkerKilled
        if action == "transient":
            raise TransientError("busy", code="Throttling")
        if action == "timeout":
            Provider.accepted[message.key] = message
            raise TransientError("read timed out", code="timeout", in_doubt=True)
        if action == "permanent":
            raise PermanentError("bad number", code="isv.MOBILE_NUMBER_ILLEGAL")
        Provider.accepted[message.key] = message
        if action == "die_after":
            raise WorkerKilled
        return SendResult(provider=self.name, provider_message_id=f"biz-{len(Provider.accepted)}")

    def lookup(self, message, sent_after):
        Provider.lookups += 1
        if message.key in Provider.accepted:
            return SendResult(provider=self.name, provider_message_id=f"found-{message.key}")
        return None


class BlindBackend(RecordingBackend):
    """A provider that cannot be asked what it received (like the console or plain email)."""

    name = "blind"

    def lookup(self, message, sent_after):
        raise LookupUnsupported(self.name)
