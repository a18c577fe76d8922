"""`arrears serve`: gunicorn with sensible workers and timeouts, serving the real application."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from arrears.api.server import default_workers, gunicorn_argv

from .conftest import free_port


def test_it_runs_two_workers_a_core_plus_one_and_at_most_nine():
    assert [default_workers(cores) for cores in (1, 2, 4, 16)] == [3, 5, 9, 9]


def test_the_command_line_recycles_workers_and_trusts_only_the_proxy():
    argv = gunicorn_argv(bind="127.0.0.1:8123", workers=3, timeout=45, forwarded_allow_ips="10.0.0.2")
    assert argv[:2] == ["gunicorn", "config.wsgi:application"]
    options = dict(zip(argv[2::2], argv[3::2], strict=False))
    assert options["--bind"] == "127.0.0.1:8123" and options["--workers"] == "3" and options["--timeout"] == "45"
    assert options["--forwarded-allow-ips"] == "10.0.0.2" and options["--max-requests"] == "1000"


@pytest.mark.parametrize("extra, message", [(["--workers", "0"], "workers"), (["--timeout", "0"], "timeout")])
def test_it_refuses_nonsense(extra, message):
    with pytest.raises(CommandError, match=message):
        call_command("serve", *extra)


def test_gunicorn_serves_the_application(tmp_path):
    # given gunicorn started as `arrears serve` would start it, on a free port, with an empty data folder
    port = free_port()
    argv = gunicorn_argv(bind=f"127.0.0.1:{port}", workers=1, timeout=30)
    env = {**os.environ, "ARREARS_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.Popen([gunicorn, *argv[1:]], cwd=Path(__file__).resolve().parents[2], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in server.stderr:  # wait for the worker, reading its log (no sleeping)
            if "Booting worker" in line:
                break
        # when the health check is asked (the database is empty: no daily run has ever finished)
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30)
        # then gunicorn answered with the application's own 503 and its reasons
        assert answer.value.code == 503
        body = json.loads(answer.value.read())
        assert body["checks"]["database"]["ok"] is True and body["checks"]["daily_run"]["ok"] is False
    finally:
        server.terminate()
        server.wait(timeout=30)
