"""Celery tasks of the outbox: thin wrappers over `outbox.dispatch`."""

from celery import shared_task


@shared_task(name="arrears.notices.tasks.dispatch_outbox")
def dispatch_outbox(limit: int = 500) -> dict:
    """Send the messages that are due; beat runs it every minute, the daily run once more after itself."""
    from arrears.notices.outbox import dispatch

    return dict(dispatch(limit=limit))


def after_run(sender, **kwargs) -> None:
    dispatch_outbox.delay()


@shared_task(name="arrears.notices.tasks.run_letter_job")
def run_letter_job(job_id: int) -> None:
    """Render one queued letter batch; a job already claimed is left alone, so a redelivery does nothing."""
    from arrears.notices.letter_jobs import run_job

    run_job(job_id)
