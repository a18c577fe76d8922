"""A batch of letters renders as a job: the request checks the batch and queues it; a worker renders it.

Where the job runs is the web import's setting, `settings.ARREARS_IMPORT_RUNNER`: `celery`,
`thread` (a thread of the web process once the job's row is committed) or `inline` (inside the
request, for tests); see `ledger.import_jobs`. The job claims itself with a conditional update
from queued to running, so it runs once whichever runner gets there twice. The same selection
posted twice (a double tap, a resent form) finds the first job: while it runs by a partial unique
index, once it is done by its digest, so one selection makes one batch.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from arrears.collection.models import Case
from arrears.core.errors import DomainError

from . import letters
from .models import ACTIVE_LETTER_JOBS, LetterJob, LetterJobStatus

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(hours=1)
PROGRESS_EVERY = 5  # letters between two writes of the progress
FAILED = ("生成函件时出错，未出函；请重试或联系管理员", "the letters could not be rendered: nothing issued; try again or ask an administrator")

threads: list[threading.Thread] = []  # started by the thread runner; tests join them


def selection_digest(*, kind: str, issued_on: date, case_ids, override_reason: str = "") -> str:
    """What makes two posts the same batch: kind, issue date, the cases (in any order) and the override reason."""
    text = f"{kind}|{issued_on}|{','.join(str(pk) for pk in sorted(set(case_ids)))}|{override_reason.strip()}"
    return hashlib.sha256(text.encode()).hexdigest()


def start_job(*, user, kind: str, cases: list[Case], issued_on: date, override_reason: str = "") -> LetterJob:
    """Check the batch now (a refusal says why at once), then queue its rendering; the same selection finds its job."""
    digest = selection_digest(kind=kind, issued_on=issued_on, case_ids=[c.pk for c in cases], override_reason=override_reason)
    mine = LetterJob.objects.filter(user=user, digest=digest)
    active = mine.filter(status__in=ACTIVE_LETTER_JOBS)
    # A job whose process died would hold the selection for ever; one that old has failed.
    active.filter(created_at__lt=timezone.now() - STALE_AFTER).update(
        status=LetterJobStatus.FAILED, finished_at=timezone.now(), error_zh=FAILED[0], error_en=FAILED[1])
    existing = mine.filter(status__in=[*ACTIVE_LETTER_JOBS, LetterJobStatus.DONE]).order_by("-pk").first()
    if existing is not None:
        return existing
    prepared = letters.prepare_batch(kind=kind, cases=cases, issued_on=issued_on, staff=user, override_reason=override_reason)
    try:
        with transaction.atomic():
            job = LetterJob.objects.create(
                user=user, community_id=prepared.community_id, kind=kind, issued_on=issued_on,
                case_ids=sorted(c.pk for c in cases), override_reason=override_reason.strip(), digest=digest,
                total=len(prepared.rows),
            )
            _launch_on_commit(job.pk)
    except IntegrityError:  # a second post won the race for the active slot: that job is the one
        return active.order_by("pk").first()
    if settings.ARREARS_IMPORT_RUNNER == "inline":
        run_job(job.pk)
        job.refresh_from_db()
    return job


def _launch_on_commit(job_id: int) -> None:
    runner = settings.ARREARS_IMPORT_RUNNER
    if runner == "inline":
        return  # start_job runs it itself, once the row is written
    if runner == "celery":
        from arrears.notices import tasks

        transaction.on_commit(lambda: tasks.run_letter_job.delay(job_id))
    else:
        transaction.on_commit(lambda: _start_thread(job_id))


def _start_thread(job_id: int) -> threading.Thread:
    def work():
        try:
            run_job(job_id)
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=work, name=f"letter-job-{job_id}", daemon=True)
    threads.append(thread)
    thread.start()
    return thread


def run_job(job_id: int) -> None:
    """Render and issue one queued batch to its end; a job already claimed (or finished) is left alone."""
    if not LetterJob.objects.filter(pk=job_id, status=LetterJobStatus.QUEUED).update(
        status=LetterJobStatus.RUNNING, started_at=timezone.now(),
    ):
        return
    job = LetterJob.objects.select_related("user").get(pk=job_id)

    def progress(done, total):
        if done % PROGRESS_EVERY == 0 or done == total:
            LetterJob.objects.filter(pk=job_id).update(done=done, total=total)

    try:
        batch = letters.issue_batch(kind=job.kind, cases=list(Case.objects.filter(pk__in=job.case_ids)),
                                    issued_on=job.issued_on, staff=job.user, override_reason=job.override_reason,
                                    progress=progress)
    except DomainError as error:  # the facts changed since the check (a payment, another batch): say which
        _fail(job_id, error.zh, error.en)
        return
    except Exception:  # the page must learn that it ended, whatever went wrong
        log.exception("letter job %s failed", job_id)
        _fail(job_id, *FAILED)
        return
    LetterJob.objects.filter(pk=job_id).update(status=LetterJobStatus.DONE, batch=batch, done=batch.count,
                                               finished_at=timezone.now())


def _fail(job_id: int, zh: str, en: str) -> None:
    LetterJob.objects.filter(pk=job_id).update(status=LetterJobStatus.FAILED, error_zh=zh, error_en=en,
                                               finished_at=timezone.now())


def status_of(job: LetterJob) -> dict:
    """What the page polls: where the job is, and where to go when it is done."""
    percent = 100 if job.status == LetterJobStatus.DONE else (job.done * 100 // job.total if job.total else 0)
    return {"status": job.status, "done": job.done, "total": job.total, "percent": percent,
            "batch": job.batch_id, "finished": job.status in (LetterJobStatus.DONE, LetterJobStatus.FAILED)}
