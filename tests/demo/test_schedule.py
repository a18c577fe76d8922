"""The demo's scheduler: what is due when, decided by a plain function of the clock (no thread, no sleep)."""

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from arrears.demo import schedule
from arrears.demo.schedule import Due, Scheduler, due, last_daily_slot

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("now", "slot"), [
    (at(23, 6, 0), at(23, 6, 0)),  # exactly 06:00 is today's slot
    (at(23, 5, 59, 59), at(22, 6, 0)),  # before it, yesterday's
    (at(23, 23, 30), at(23, 6, 0)),
    (datetime(2026, 11, 22, 22, 30, tzinfo=ZoneInfo("UTC")), at(23, 6, 0)),  # 06:30 in Shanghai, whatever the server's zone
])
def test_the_daily_slot_is_the_latest_six_oclock_local_time(now, slot):
    assert last_daily_slot(now) == slot


def test_at_start_both_are_due_and_the_run_is_for_today():
    assert due(at(23, 14, 7), last_sent=None, last_run=None) == Due(send=True, run_on=date(2026, 11, 23))


def test_the_sender_is_due_a_minute_after_it_last_ran():
    started = at(23, 14, 7)
    assert due(started + timedelta(seconds=59), last_sent=started, last_run=started) == Due(send=False, run_on=None)
    assert due(started + timedelta(seconds=60), last_sent=started, last_run=started) == Due(send=True, run_on=None)


def test_the_daily_run_is_due_once_at_six_the_next_morning():
    started = at(23, 14, 7)  # the demo came up in the afternoon and ran the day then
    assert due(at(24, 0, 30), last_sent=at(24, 0, 30), last_run=started).run_on is None  # past midnight: not yet
    assert due(at(24, 5, 59), last_sent=at(24, 5, 59), last_run=started).run_on is None
    assert due(at(24, 6, 0), last_sent=at(24, 5, 59), last_run=started).run_on == date(2026, 11, 24)
    assert due(at(24, 6, 0, 5), last_sent=at(24, 6, 0), last_run=at(24, 6, 0)).run_on is None  # once


def test_a_demo_started_before_six_runs_again_at_six():
    # the start's run was for today already; the 06:00 one is for the same date and changes nothing (idempotent)
    assert due(at(23, 6, 1), last_sent=at(23, 6, 0, 30), last_run=at(23, 5, 0)).run_on == date(2026, 11, 23)


def test_a_tick_runs_what_is_due_and_sends_after_a_run():
    done = []
    scheduler = Scheduler(send=lambda: done.append("send") or Counter(sent=3), run=lambda day: done.append(day))
    scheduler.tick(at(23, 14, 7))  # start: run, then send what it queued
    scheduler.tick(at(23, 14, 7, 30))  # nothing due
    scheduler.tick(at(23, 14, 8, 7))  # a minute on: send
    scheduler.tick(at(24, 6, 0))  # the next morning: run and send
    assert done == [date(2026, 11, 23), "send", "send", date(2026, 11, 24), "send"]
    assert scheduler.sent == Counter(sent=9)


def test_a_failing_job_is_logged_and_the_scheduler_goes_on(caplog):
    def broken(day):
        raise RuntimeError("database is locked")

    sends = []
    scheduler = Scheduler(send=lambda: sends.append(1), run=broken)
    scheduler.tick(at(23, 14, 7))
    assert sends == [1] and "daily_run" not in caplog.text and "broken failed" in caplog.text
    assert scheduler.tick(at(23, 14, 7, 30)) == Due(send=False, run_on=None)  # tried again at the next slot


def test_send_all_drains_a_backlog_batch_after_batch(monkeypatch):
    # a backlog of 1,172 waits for no one: 500 + 500 + 172 in one tick
    left = [1172]

    def dispatch(limit):
        n = min(limit, left[0])
        left[0] -= n
        return Counter(sent=n) if n else Counter()

    monkeypatch.setattr("arrears.notices.outbox.dispatch", dispatch)
    assert schedule.send_all() == Counter(sent=1172) and left == [0]


def test_send_all_stops_after_its_rounds_when_messages_keep_coming(monkeypatch):
    calls = []
    monkeypatch.setattr("arrears.notices.outbox.dispatch", lambda limit: calls.append(limit) or Counter(retry=limit))
    schedule.send_all()
    assert len(calls) == schedule.SEND_ROUNDS
