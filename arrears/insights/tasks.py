"""Celery tasks: thin wrappers that take plain values and call one service."""

from datetime import date

from celery import shared_task
from django.utils import timezone


@shared_task(name="arrears.insights.tasks.retrain_risk_models")
def retrain_risk_models(today: str | None = None) -> list[dict]:
    """Retrain every company's early-warning model (monthly, Celery beat); the new one becomes active."""
    from arrears.insights.risk import retrain_all

    day = date.fromisoformat(today) if today else timezone.localdate()
    return [{key: report.get(key) for key in ("company_id", "model_id", "algorithm", "cut_off")}
            for report in retrain_all(today=day)]
