"""The daily run as a Celery chord, in process (no broker): parts, retries, failures, overlaps.

Each result is compared, field by field, with one pass of `run_collection` over the same data,
taken inside a transaction that is then rolled back.
"""

from datetime import date

import pytest
import time_machine
from django.db import OperationalError, connection, transaction

from arrears.api import health
from arrears.collection import run, tasks
from arrears.collection.models import (
    Case,
    CollectionRun,
    CollectionRunPart,
    CollectionRunStart,
    PartStatus,
)
from arrears.collection.signals import run_finished
from tests.collection.fanout import DAY, add_community, build_portfolio, snapshot
from tests.races import race


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(DAY, tick=False):
        yield


@pytest.fixture
def portfolio(settings):
    settings.ARREARS_RUN_CHUNK_UNITS = 4  # one community a part: five parts
    return build_portfolio()


@pytest.fixture
def finished():
    """Every `run_finished` sent, as (as_of, opened)."""
    sent = []

    def receive(sender, *, as_of, summary, **kwargs):
        sent.append((as_of, summary["opened"]))

    run_finished.connect(receive, dispatch_uid="test_fanout")
    yield sent
    run_finished.disconnect(dispatch_uid="test_fanout")


def one_pass(settings, as_of: date = DAY) -> dict:
    """What a single pass over everything writes, rolled back."""
    limit, settings.ARREARS_RUN_CHUNK_UNITS = settings.ARREARS_RUN_CHUNK_UNITS, 100000
    with transaction.atomic():
        run.run_collection(as_of=as_of)
        found = snapshot()
        transaction.set_rollback(True)
    settings.ARREARS_RUN_CHUNK_UNITS = limit
    return found


def fail_in_part(monkeypatch, error, *, index=None, times=1):
    """`refresh_arrears_summary` raises `error` after the part's writes, `times` times (in part `index`)."""
    real, left = run.refresh_arrears_summary, [times]

    def failing(*, community_ids, **kwargs):
        wanted = index is None or community_ids == CollectionRunPart.objects.get(
            start=CollectionRunStart.objects.first(), index=index).communities
        if wanted and left[0]:
            left[0] -= 1
            raise error
        return real(community_ids=community_ids, **kwargs)

    monkeypatch.setattr(run, "refresh_arrears_summary", failing)


@pytest.mark.django_db
def test_it_runs_the_day_in_parts_that_add_up_to_one_pass(portfolio, settings, finished):
    # given what one pass over everything writes
    expected = one_pass(settings)
    # when the daily run runs as a chord of one part per community
    summary = tasks.daily_run(DAY.isoformat())
    # then every case, step, task, message and summary row equals the one pass's
    assert snapshot() == expected and expected["Case"] and expected["Task"] and expected["OutgoingMessage"]
    parts = CollectionRunPart.objects.all()
    assert [(p.communities, p.status, p.attempts) for p in parts] == [([c], "done", 1) for c in portfolio]
    assert summary["opened"] == Case.objects.count() == len(expected["Case"])
    # and the run is finished once, and said so once
    assert CollectionRun.objects.get().finished_at is not None
    assert finished == [(DAY, summary["opened"])]


@pytest.mark.django_db
def test_a_part_that_fails_once_is_retried_and_writes_what_one_pass_writes(portfolio, settings, monkeypatch, finished):
    expected = one_pass(settings)
    # given the second part hits a deadlock after its writes, once
    fail_in_part(monkeypatch, OperationalError("deadlock detected"), index=1)
    # when the daily run runs
    tasks.daily_run(DAY.isoformat())
    # then the part ran twice, its first writes rolled back, and the result is the one pass's
    assert list(CollectionRunPart.objects.values_list("attempts", flat=True)) == [1, 2, 1, 1, 1]
    assert snapshot() == expected
    assert len(finished) == 1


@pytest.mark.django_db
def test_a_part_that_fails_for_good_leaves_the_run_unfinished_and_healthz_says_why(
        portfolio, settings, monkeypatch, finished):
    expected = one_pass(settings)
    # given the third part raises every time
    fail_in_part(monkeypatch, ValueError("a broken ladder"), index=2, times=99)
    # when the daily run runs
    with pytest.raises(ValueError, match="a broken ladder"):
        tasks.daily_run(DAY.isoformat())
    # then the part is recorded failed with its reason, the run is not finished and nothing was announced
    failed = CollectionRunPart.objects.get(index=2)
    assert (failed.status, failed.error, failed.attempts) == (PartStatus.FAILED, "ValueError: a broken ladder", 1)
    assert CollectionRun.objects.get().finished_at is None and finished == []
    check = health.daily_run(DAY_NOON())
    assert not check.ok and "part 2 failed" in check.detail and "a broken ladder" in check.detail
    with pytest.raises(run.RunIncomplete):  # the last step refuses, changing nothing
        run.finish_run(start_id=failed.start_id)
    # when the cause is fixed and the run started again
    monkeypatch.undo()
    tasks.daily_run(DAY.isoformat())
    # then the run finishes with what one pass writes, and healthz is green again
    assert snapshot() == expected and CollectionRun.objects.get().finished_at is not None
    assert health.daily_run(DAY_NOON()).ok and len(finished) == 1


def DAY_NOON():  # noqa: N802 - a moment of the run's day
    from django.utils import timezone

    return timezone.now()


@pytest.mark.django_db
def test_running_it_twice_for_the_same_date_changes_nothing(portfolio, settings, finished):
    first = tasks.daily_run(DAY.isoformat())
    written = snapshot()
    # when it runs again for the same date
    again = tasks.daily_run(DAY.isoformat())
    # then nothing changed and no community needed a part
    assert snapshot() == written
    assert (again["opened"], again["tasks"], again["messages"], again["open_cases"]) == (0, 0, 0, first["open_cases"])
    assert CollectionRunStart.objects.count() == 2 and CollectionRunPart.objects.count() == len(portfolio)
    assert [opened for _, opened in finished] == [first["opened"], 0]


@pytest.mark.django_db
def test_a_redelivered_part_or_last_step_does_nothing_twice(portfolio, settings, finished):
    plan = run.start_run(as_of=DAY)
    first = [run.run_part(part_id=part_id) for part_id in plan.part_ids]
    written = snapshot()
    # when every part is delivered again, then the last step twice
    assert [run.run_part(part_id=part_id) for part_id in plan.part_ids] == first
    assert tasks.finish_run(plan.start_id) is not None
    assert tasks.finish_run(plan.start_id) is None
    # then the parts ran once each, and run_finished went out once
    assert snapshot() == written and set(CollectionRunPart.objects.values_list("attempts", flat=True)) == {1}
    assert len(finished) == 1


@pytest.mark.django_db
def test_a_community_added_while_the_run_is_in_flight_is_run_by_the_next_start(portfolio, settings):
    # given a run started before a new community in arrears was added
    plan = run.start_run(as_of=DAY)
    added = add_community()
    for part_id in plan.part_ids:
        run.run_part(part_id=part_id)
    run.finish_run(start_id=plan.start_id)
    # then the run finished without it, and vouches for nothing about it
    assert not Case.objects.filter(community_id=added).exists()
    assert str(added) not in CollectionRun.objects.get().marks["communities"]
    # when the day's run starts again, only the new community is run
    tasks.daily_run(DAY.isoformat())
    assert [p.communities for p in CollectionRunStart.objects.first().parts.all()] == [[added]]
    assert Case.objects.filter(community_id=added).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_run_started_twice_at_once_writes_what_one_pass_writes(portfolio, settings):
    if connection.vendor != "postgresql":
        pytest.skip("two writers at once: PostgreSQL (SQLite has one writer)")
    expected = one_pass(settings)
    # when two runs for the same date start at the same moment (start, parts, last step: as the chord's)
    results = race(lambda: run.run_collection(as_of=DAY), lambda: run.run_collection(as_of=DAY))
    # then both finished, their parts waited for each other per community, and the data is one pass's
    assert [r for r in results if isinstance(r, Exception)] == []
    assert snapshot() == expected
    assert CollectionRunStart.objects.filter(finished_at__isnull=False).count() == 2
    assert sum(r.opened for r in results) == len(expected["Case"])
