"""Celery tasks: thin wrappers over one service each."""

import logging
from datetime import date

from celery import shared_task

log = logging.getLogger(__name__)


def after_run(sender, *, as_of: date, **kwargs) -> None:
    """After the run of day D: the dashboard's snapshots as of D − 1, in the worker, not in the run."""
    refresh_snapshots.delay(as_of.isoformat())


@shared_task(name="arrears.insights.tasks.refresh_snapshots")
def refresh_snapshots(run_date: str) -> int:
    """Snapshots as of the day before `run_date` (a day still taking payments would be stale). Idempotent."""
    from arrears.insights import snapshots

    as_of = snapshots.last_complete_day(date.fromisoformat(run_date))
    written = snapshots.refresh(as_of=as_of)
    log.info("insights snapshots as of %s: %s rows", as_of, written)
    return written
