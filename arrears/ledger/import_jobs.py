"""The web import runs as a job: the request stores the file and queues a job; a worker runs it.

Where the job runs is `settings.ARREARS_IMPORT_RUNNER`: `celery` (a worker, when a broker is
configured), `thread` (a thread of the web process started once the job's row is committed: the
embedded default) or `inline` (inside the request, for tests). The job claims itself with a
conditional update from queued to running, so whichever runner gets there twice runs it once; a
partial unique index keeps one active job per user, file and kind, so a second click finds the
first. The import pass refuses a file whose bytes differ from those the check passed.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop as N_

from arrears.estate.models import Company
from arrears.ledger import importers
from arrears.ledger.import_files import RowError
from arrears.ledger.models import ACTIVE_JOB_STATUSES, ImportJob, ImportJobKind, ImportJobStatus

log = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 1000  # the page lists this many; the count says how many there were
PROGRESS_EVERY = 1000
STALE_AFTER = timedelta(hours=1)
CHANGED = N_("文件在校验之后已改变，未导入；请重新上传并校验")
GONE = N_("文件已被之后上传的文件替换或已放弃，未读取；请重新上传")
NOT_CHECKED = N_("文件尚未通过校验，未导入")

threads: list[threading.Thread] = []  # started by the thread runner; tests join them


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def start_job(*, user, kind: str, path: Path, token: str, file_name: str, company_name: str | None,
              scope: importers.WriteScope | None) -> ImportJob:
    """Queue one pass over the stored file, or return the user's job already active on the same bytes."""
    digest = file_digest(path)
    active = ImportJob.objects.filter(user=user, digest=digest, kind=kind, status__in=ACTIVE_JOB_STATUSES)
    # A job whose process died (a restarted web process, a lost worker) would hold the slot for ever;
    # one that old has failed, and running the file again is safe: an import changes nothing twice.
    active.filter(created_at__lt=timezone.now() - STALE_AFTER).update(status=ImportJobStatus.FAILED, finished_at=timezone.now())
    existing = active.order_by("pk").first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                user=user, kind=kind, token=token, file_name=file_name[:255], digest=digest,
                company=Company.objects.filter(name=company_name).first() if company_name else None,
                company_name=company_name or "", scope=None if scope is None else scope.as_json(),
            )
            _launch_on_commit(job.pk)
    except IntegrityError:  # a second click won the race for the active slot: that job is the one
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
        from arrears.ledger import tasks

        transaction.on_commit(lambda: tasks.run_import_job.delay(job_id))
    else:
        transaction.on_commit(lambda: _start_thread(job_id))


def _start_thread(job_id: int) -> threading.Thread:
    def work():
        try:
            run_job(job_id)
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=work, name=f"import-job-{job_id}", daemon=True)
    threads.append(thread)
    thread.start()
    return thread


def run_job(job_id: int) -> None:
    """Run one queued job to its end; a job already claimed (or finished) is left alone."""
    now = timezone.now()
    if not ImportJob.objects.filter(pk=job_id, status=ImportJobStatus.QUEUED).update(
        status=ImportJobStatus.RUNNING, started_at=now, stage="read",
    ):
        return
    job = ImportJob.objects.get(pk=job_id)
    try:
        report = _run(job)
    except Exception:  # the page must learn that it ended, whatever went wrong
        log.exception("import job %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(status=ImportJobStatus.FAILED, finished_at=timezone.now(), stage="")
        return
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJobStatus.DONE, report=report_json(report), finished_at=timezone.now(), stage="",
    )
    if job.kind == ImportJobKind.IMPORT and report.ok:
        _path(job).unlink(missing_ok=True)  # imported: the upload is spent


def _path(job: ImportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / f"{job.token}.xlsx"


def _run(job: ImportJob) -> importers.ImportReport:
    dry_run = job.kind == ImportJobKind.CHECK
    path = _path(job)
    if not path.exists():  # a second upload (or 放弃此文件) removed it before this job ran
        return importers.ImportReport(errors=[RowError("", 0, "", GONE)], dry_run=dry_run)
    if file_digest(path) != job.digest:
        return importers.ImportReport(errors=[RowError("", 0, "", CHANGED)], dry_run=dry_run)
    if not dry_run and not passed_check(job.user_id, job.digest):
        return importers.ImportReport(errors=[RowError("", 0, "", NOT_CHECKED)], dry_run=dry_run)

    def progress(stage, done, total):
        if stage != "read" or done % PROGRESS_EVERY == 0 or done == total:
            fields = {"stage": stage}
            if stage == "read":
                fields.update(rows_done=done, rows_total=total)
            ImportJob.objects.filter(pk=job.pk).update(**fields)

    return importers.run_import(
        path, dry_run=dry_run, company_name=job.company_name or None,
        scope=importers.WriteScope.from_json(job.scope), progress=progress,
    )


def passed_check(user_id: int, digest: str) -> bool:
    """Whether the user's check of exactly these bytes ended without an error."""
    reports = ImportJob.objects.filter(
        user_id=user_id, digest=digest, kind=ImportJobKind.CHECK, status=ImportJobStatus.DONE,
    ).order_by("-pk").values_list("report", flat=True)[:1]
    return any(report and report.get("ok") for report in reports)


def report_json(report: importers.ImportReport) -> dict:
    return {
        "ok": report.ok, "dry_run": report.dry_run, "counts": report.counts, "error_count": len(report.errors),
        # msgid and params, not text: the report is read in the language of whoever opens it
        "errors": [e.as_json() for e in report.errors[:MAX_REPORTED_ERRORS]],
    }


def report_of(job: ImportJob) -> importers.ImportReport | None:
    """The job's report as the page shows it: at most MAX_REPORTED_ERRORS rows of errors (`text` in the page's language)."""
    if job.report is None:
        return None
    data = job.report
    return importers.ImportReport(
        errors=[RowError.from_json(error) for error in data["errors"]], counts=data["counts"], dry_run=data["dry_run"],
    )
