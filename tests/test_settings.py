"""What config/settings.py makes of an environment: read afresh from a module run in isolation."""

import runpy
from pathlib import Path

import pytest

SETTINGS = Path(__file__).resolve().parent.parent / "config" / "settings.py"


@pytest.fixture
def read_settings(monkeypatch, tmp_path):
    """The settings module's values under an environment of our choosing (Django's own settings untouched)."""

    def read(**env) -> dict:
        for name in ("DEBUG", "ARREARS_PAYMENT_PROVIDERS", "ARREARS_HTTPS", "ARREARS_HSTS_PRELOAD", "DATABASE_URL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("SECRET_KEY", "x" * 64)
        monkeypatch.setenv("ARREARS_DATA_DIR", str(tmp_path))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS))

    return read


def test_it_offers_no_online_provider_in_production_until_one_is_configured(read_settings):
    assert read_settings(DEBUG="false")["PORTAL_PAYMENT_PROVIDERS"] == {}
    assert read_settings()["PORTAL_PAYMENT_PROVIDERS"] == {}


def test_it_offers_the_sandbox_by_default_only_with_debug_on(read_settings):
    assert list(read_settings(DEBUG="true")["PORTAL_PAYMENT_PROVIDERS"]) == ["sandbox"]


def test_it_offers_the_sandbox_in_production_only_when_named(read_settings):
    # named, it is there (and `check --deploy` refuses it: test_deploy_checks)
    assert list(read_settings(ARREARS_PAYMENT_PROVIDERS="sandbox")["PORTAL_PAYMENT_PROVIDERS"]) == ["sandbox"]


def test_it_turns_on_every_https_setting_with_one_switch(read_settings):
    values = read_settings(ARREARS_HTTPS="true")
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] == 31_536_000 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert values["SECURE_HSTS_PRELOAD"] is False  # a decision of the domain's owner: ARREARS_HSTS_PRELOAD


def test_it_leaves_https_off_by_default_for_the_embedded_default_and_the_tests(read_settings):
    values = read_settings()
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                 "SECURE_PROXY_SSL_HEADER"):
        assert name not in values, name
    assert values["SECURE_HSTS_PRELOAD"] is False


def test_it_sends_hsts_preload_only_when_the_operator_opts_in(read_settings):
    assert read_settings(ARREARS_HTTPS="true", ARREARS_HSTS_PRELOAD="true")["SECURE_HSTS_PRELOAD"] is True
    assert read_settings(ARREARS_HSTS_PRELOAD="true")["SECURE_HSTS_PRELOAD"] is False


def test_it_refuses_a_switch_that_is_neither_true_nor_false(read_settings):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="ARREARS_HTTPS"):
        read_settings(ARREARS_HTTPS="maybe")


def test_it_keeps_the_daily_runs_chord_results_on_a_redis_broker(monkeypatch, read_settings):
    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)
    assert read_settings(CELERY_BROKER_URL="redis://10.0.0.5:6379/0")["CELERY_RESULT_BACKEND"] == "redis://10.0.0.5:6379/0"
    assert read_settings(CELERY_BROKER_URL="", CELERY_RESULT_BACKEND="")["CELERY_RESULT_BACKEND"] == ""  # eager: none


def test_it_refuses_a_broker_without_a_backend_that_can_join_a_chord(monkeypatch, read_settings):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)
    with pytest.raises(ImproperlyConfigured, match="CELERY_RESULT_BACKEND"):
        read_settings(CELERY_BROKER_URL="amqp://guest@10.0.0.5//")
    named = read_settings(CELERY_BROKER_URL="amqp://guest@10.0.0.5//", CELERY_RESULT_BACKEND="redis://10.0.0.6/1")
    assert named["CELERY_RESULT_BACKEND"] == "redis://10.0.0.6/1"
