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
