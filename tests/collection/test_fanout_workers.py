"""The daily run through Redis on two real Celery workers equals one pass in one process.

The workers and the test share the test database (PostgreSQL: SQLite's test database lives in the
test process's memory). The one pass runs in a subprocess on a copy of the database made from it
as a template before the workers start; both sides are compared with `fanout.snapshot()`.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from celery import Celery
from django.db import connection

from arrears.collection.models import CollectionRun, CollectionRunPart, CollectionRunStart
from tests.collection.fanout import DAY, build_portfolio, snapshot

ROOT = Path(__file__).resolve().parents[2]
WAIT = 180  # seconds: the longest the test waits for a worker or for the chord
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="workers in other processes need a database "
                       "they can reach: SQLite's test database is in the test process's memory"),
]


def _url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _admin(sql: str) -> None:
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                         password=db["PASSWORD"] or None, dbname="postgres", autocommit=True) as admin:
        admin.execute(sql)


@pytest.fixture
def broker(redis_url):
    return redis_url.rsplit("/", 1)[0] + "/14"


@pytest.fixture
def one_pass(broker):
    """Build the portfolio; return a function giving what one pass writes over a copy of it."""
    build_portfolio()
    name, copy = connection.settings_dict["NAME"], f"{connection.settings_dict['NAME']}_one_pass"
    connection.close()  # a template must have no session open
    _admin(f'DROP DATABASE IF EXISTS "{copy}"')
    _admin(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')

    def run() -> dict:
        env = {**os.environ, "DATABASE_URL": _url(copy), "CELERY_BROKER_URL": "", "ARREARS_RUN_CHUNK_UNITS": "100000",
               "DJANGO_SETTINGS_MODULE": "config.settings"}
        done = subprocess.run([sys.executable, "-m", "tests.collection.fanout", DAY.isoformat()], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=WAIT, check=True)
        return json.loads(done.stdout)

    yield run
    _admin(f'DROP DATABASE IF EXISTS "{copy}"')


@pytest.fixture
def workers(broker, tmp_path, request):
    """Start workers (hostname → pool, extra env) on a queue of this test's own; killed at the end."""
    queue, started = f"fanout-{uuid.uuid4().hex}", []
    client = Celery("fanout-test", broker=broker, backend=broker)
    client.conf.update(task_default_queue=queue, result_extended=True)

    def start(**pools) -> Celery:
        for name, (pool, extra) in pools.items():
            env = {**os.environ, "DATABASE_URL": _url(connection.settings_dict["NAME"]), "CELERY_BROKER_URL": broker,
                   "CELERY_RESULT_BACKEND": broker, "ARREARS_RUN_CHUNK_UNITS": "4", "FANOUT_QUEUE": queue,
                   "FANOUT_FAULT_FILE": str(tmp_path / "fault"), "DJANGO_SETTINGS_MODULE": "config.settings", **extra}
            log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "tests.collection.fanout_worker", "worker", "-n", f"{name}@fanout",
                 "-Q", queue, f"--pool={pool}", "--concurrency=1", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "--loglevel=INFO"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            started.append((process, log))
        names = {f"{name}@fanout" for name in pools}
        deadline = time.monotonic() + WAIT
        while {next(iter(reply)) for reply in client.control.ping(destination=list(names), timeout=1)} != names:
            assert time.monotonic() < deadline, [p.read_text() for p in tmp_path.glob("*.log")]
        return client

    yield start
    for process, log in started:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        log.close()


def _daily_run(client: Celery) -> dict:
    """Start the daily run as beat does, through the broker; wait for its chord's last step."""
    started = client.send_task("arrears.collection.tasks.daily_run", args=[DAY.isoformat()]).get(timeout=WAIT)
    if started["result"] is not None:
        client.AsyncResult(started["result"]).get(timeout=WAIT)
    return started


def test_two_workers_share_the_daily_run_and_write_what_one_pass_writes(one_pass, workers):
    expected = one_pass()
    client = workers(w1=("solo", {}), w2=("solo", {}))
    # when beat's task runs through Redis on two workers
    started = _daily_run(client)
    # then every case, step, task, message and summary row equals one pass's, field by field
    assert snapshot() == expected and expected["Case"] and expected["OutgoingMessage"]
    # and both workers took parts, each part once; the run is finished
    parts = CollectionRunPart.objects.filter(start_id=started["start"])
    assert started["parts"] == parts.count() == 5
    assert {p.worker for p in parts} == {"w1@fanout", "w2@fanout"} and {p.attempts for p in parts} == {1}
    assert CollectionRun.objects.get().finished_at is not None
    # when it runs again for the same date: nothing changes, no part was needed
    again = _daily_run(client)
    assert snapshot() == expected and again["parts"] == 0
    assert CollectionRunStart.objects.filter(finished_at__isnull=False).count() == 2


def test_a_part_retried_after_an_error_and_one_whose_worker_died_write_what_one_pass_writes(one_pass, workers):
    expected = one_pass()
    # given a worker whose process dies inside its first part (prefork: its parent stays), and one
    # that hits a deadlock inside its first part
    client = workers(w1=("prefork", {"FANOUT_FAULT": "kill"}), w2=("solo", {}))
    started = _daily_run(client)
    assert snapshot() == expected
    parts = CollectionRunPart.objects.filter(start_id=started["start"])
    assert sorted(p.attempts for p in parts) == [1, 1, 1, 1, 2]  # the lost part was handed on and redone
    assert all(p.status == "done" for p in parts) and CollectionRun.objects.get().finished_at is not None


def test_a_part_retried_after_a_deadlock_writes_what_one_pass_writes(one_pass, workers):
    expected = one_pass()
    client = workers(w1=("solo", {"FANOUT_FAULT": "raise"}), w2=("solo", {"FANOUT_FAULT": "raise"}))
    started = _daily_run(client)
    assert snapshot() == expected
    parts = CollectionRunPart.objects.filter(start_id=started["start"])
    assert sorted(p.attempts for p in parts) == [1, 1, 1, 1, 2] and all(p.error == "" for p in parts)
