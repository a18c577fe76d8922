"""A fresh installation: the first daily run comes before anyone has entered a community."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from arrears.api import health
from arrears.collection.models import CollectionRun
from arrears.collection.tasks import daily_run

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.django_db
def test_the_daily_run_of_an_empty_company_finishes():
    # on PostgreSQL the marks' digest of "no community" raised EmptyResultSet and the worker failed the run,
    # so /healthz stayed 503 on a new deployment until someone created a community
    with time_machine.travel(NOON, tick=False):
        daily_run("2026-12-01")
        run = CollectionRun.objects.get(as_of="2026-12-01")
        assert run.finished_at is not None
        assert health.daily_run(NOON).ok
