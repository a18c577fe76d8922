import shutil
import socket
import subprocess

import pytest


@pytest.fixture(autouse=True)
def _chinese_first(settings):
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Tests create many users: a slow hash (by design in production) would dominate the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _import_jobs_inline(settings):
    """The web import's job runs inside the request: deterministic (one test takes the thread path)."""
    settings.ARREARS_IMPORT_RUNNER = "inline"


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def redis_url():
    """The machine's Redis on 127.0.0.1:6379, started when it is down (it keeps nothing on disk)."""
    if not _listening(6379):
        server = shutil.which("redis-server")
        if server is None:
            pytest.fail("Redis is not running and redis-server is not installed (apt-get install redis-server)")
        subprocess.run([server, "--port", "6379", "--save", "", "--appendonly", "no", "--daemonize", "yes"], check=True)
        subprocess.run(["redis-cli", "-p", "6379", "ping"], check=True, capture_output=True, timeout=10)
    return "redis://127.0.0.1:6379/15"
