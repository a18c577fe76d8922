"""The demo's own scheduler: what Celery beat does in production, in a thread beside the server.

The sender runs every minute (the outbox into files) and the daily collection run once a day at
06:00 local time, and once when the demo starts. What is due is decided by `due`, a plain
function of the clock and the last runs, so it is tested without threads or sleeps.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import close_old_connections, connection
from django.utils import timezone

log = logging.getLogger(__name__)

SEND_EVERY = timedelta(minutes=1)  # as CELERY_BEAT_SCHEDULE sends the outbox
DAILY_AT = time(6, 0)  # as CELERY_BEAT_SCHEDULE's daily-collection-run, local time
SEND_BATCH = 500
SEND_ROUNDS = 20  # at most this many batches a tick: a backlog drains, a stuck message cannot spin


@dataclass(frozen=True)
class Due:
    send: bool
    run_on: date | None  # the date of the daily run to do now, or None


def last_daily_slot(now: datetime) -> datetime:
    """The latest 06:00 (local) at or before `now`."""
    local = timezone.localtime(now)
    slot = timezone.make_aware(datetime.combine(local.date(), DAILY_AT), local.tzinfo)
    return slot if slot <= local else slot - timedelta(days=1)


def due(now: datetime, *, last_sent: datetime | None, last_run: datetime | None) -> Due:
    """What is due at `now`: the sender a minute after it last ran; the daily run at start and at each 06:00."""
    send = last_sent is None or now - last_sent >= SEND_EVERY
    run = last_run is None or last_run < last_daily_slot(now)
    return Due(send=send, run_on=timezone.localtime(now).date() if run else None)


def send_all() -> Counter:
    """Send everything due, batch after batch, so no backlog waits for the next minute."""
    from arrears.notices.outbox import dispatch

    outcomes = Counter()
    for _ in range(SEND_ROUNDS):
        batch = dispatch(limit=SEND_BATCH)
        outcomes.update(batch)
        if sum(batch.values()) < SEND_BATCH:
            break
    return outcomes


def daily_run(day: date):
    """The daily run for `day` (idempotent) as the worker does it: then what follows a run, in process
    (the dashboard's snapshots, the risk scores); its messages go out with the next send."""
    from arrears.collection.tasks import daily_run as task

    return task(day.isoformat())


class Scheduler:
    """Ticks every `interval` seconds in a daemon thread until `stop`; `tick` does one round's due work."""

    def __init__(self, *, send: Callable[[], object] = send_all, run: Callable[[date], object] = daily_run,
                 clock: Callable[[], datetime] = timezone.now, interval: float = 5.0):
        self.send, self.run, self.clock, self.interval = send, run, clock, interval
        self.last_sent: datetime | None = None
        self.last_run: datetime | None = None
        self.sent: Counter = Counter()  # what the sends ended in, since start
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, now: datetime | None = None) -> Due:
        """Do what is due at `now`; a failure is logged and tried again at the next slot, never raised."""
        now = now or self.clock()
        work = due(now, last_sent=self.last_sent, last_run=self.last_run)
        if work.run_on is not None:
            self.last_run = now
            self._guarded(self.run, work.run_on)
        if work.send or work.run_on is not None:  # a run queues messages: send them now
            self.last_sent = now
            self.sent.update(self._guarded(self.send) or {})
        return work

    def _guarded(self, job: Callable, *args):
        try:
            return job(*args)
        except Exception:  # the demo keeps serving; the terminal shows what failed
            log.exception("demo scheduler: %s failed", getattr(job, "__name__", job))
            return None

    def _loop(self) -> None:
        try:
            while True:
                close_old_connections()
                self.tick()
                if self._stop.wait(self.interval):
                    return
        finally:
            connection.close()  # this thread's own connection

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="demo-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
