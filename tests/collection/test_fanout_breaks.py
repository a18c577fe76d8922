"""Break tests of the daily run's fan-out: what an operator, a flaky database and a lawyer try."""

import pytest
import time_machine
from celery.exceptions import Retry
from django.db import OperationalError
from django.utils import timezone

from arrears.api import health
from arrears.collection import run, tasks
from arrears.collection.models import CollectionRun, CollectionRunPart, PartStatus
from tests.collection.fanout import DAY, build_portfolio, snapshot
from tests.collection.test_fanout import fail_in_part, one_pass

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(DAY, tick=False):
        yield


@pytest.fixture
def portfolio(settings):
    settings.ARREARS_RUN_CHUNK_UNITS = 4  # one community a part
    return build_portfolio()


def test_a_partial_run_does_not_hide_a_failed_part_of_the_days_run(portfolio, settings, monkeypatch):
    # Attack (careless operator): the day's run fails in part 2; someone reruns one other community by
    # hand; its start finishes the date's run, and /healthz turned green while part 2's communities
    # were never run.
    fail_in_part(monkeypatch, ValueError("a broken ladder"), index=2, times=99)
    with pytest.raises(ValueError):
        tasks.daily_run(DAY.isoformat())
    monkeypatch.undo()
    failed = CollectionRunPart.objects.get(index=2, status=PartStatus.FAILED)

    run.run_collection(as_of=DAY, community_ids=[portfolio[0]])

    check = health.daily_run(timezone.now())
    assert not check.ok
    assert "part 2 failed" in check.detail and "a broken ladder" in check.detail
    # and a rerun of the failed part's own communities does clear it
    run.run_collection(as_of=DAY, community_ids=failed.communities)
    assert health.daily_run(timezone.now()).ok


def test_after_a_partial_run_the_days_run_still_runs_the_failed_communities(portfolio, settings, monkeypatch):
    # Attack (careless operator): as above; then the cause is fixed and the day's run started again:
    # it must run the failed part's communities, not trust the partial run's marks for them.
    expected = one_pass(settings)
    fail_in_part(monkeypatch, ValueError("a broken ladder"), index=2, times=99)
    with pytest.raises(ValueError):
        tasks.daily_run(DAY.isoformat())
    monkeypatch.undo()
    run.run_collection(as_of=DAY, community_ids=[portfolio[0]])

    tasks.daily_run(DAY.isoformat())

    assert snapshot() == expected
    assert health.daily_run(timezone.now()).ok


def test_a_part_waiting_for_its_retry_is_not_reported_failed(portfolio, monkeypatch):
    # Attack (flaky database, the owner's lawyer): a deadlock on a worker schedules a retry through the
    # broker; Celery's Retry is an exception too, and the part was written "failed" with
    # "Retry: ..." while it was only waiting: /healthz said the run had failed when it had not.
    plan = run.start_run(as_of=DAY)
    part_id = plan.part_ids[1]
    fail_in_part(monkeypatch, OperationalError("deadlock detected"), index=1)
    monkeypatch.setattr(tasks.run_part, "retry", lambda exc=None, countdown=None, **kw: Retry(exc=exc, when=countdown))
    tasks.run_part.push_request(is_eager=False, retries=0, hostname="worker-a", id="t-1")
    try:
        with pytest.raises(Retry):
            tasks.run_part.run(part_id)
    finally:
        tasks.run_part.pop_request()

    part = CollectionRunPart.objects.get(pk=part_id)
    assert part.status != PartStatus.FAILED
    assert "deadlock" in part.error  # why it waits is still said
    assert "failed" not in health.daily_run(timezone.now()).detail


def test_a_part_that_gives_up_after_its_retries_is_reported_failed(portfolio, monkeypatch):
    # Held: the last retry's error fails the part, and /healthz names it.
    plan = run.start_run(as_of=DAY)
    part_id = plan.part_ids[1]
    fail_in_part(monkeypatch, OperationalError("deadlock detected"), index=1, times=99)
    tasks.run_part.push_request(is_eager=False, retries=tasks.PART_RETRIES, hostname="worker-a", id="t-1")
    try:
        with pytest.raises(OperationalError):
            tasks.run_part.run(part_id)
    finally:
        tasks.run_part.pop_request()

    assert CollectionRunPart.objects.get(pk=part_id).status == PartStatus.FAILED
    check = health.daily_run(timezone.now())
    assert not check.ok and "part 1 failed on worker-a" in check.detail


def test_a_second_start_of_the_day_does_not_hide_a_part_failing_forever(portfolio, monkeypatch):
    # Held: a part that fails on every start keeps /healthz red, whichever start failed last.
    fail_in_part(monkeypatch, ValueError("a broken ladder"), index=2, times=99)
    with pytest.raises(ValueError):
        tasks.daily_run(DAY.isoformat())
    with pytest.raises(ValueError):
        tasks.daily_run(DAY.isoformat())

    assert CollectionRun.objects.get().finished_at is None
    assert not health.daily_run(timezone.now()).ok


def test_a_community_deleted_while_the_run_is_in_flight_does_not_fail_its_part(portfolio, settings):
    # Held (careless operator): an empty community planned into a part and deleted before the part runs.
    from arrears.collection.models import CollectionPolicy, LadderStep
    from arrears.estate.models import Community
    from tests import factories

    empty = factories.community("空小区", company_obj=Community.objects.first().company)
    plan = run.start_run(as_of=DAY)
    assert any(empty.pk in (p.communities or []) for p in CollectionRunPart.objects.filter(pk__in=plan.part_ids))
    LadderStep.objects.filter(policy__community=empty).delete()
    CollectionPolicy.objects.filter(community=empty).delete()
    empty.delete()

    for part_id in plan.part_ids:
        run.run_part(part_id=part_id)
    assert run.finish_run(start_id=plan.start_id) is not None
    assert health.daily_run(timezone.now()).ok


def test_a_stale_part_of_an_earlier_day_does_not_run_after_a_later_day(portfolio, monkeypatch):
    # Attack (careless operator, a late redelivery): a part of Friday's run that failed is re-queued (from
    # the broker's retry, or by hand) after Saturday's run finished: it ran Friday's ladder over
    # Saturday's cases, which start_run refuses for a whole run ("cannot run for an earlier date").
    from datetime import timedelta

    from arrears.collection.models import Case, OutgoingMessage
    from arrears.core.errors import DomainError

    fail_in_part(monkeypatch, ValueError("a broken ladder"), index=2, times=1)
    with pytest.raises(ValueError):
        tasks.daily_run(DAY.isoformat())
    stale = CollectionRunPart.objects.get(index=2, status=PartStatus.FAILED)
    with time_machine.travel(DAY + timedelta(days=1), tick=False):
        run.run_collection(as_of=DAY + timedelta(days=1))
    written = (list(Case.objects.order_by("pk").values()), OutgoingMessage.objects.count())

    with pytest.raises(DomainError) as refused:
        run.run_part(part_id=stale.pk)

    assert refused.value.code == "run_backwards"
    assert "更早" in refused.value.zh and "earlier" in refused.value.en
    assert (list(Case.objects.order_by("pk").values()), OutgoingMessage.objects.count()) == written
    assert health.daily_run(timezone.now()).ok  # the later day's full run covers the stale start


def test_a_part_that_kills_its_worker_every_time_gives_up_and_says_so(portfolio):
    # Attack (a part failing forever): a part whose worker dies each time (out of memory) is redelivered
    # by the broker (acks_late, reject_on_worker_lost) without end, never "failed": it took a worker for
    # ever and /healthz said nothing until the run was a day late.
    from arrears.core.errors import DomainError

    plan = run.start_run(as_of=DAY)
    part_id = plan.part_ids[0]
    CollectionRunPart.objects.filter(pk=part_id).update(status=PartStatus.RUNNING, attempts=run.MAX_PART_ATTEMPTS)

    with pytest.raises(DomainError) as refused:
        tasks.run_part(part_id)

    assert refused.value.code == "part_abandoned"
    part = CollectionRunPart.objects.get(pk=part_id)
    assert part.status == PartStatus.FAILED and str(run.MAX_PART_ATTEMPTS) in part.error
    check = health.daily_run(timezone.now())
    assert not check.ok and "part 0 failed" in check.detail
