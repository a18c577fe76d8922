"""Celery tasks of the ledger: the web import's job (see import_jobs)."""

from celery import shared_task


@shared_task(name="arrears.ledger.tasks.run_import_job")
def run_import_job(job_id: int) -> None:
    """Run one queued import job; a job already claimed is left alone, so a redelivery does nothing."""
    from arrears.ledger.import_jobs import run_job

    run_job(job_id)
