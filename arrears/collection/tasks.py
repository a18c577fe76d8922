"""Celery tasks: thin wrappers that take plain values and call one service."""

from datetime import date

from celery import shared_task
from django.utils import timezone


@shared_task(name="arrears.collection.tasks.daily_run")
def daily_run(as_of: str | None = None) -> dict:
    """The daily run for `as_of` (ISO date; today in Asia/Shanghai when omitted). Idempotent."""
    from arrears.collection.run import run_collection
    from arrears.collection.signals import run_finished

    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    summary = run_collection(as_of=day).as_dict()
    run_finished.send(sender=run_collection, as_of=day, summary=summary)  # the notices app sends what is due now
    return summary
