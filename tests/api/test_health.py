"""/healthz: what a load balancer and a monitor read. Every check says what it saw; any failure is a 503."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from arrears.api import health
from arrears.collection.models import CollectionRun, OutgoingMessage
from tests import factories

from .conftest import free_port

pytestmark = pytest.mark.django_db
NOW = timezone.make_aware(datetime(2026, 6, 20, 9, 0))


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _run(hours_ago: float):
    finished = NOW - timedelta(hours=hours_ago)
    return CollectionRun.objects.create(as_of=finished.date(), started_at=finished - timedelta(minutes=5),
                                        finished_at=finished)


def _message(**extra):
    first = OutgoingMessage.objects.select_related("community", "unit", "owner").first()
    if first is not None:
        community, unit, owner = first.community, first.unit, first.owner
    else:
        community = factories.community()
        unit = factories.unit(community)
        owner = factories.owner(unit)
    values = {"community": community, "unit": unit, "owner": owner, "key": f"k{OutgoingMessage.objects.count()}",
              "channel": "sms", "template_code": "reminder", "scheduled_on": NOW.date()}
    created = extra.pop("created_at", NOW)
    with time_machine.travel(created, tick=False):  # written then: the row's time is evidence, never edited
        return OutgoingMessage.objects.create(**{**values, **extra})


def test_a_fresh_installation_is_not_healthy_until_its_first_daily_run(client):
    # given no daily run yet
    response = client.get(reverse("healthz"))
    # then 503, and the body says which check failed and why; the others held
    assert response.status_code == 503 and response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["status"] == "fail"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "cache": True, "broker": True, "daily_run": False, "outbox": True}
    assert body["checks"]["daily_run"]["detail"] == "no daily run has finished yet"


def test_it_is_healthy_after_todays_run_with_nothing_waiting(client):
    _run(hours_ago=3)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["checks"]["daily_run"]["age_seconds"] == 3 * 3600


def test_a_run_older_than_the_limit_is_stale(client, settings):
    settings.ARREARS_HEALTH_RUN_HOURS = 26
    _run(hours_ago=26)
    assert client.get(reverse("healthz")).status_code == 200  # at the limit: still fine
    CollectionRun.objects.all().delete()
    _run(hours_ago=26.5)
    body = client.get(reverse("healthz")).json()
    assert body["checks"]["daily_run"]["ok"] is False and "over 1 day, 2:00:00 ago" in body["checks"]["daily_run"]["detail"]


def test_a_message_due_and_waiting_too_long_means_the_sender_is_down(client, settings):
    # given today's run, and messages in the outbox
    settings.ARREARS_HEALTH_OUTBOX_MINUTES = 15
    _run(hours_ago=3)
    _message(created_at=NOW - timedelta(hours=2), not_before=NOW + timedelta(hours=1))  # its window opens later
    _message(created_at=NOW - timedelta(hours=2), next_try_at=NOW + timedelta(minutes=5))  # retry not yet due
    _message(created_at=NOW - timedelta(hours=2), not_before=NOW - timedelta(minutes=10))  # due 10 minutes ago
    _message(created_at=NOW - timedelta(hours=2), status="sent")
    assert client.get(reverse("healthz")).status_code == 200
    # when one has been due for 20 minutes
    _message(created_at=NOW - timedelta(hours=2), not_before=NOW - timedelta(hours=1),
             next_try_at=NOW - timedelta(minutes=20))
    # then the outbox check fails with its age
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    outbox = response.json()["checks"]["outbox"]
    assert outbox["ok"] is False and outbox["age_seconds"] == 20 * 60


def test_a_broker_that_does_not_answer_fails_and_one_that_does_passes(settings, redis_url):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    failed = health._guarded("broker", health.broker_check)
    assert failed.ok is False and "OperationalError" in failed.detail
    settings.CELERY_BROKER_URL = redis_url
    assert health._guarded("broker", health.broker_check).ok is True


def test_a_check_that_cannot_run_fails_with_its_reason_and_the_rest_still_run(monkeypatch):
    _run(hours_ago=1)

    def broken():
        raise RuntimeError("connection refused")

    monkeypatch.setattr(health, "cache_check", broken)
    found = {check.name: check for check in health.checks()}
    assert found["cache"].ok is False and found["cache"].detail == "RuntimeError: connection refused"
    assert found["database"].ok and found["daily_run"].ok and found["outbox"].ok


def test_it_answers_get_only_and_tells_nothing_about_owners(client):
    _run(hours_ago=1)
    _message(created_at=NOW - timedelta(hours=2))
    assert client.post(reverse("healthz")).status_code == 405
    text = client.get(reverse("healthz")).content.decode()
    owner = OutgoingMessage.objects.get().owner
    assert "unit" not in text and "owner" not in text and owner.name not in text
