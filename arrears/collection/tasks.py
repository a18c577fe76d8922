"""Celery tasks: thin wrappers that take plain values and call one service.

The daily run is a chord: `start_run` once (in `daily_run`), a group of `run_part` tasks that any
worker on any machine takes, then `finish_run` once all parts succeeded. A part that fails for good
leaves the start unfinished: the chord's last step never runs, `/healthz` names the failed part.
"""

from datetime import date

from celery import chord, shared_task
from celery.exceptions import Retry
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

# A part is retried on what passes: a deadlock, a serialization failure, a lost connection.
TRANSIENT = (OperationalError, InterfaceError)
PART_RETRIES = 5


@shared_task(name="arrears.collection.tasks.daily_run")
def daily_run(as_of: str | None = None) -> dict:
    """The daily run for `as_of` (ISO date; today in Asia/Shanghai when omitted), fanned out. Idempotent.

    Without a broker the canvas runs here and the run's summary is returned; with one, the parts
    are queued and the start's id is returned.
    """
    from arrears.collection.run import start_run

    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    plan = start_run(as_of=day)
    last = finish_run.si(plan.start_id)
    if plan.part_ids:
        result = chord([run_part.si(part_id) for part_id in plan.part_ids])(last)
    else:
        result = last.apply_async()
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return result.get()
    return {"as_of": day.isoformat(), "start": plan.start_id, "parts": len(plan.part_ids), "result": result.id}


@shared_task(bind=True, name="arrears.collection.tasks.run_part", acks_late=True, reject_on_worker_lost=True,
             max_retries=PART_RETRIES)
def run_part(self, part_id: int) -> dict:
    """One slice of communities; acknowledged after it ran, so a worker lost mid-part hands it on."""
    from arrears.collection import run

    try:
        return _retrying(self, lambda: run.run_part(part_id=part_id, worker=self.request.hostname or ""))
    except Retry as retry:  # queued again through the broker: waiting, not failed
        run.wait_part(part_id=part_id, error=retry.exc or retry)
        raise
    except Exception as error:
        run.fail_part(part_id=part_id, error=error)
        raise


@shared_task(bind=True, name="arrears.collection.tasks.finish_run", acks_late=True, reject_on_worker_lost=True,
             max_retries=PART_RETRIES)
def finish_run(self, start_id: int) -> dict | None:
    """After every part: the run recorded as finished, then `run_finished` once (not on a redelivery)."""
    from arrears.collection.run import finish_run as finish
    from arrears.collection.run import run_collection
    from arrears.collection.signals import run_finished

    summary = _retrying(self, lambda: finish(start_id=start_id))
    if summary is None:
        return None
    data = summary.as_dict()
    run_finished.send(sender=run_collection, as_of=summary.as_of, summary=data)  # notices, insights: queue their work
    return data


def _retrying(task, call):
    """`call()`, retried on a transient database error: later through the broker, at once in process.

    (Celery's eager retry re-raises when eager tasks propagate their errors, as they do here.)
    """
    attempt = task.request.retries
    while True:
        try:
            return call()
        except TRANSIENT as error:
            if attempt >= task.max_retries:
                raise
            if not task.request.is_eager:
                raise task.retry(exc=error, countdown=get_exponential_backoff_interval(
                    factor=5, retries=attempt, maximum=600, full_jitter=True)) from error
            attempt += 1
