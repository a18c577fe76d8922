"""The outbox: one send per message whatever fails or dies, through the guard, with frozen text."""

import hashlib
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection

from arrears.collection.models import CaseStatus, MessageStatus, OutgoingMessage
from arrears.core.errors import DomainError
from arrears.notices import outbox
from arrears.notices.channels import Receipt
from arrears.notices.models import EventKind, MessageEvent

from .conftest import at, queue_messages
from .recording import WorkerKilled

TUESDAY = "2026-05-12"


def _reload(message):
    message.refresh_from_db()
    return message


def _events(message):
    return list(MessageEvent.objects.filter(message=message).values_list("kind", flat=True))


def test_a_message_is_sent_once_with_its_text_frozen(provider, message):
    assert outbox.dispatch(now=at(TUESDAY)) == {"sent": 1}
    message = _reload(message)
    assert message.status == MessageStatus.SENT
    assert message.recipient == "13912348888"  # the owner's own mobile, never the spouse's
    assert message.body.startswith("【示范物业】尊敬的王小明业主：您在阳光花园3栋1单元1201的物业费")
    assert message.body_sha256 == hashlib.sha256(message.body.encode()).hexdigest()
    assert (message.provider, message.provider_message_id, message.attempts) == ("recording", "biz-1", 1)
    sent = provider.accepted[message.key]
    assert sent.body == message.body and sent.to == "13912348888" and sent.key == message.key
    assert list(sent.params) == ["owner_name", "community", "room", "amount", "oldest_due", "payment_link", "company_phone"]
    assert outbox.dispatch(now=at(TUESDAY, "10:05")) == {}
    assert provider.calls == 1
    assert _events(message) == [EventKind.RENDERED, EventKind.SENT]


def test_the_guard_decides_again_at_send_time(provider, message):
    assert outbox.dispatch(now=at(TUESDAY, "21:30")) == {"rescheduled": 1}  # SMS 09:00–20:00 only
    message = _reload(message)
    assert (message.status, message.not_before) == (MessageStatus.QUEUED, at("2026-05-13", "09:00"))
    assert outbox.dispatch(now=at("2026-05-13", "08:59")) == {}
    assert outbox.dispatch(now=at("2026-05-13", "09:00")) == {"sent": 1}
    assert provider.calls == 1


def test_an_owner_who_asked_not_to_be_contacted_is_blocked_for_good(provider, message, estate):
    estate["owner"].do_not_contact = True
    estate["owner"].save()
    assert outbox.dispatch(now=at(TUESDAY)) == {"blocked": 1}
    message = _reload(message)
    assert message.status == MessageStatus.BLOCKED and message.blocked_rule == "do_not_contact"
    assert provider.calls == 0


def test_a_message_of_a_case_closed_meanwhile_is_cancelled(provider, message, case):
    case.status, case.closed_on, case.close_reason = CaseStatus.CLOSED, date(2026, 5, 11), "paid"
    case.save()
    assert outbox.dispatch(now=at(TUESDAY)) == {"cancelled": 1}
    assert provider.calls == 0


def test_provider_errors_are_retried_with_exponential_backoff_then_fail(provider, message):
    provider.reset("transient", "transient", "transient", "transient")
    start = at(TUESDAY)
    assert outbox.dispatch(now=start) == {"retry": 1}
    assert _reload(message).next_try_at == start + timedelta(minutes=1)
    assert outbox.dispatch(now=start + timedelta(seconds=59)) == {}
    assert outbox.dispatch(now=start + timedelta(minutes=1)) == {"retry": 1}
    assert _reload(message).next_try_at == start + timedelta(minutes=3)  # then 2 minutes
    assert outbox.dispatch(now=start + timedelta(minutes=3)) == {"retry": 1}
    assert _reload(message).next_try_at == start + timedelta(minutes=7)  # then 4
    body = message.body
    assert outbox.dispatch(now=start + timedelta(minutes=7)) == {"failed": 1}  # the 4th try was the last
    message = _reload(message)
    assert (message.status, message.attempts, provider.calls) == (MessageStatus.FAILED, 4, 4)
    assert message.body == body and "Throttling" in message.last_error


def test_a_permanent_error_fails_at_once(provider, message):
    provider.reset("permanent")
    assert outbox.dispatch(now=at(TUESDAY)) == {"failed": 1}
    assert "MOBILE_NUMBER_ILLEGAL" in _reload(message).last_error


def test_a_worker_killed_after_the_provider_accepted_does_not_send_twice(provider, message):
    provider.reset("die_after")
    with pytest.raises(WorkerKilled):
        outbox.dispatch(now=at(TUESDAY))
    message = _reload(message)
    assert message.status == MessageStatus.SENDING and message.handed_at is not None
    assert outbox.dispatch(now=at(TUESDAY, "10:04")) == {}  # the lease still holds
    assert outbox.dispatch(now=at(TUESDAY, "10:06")) == {"recovered": 1}
    message = _reload(message)
    assert (message.status, message.provider_message_id) == (MessageStatus.SENT, f"found-{message.key}")
    assert (provider.calls, provider.lookups) == (1, 1)


def test_a_worker_killed_before_the_hand_over_sends_once_after_the_lease(provider, message):
    provider.reset("die_before")
    with pytest.raises(WorkerKilled):
        outbox.dispatch(now=at(TUESDAY))
    # The hand-over was committed but nothing reached the provider: the lookup says so, and it is sent.
    assert outbox.dispatch(now=at(TUESDAY, "10:06")) == {"sent": 1}
    assert (provider.calls, provider.lookups, len(provider.accepted)) == (2, 1, 1)
    assert EventKind.RECOVERED in _events(message)


def test_a_timeout_that_reached_the_provider_is_not_resent(provider, message):
    provider.reset("timeout")
    assert outbox.dispatch(now=at(TUESDAY)) == {"retry": 1}
    assert outbox.dispatch(now=at(TUESDAY, "10:01")) == {"recovered": 1}
    assert (provider.calls, _reload(message).status) == (1, MessageStatus.SENT)


def test_when_the_provider_cannot_be_asked_a_person_decides(provider, message, settings, insider):
    settings.NOTICES_CHANNELS = {"sms": {"BACKEND": "tests.notices.recording.BlindBackend"}}
    provider.reset("die_after")
    with pytest.raises(WorkerKilled):
        outbox.dispatch(now=at(TUESDAY))
    assert outbox.dispatch(now=at(TUESDAY, "10:06")) == {"unknown": 1}
    message = _reload(message)
    assert message.status == MessageStatus.FAILED and "结果不明" in message.last_error
    assert provider.calls == 1  # at most once when the facts cannot be known
    copy = outbox.resend(message, staff=insider, now=at(TUESDAY, "11:00"))
    assert copy.key == f"{message.key}:resend:1" and copy.status == MessageStatus.QUEUED
    assert _reload(message).status == MessageStatus.FAILED  # the old row stays as the record


def test_two_workers_cannot_both_claim_a_message(provider, message):
    assert outbox.send_message(message.pk, now=at(TUESDAY)) == "sent"
    assert outbox.send_message(message.pk, now=at(TUESDAY)) == "skipped"
    assert provider.calls == 1


def test_a_slow_worker_cannot_overwrite_a_newer_claim(provider, message):
    OutgoingMessage.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING, claimed_at=at(TUESDAY),
                                                         claim_token="theirs")
    assert not outbox._finish(message, "mine", at(TUESDAY), EventKind.SENT, status=MessageStatus.SENT)
    assert _reload(message).status == MessageStatus.SENDING


def test_receipts_mark_delivery_once(provider, message):
    outbox.dispatch(now=at(TUESDAY))
    delivered = Receipt(provider="recording", provider_message_id="biz-1", delivered=True, at=at(TUESDAY, "10:00:05"),
                        code="DELIVRD")
    assert outbox.apply_receipts([delivered]) == (1, 0)
    assert outbox.apply_receipts([delivered]) == (0, 0)
    late_failure = Receipt(provider="recording", provider_message_id="biz-1", delivered=False, at=None, code="UNDELIV")
    assert outbox.apply_receipts([late_failure]) == (0, 0)  # a delivery is not undone
    message = _reload(message)
    assert (message.status, message.delivered_at, message.receipt_code) == (
        MessageStatus.DELIVERED, at(TUESDAY, "10:00:05"), "DELIVRD")
    unknown = Receipt(provider="recording", provider_message_id="nope", delivered=True, at=None)
    assert outbox.apply_receipts([unknown]) == (0, 1)


def test_an_undelivered_message_can_be_resent_only_once_it_failed(provider, message, insider):
    with pytest.raises(DomainError):
        outbox.resend(message, staff=insider)
    outbox.dispatch(now=at(TUESDAY))
    outbox.apply_receipts([Receipt(provider="recording", provider_message_id="biz-1", delivered=False, at=None,
                                   code="MK:0001")])
    copy = outbox.resend(_reload(message), staff=insider, now=at(TUESDAY, "12:00"))
    assert outbox.dispatch(now=at(TUESDAY, "12:00")) == {"sent": 1}
    assert _reload(copy).status == MessageStatus.SENT


def test_an_owner_without_a_mobile_fails_with_the_reason(provider, message, estate):
    estate["owner"].contacts.filter(relation="self").delete()
    assert outbox.dispatch(now=at(TUESDAY)) == {"failed": 1}
    assert "没有可用的短信联系方式" in _reload(message).last_error


def test_it_stamps_each_message_with_the_moment_of_its_own_claim(slow, estate):
    # given: three messages due, and a provider that takes two minutes per call
    first, second, third = queue_messages(estate["community"], 3)
    with time_machine.travel(at(TUESDAY), tick=False) as clock:
        slow.during_call = lambda message: clock.shift(timedelta(minutes=2))
        # when: one batch sends them all
        assert outbox.dispatch() == {"sent": 3}
    # then: each lease ran from its own claim, not from the batch's start
    assert [_reload(m).claimed_at for m in (first, second, third)] == [
        at(TUESDAY, "10:00"), at(TUESDAY, "10:02"), at(TUESDAY, "10:04")]
    assert _reload(third).sent_at == at(TUESDAY, "10:06")


@pytest.mark.skipif(connection.vendor == "postgresql",
                    reason="one session holds PostgreSQL's fence twice; test_outbox_races proves it with two")
def test_it_skips_a_message_another_sender_is_handing_over_even_after_its_lease(slow, estate):
    # given: two messages; while the first is with the provider, six minutes pass (the lease is
    # five) and a second sender runs
    first, second = queue_messages(estate["community"], 2)
    started, nested = [], []
    with time_machine.travel(at(TUESDAY), tick=False) as clock:
        def second_sender(message):
            if message.key == first.key and not started:
                started.append(message.key)
                clock.shift(timedelta(minutes=6))
                nested.append(outbox.dispatch())

        slow.during_call = second_sender
        # when
        outcome = outbox.dispatch()
    # then: the second sender left the first message alone and sent the other; each went once
    assert nested == [{"skipped": 1, "sent": 1}]
    assert outcome == {"sent": 1, "skipped": 1}
    assert slow.accepted == {first.key: 1, second.key: 1}
    assert (_reload(first).status, _reload(second).status) == (MessageStatus.SENT, MessageStatus.SENT)


def test_it_refuses_to_start_with_a_lease_shorter_than_a_provider_call(settings):
    # given: SMS through Aliyun with 5 s + 10 s timeouts, email with Django's 30 s per exchange
    settings.NOTICES_CHANNELS = {
        "sms": {"BACKEND": "arrears.notices.channels.aliyun.AliyunSmsBackend", "access_key_id": "id",
                "access_key_secret": "secret"},
        "email": {"BACKEND": "arrears.notices.channels.email.EmailBackend", "timeout": 30},
    }
    # when the lease is shorter than the slowest call, then the check names the channel
    settings.NOTICES_LEASE_SECONDS = 200
    assert [(error.id, "email" in error.msg) for error in outbox.check_lease()] == [("notices.E001", True)]
    settings.NOTICES_LEASE_SECONDS = 10
    assert len(outbox.check_lease()) == 2
    settings.NOTICES_LEASE_SECONDS = 300  # the default
    assert outbox.check_lease() == []


@pytest.mark.parametrize("delivered", [False, True], ids=["undelivered", "delivered"])
def test_it_keeps_a_delivery_report_that_arrives_before_the_sender_records_the_hand_over(slow, estate, delivered):
    # given: a provider that pushes its report (matched by our out-id, as Aliyun's) while its
    # send call has not yet returned to the sender
    (message,) = queue_messages(estate["community"], 1)

    def report_first(outbound):
        assert outbox.apply_receipts([Receipt(provider="slow", provider_message_id="", delivered=delivered,
                                              at=at(TUESDAY, "10:00"), code="" if delivered else "MK:0001",
                                              key=outbound.key)]) == (1, 0)

    slow.during_call = report_first
    # when
    with time_machine.travel(at(TUESDAY), tick=False):
        assert outbox.dispatch() == {"sent": 1}
    # then: the report stands (an undelivered message stays in the attention list, to be resent);
    # the hand-over is still recorded
    message = _reload(message)
    assert message.status == (MessageStatus.DELIVERED if delivered else MessageStatus.UNDELIVERED)
    assert (message.provider, message.provider_message_id, message.sent_at, message.claim_token) == (
        "slow", f"slow-{message.key}", at(TUESDAY), "")
    assert slow.accepted == {message.key: 1}


def test_it_takes_the_delivery_report_of_a_hand_over_in_doubt_instead_of_dropping_it(provider, message):
    # given: the call timed out after the provider took the message; the row waits to ask it again
    provider.reset("timeout")
    assert outbox.dispatch(now=at(TUESDAY)) == {"retry": 1}
    # when: the provider's report, matched by our out-id, arrives before the retry
    report = Receipt(provider="recording", provider_message_id="", delivered=True, at=at(TUESDAY, "10:00:05"),
                     code="DELIVRD", key=message.key)
    assert outbox.apply_receipts([report]) == (1, 0)
    # then: it is delivered, and nothing is asked or sent again
    assert outbox.dispatch(now=at(TUESDAY, "10:01")) == {}
    assert (_reload(message).status, provider.calls, provider.lookups) == (MessageStatus.DELIVERED, 1, 0)


def test_a_report_during_the_recovery_lookup_stands(provider, message, monkeypatch):
    # given: a hand-over in doubt, being recovered; the provider's report arrives while we ask it
    from tests.notices.recording import RecordingBackend

    provider.reset("timeout")
    assert outbox.dispatch(now=at(TUESDAY)) == {"retry": 1}
    asked = RecordingBackend.lookup

    def lookup(self, outbound, sent_after):
        outbox.apply_receipts([Receipt(provider="recording", provider_message_id="", delivered=True,
                                       at=at(TUESDAY, "10:00:30"), code="DELIVRD", key=outbound.key)])
        return asked(self, outbound, sent_after)

    monkeypatch.setattr(RecordingBackend, "lookup", lookup)
    # when
    assert outbox.dispatch(now=at(TUESDAY, "10:01")) == {"recovered": 1}
    # then: the report's status stands, the provider's record is kept, the claim is given up
    message = _reload(message)
    assert (message.status, message.provider_message_id, message.claim_token) == (
        MessageStatus.DELIVERED, f"found-{message.key}", "")
    assert provider.calls == 1
