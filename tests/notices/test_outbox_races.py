"""Two senders at the outbox at once, on PostgreSQL: threads with their own connections, a
provider whose calls block on an Event, and a clock moved past the lease while a call blocks.
Nothing is handed over twice, and nothing is lost."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from arrears.collection.models import MessageStatus, OutgoingMessage
from arrears.notices import outbox

from .conftest import at, queue_messages
from .fake_providers import SenderDied

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the fence between processes is PostgreSQL's"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
TUESDAY = "2026-05-12"


class Sender(threading.Thread):
    """One sender (a worker, or a staff member's button) in its own thread and connection."""

    def __init__(self, job=outbox.dispatch, start=None):
        super().__init__(daemon=True)
        self.job, self.barrier, self.result = job, start, None

    def run(self):
        try:
            if self.barrier is not None:
                self.barrier.wait()
            self.result = self.job()
        except BaseException as error:  # noqa: BLE001 - a dying sender is part of the result
            self.result = error
        finally:
            connection.close()

    def finish(self):
        self.join(30)
        assert not self.is_alive(), "the sender is stuck"
        return self.result


def _started(**kwargs) -> Sender:
    sender = Sender(**kwargs)
    sender.start()
    return sender


def _statuses(messages) -> list[str]:
    return list(OutgoingMessage.objects.filter(pk__in=[m.pk for m in messages]).values_list("status", flat=True))


def test_it_never_hands_a_message_over_twice_when_a_call_outlasts_the_lease(slow, estate):
    # given: three messages; the provider sits on the first one's call
    first, second, third = queue_messages(estate["community"], 3)
    slow.hold(first.key)
    with time_machine.travel(at(TUESDAY), tick=False) as clock:
        a = _started()
        assert slow.called(first.key)
        # when: the call outlasts the 5-minute lease, and a second sender comes by
        clock.shift(timedelta(minutes=6))
        b = _started()
        # then: it leaves the message in flight alone and sends the other two
        assert b.finish() == {"skipped": 1, "sent": 2}
        slow.release(first.key)
        assert a.finish() == {"sent": 1, "skipped": 2}
    assert slow.accepted == {first.key: 1, second.key: 1, third.key: 1}
    assert _statuses([first, second, third]) == [MessageStatus.SENT] * 3


def test_it_claims_each_message_of_a_long_batch_at_its_own_time(slow, estate):
    # given: a batch whose first call takes six minutes, longer than the lease
    first, second, third = queue_messages(estate["community"], 3)
    slow.hold(first.key)
    slow.hold(second.key)
    with time_machine.travel(at(TUESDAY), tick=False) as clock:
        a = _started()
        assert slow.called(first.key)
        clock.shift(timedelta(minutes=6))
        slow.release(first.key)
        assert slow.called(second.key)  # claimed at 10:06, when the batch is six minutes old
        # when: two minutes into the second call, a second sender comes by
        clock.shift(timedelta(minutes=2))
        b = _started()
        # then: the second message's lease, counted from its own claim, still holds: not even a
        # skip, the second sender does not see it as due; it sends the third
        assert b.finish() == {"sent": 1}
        slow.release(second.key)
        assert a.finish() == {"sent": 2, "skipped": 1}
    second.refresh_from_db()
    assert second.claimed_at == at(TUESDAY, "10:06")
    assert slow.accepted == {first.key: 1, second.key: 1, third.key: 1}


@pytest.mark.parametrize(("accepted", "outcome"), [(True, "recovered"), (False, "sent")])
def test_it_sends_the_message_of_a_sender_that_died_mid_call_once(slow, estate, accepted, outcome):
    # given: a sender talking to the provider past the lease
    message, = queue_messages(estate["community"], 1)
    slow.hold(message.key)
    with time_machine.travel(at(TUESDAY), tick=False) as clock:
        a = _started()
        assert slow.called(message.key)
        clock.shift(timedelta(minutes=6))
        assert _started().finish() == {"skipped": 1}  # alive: left alone, lease or not
        # when: it dies mid-call, after the provider took the message or before
        slow.release(message.key, accept=accepted, die=True)
        assert isinstance(a.finish(), SenderDied)
        assert _statuses([message]) == [MessageStatus.SENDING]
        # then: the next sender asks the provider, and sends only what it does not have
        assert _started().finish() == {outcome: 1}
    assert slow.accepted == {message.key: 1}
    assert _statuses([message]) == [MessageStatus.SENT]


def test_it_sends_each_message_once_when_two_senders_start_together(slow, estate):
    # given
    messages = queue_messages(estate["community"], 8)
    start = threading.Barrier(2)
    with time_machine.travel(at(TUESDAY), tick=False):
        # when
        senders = [_started(start=start), _started(start=start)]
        results = [sender.finish() for sender in senders]
    # then: every message went out once, by one sender or the other
    assert sum(result["sent"] for result in results) == 8, results
    assert slow.accepted == {message.key: 1 for message in messages}
    assert _statuses(messages) == [MessageStatus.SENT] * 8


def test_it_queues_a_failed_message_once_when_two_staff_press_resend_at_once(estate, insider):
    # given: a failed reminder
    message = queue_messages(estate["community"], 1)[0]
    OutgoingMessage.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED, last_error="bad number")
    message.refresh_from_db()
    barrier = threading.Barrier(2)

    def press():
        return outbox.resend(OutgoingMessage.objects.get(pk=message.pk), staff=insider)

    # when: two presses at once
    senders = [_started(job=press, start=barrier) for _ in range(2)]
    results = [sender.finish() for sender in senders]
    # then: one copy; the other press is refused with its reason (not a crash on the unique key)
    assert OutgoingMessage.objects.filter(key__startswith=f"{message.key}:resend:").count() == 1
    refused = [result for result in results if not isinstance(result, OutgoingMessage)]
    assert len(refused) == 1 and getattr(refused[0], "code", None) == "resend_pending", refused
