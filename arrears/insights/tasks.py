"""Celery tasks: thin wrappers that take plain values and call one service."""

import logging
from datetime import date

from celery import shared_task
from django.utils import timezone

log = logging.getLogger(__name__)


def after_run(sender, *, as_of: date, **kwargs) -> None:
    """After the run of day D: the snapshots as of D − 1 and the risk scores, in the worker, not in the run."""
    refresh_snapshots.delay(as_of.isoformat())
    score_risk.delay(as_of.isoformat())


@shared_task(name="arrears.insights.tasks.refresh_snapshots")
def refresh_snapshots(run_date: str) -> int:
    """Snapshots as of the day before `run_date` (a day still taking payments would be stale). Idempotent."""
    from arrears.insights import snapshots

    as_of = snapshots.last_complete_day(date.fromisoformat(run_date))
    written = snapshots.refresh(as_of=as_of)
    log.info("insights snapshots as of %s: %s rows", as_of, written)
    return written


@shared_task(name="arrears.insights.tasks.score_risk")
def score_risk(run_date: str) -> None:
    """Rescore every open owner-unit with each company's last trained model (none: skipped, logged)."""
    from arrears.insights.risk import after_run

    after_run(as_of=date.fromisoformat(run_date))


@shared_task(name="arrears.insights.tasks.retrain_risk_models")
def retrain_risk_models(today: str | None = None) -> list[dict]:
    """Retrain every company's early-warning model (monthly, Celery beat); the new one becomes active."""
    from arrears.insights.risk import retrain_all

    day = date.fromisoformat(today) if today else timezone.localdate()
    return [{key: report.get(key) for key in ("company_id", "model_id", "algorithm", "cut_off")}
            for report in retrain_all(today=day)]
