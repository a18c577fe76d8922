"""Is the installation doing its day's work? Each check says what it saw; any failure makes /healthz 503.

A load balancer and a monitor read it: the database and cache answer, the broker takes connections
(when there is one), the daily run finished recently, and no message that is due has waited long in
the outbox (the sender is running). It says nothing about owners or money.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from uuid import uuid4

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Min, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from arrears.collection.models import (
    CollectionRun,
    CollectionRunPart,
    CollectionRunStart,
    MessageStatus,
    OutgoingMessage,
    PartStatus,
)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    age_seconds: int | None = None


def _guarded(name: str, probe) -> Check:
    try:
        return probe()
    except Exception as exc:  # a check that cannot run has failed: say why, never raise
        return Check(name, False, f"{type(exc).__name__}: {str(exc)[:200]}")


def database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Check("database", True, connection.vendor)


def cache_check() -> Check:
    key, token = "arrears:healthz", uuid4().hex
    cache.set(key, token, 30)
    if cache.get(key) != token:
        return Check("cache", False, "the cache did not return what was written")
    return Check("cache", True, settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1])


def broker_check() -> Check:
    url = settings.CELERY_BROKER_URL
    if not url:
        return Check("broker", True, "none: tasks run in the web process")
    from kombu import Connection

    with Connection(url, connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
        return Check("broker", True, str(conn.transport_cls))


def daily_run(now: datetime) -> Check:
    limit = timedelta(hours=settings.ARREARS_HEALTH_RUN_HOURS)
    last = CollectionRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()
    failed = _uncovered_failure()
    why = "" if failed is None else (
        f"; the run of {failed.start.run.as_of} started {failed.start.started_at.isoformat()} did not finish:"
        f" part {failed.index} failed on {failed.worker or 'a worker'} after {failed.attempts} attempts: {failed.error}")
    if last is None:
        return Check("daily_run", False, "no daily run has finished yet" + why)
    age = now - last.finished_at
    ok = age <= limit and failed is None
    detail = (f"the run of {last.as_of} finished {last.finished_at.isoformat()}"
              + ("" if age <= limit else f", over {limit} ago") + why)
    return Check("daily_run", ok, detail, int(age.total_seconds()))


def _uncovered_failure() -> CollectionRunPart | None:
    """The latest part that gave up and whose communities no later finished start has run since.

    A start of the whole installation that finished after it covers it; a partial start (an operator's
    run of some communities) covers it only if it ran every one of the part's communities: a run of
    another community finishing the date's run does not make the failed ones run.
    """
    failed = CollectionRunPart.objects.filter(status=PartStatus.FAILED, start__finished_at__isnull=True)
    full = (CollectionRunStart.objects.filter(finished_at__isnull=False, scope__isnull=True)
            .order_by("-pk").values_list("pk", flat=True).first())  # later starts have higher ids
    if full is not None:
        failed = failed.filter(start_id__gt=full)
    for part in failed.select_related("start__run").order_by("-start_id", "index")[:100]:
        later = CollectionRunStart.objects.filter(
            finished_at__isnull=False, pk__gt=part.start_id, run__as_of__gte=part.start.run.as_of,
            scope__isnull=False)
        wanted = None if part.communities is None else {int(pk) for pk in part.communities}
        if wanted is None or not any(wanted <= {int(pk) for pk in scope} for scope in later.values_list("scope", flat=True)):
            return part
    return None


def outbox(now: datetime) -> Check:
    """The oldest message due now (its window open, its retry time reached) that is still waiting."""
    limit = timedelta(minutes=settings.ARREARS_HEALTH_OUTBOX_MINUTES)
    due = (OutgoingMessage.objects.filter(status=MessageStatus.QUEUED)
           .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
           .filter(Q(next_try_at__isnull=True) | Q(next_try_at__lte=now)))
    since = due.aggregate(since=Min(Greatest("created_at", Coalesce("not_before", "created_at"),
                                             Coalesce("next_try_at", "created_at"))))["since"]
    if since is None:
        return Check("outbox", True, "no message waiting")
    age = now - since
    ok = age <= limit
    return Check("outbox", ok, f"the oldest due message has waited since {since.isoformat()}"
                 + ("" if ok else f", over {limit}"), int(age.total_seconds()))


def checks(now: datetime | None = None) -> list[Check]:
    now = now or timezone.now()
    return [_guarded("database", database), _guarded("cache", lambda: cache_check()), _guarded("broker", broker_check),
            _guarded("daily_run", lambda: daily_run(now)), _guarded("outbox", lambda: outbox(now))]


def report(now: datetime | None = None) -> tuple[bool, dict]:
    found = checks(now)
    healthy = all(check.ok for check in found)
    return healthy, {"status": "ok" if healthy else "fail",
                     "checks": {check.name: {k: v for k, v in asdict(check).items() if k != "name"} for check in found}}
