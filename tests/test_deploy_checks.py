"""`arrears check --deploy` refuses what is unsafe in production."""

import os
import subprocess
import sys
from pathlib import Path

from django.core.checks import ERROR, run_checks

ROOT = Path(__file__).resolve().parent.parent
SANDBOX = {"sandbox": {"BACKEND": "arrears.portal.providers.sandbox.SandboxProvider"}}


def _ids(**kwargs):
    return {message.id for message in run_checks(include_deployment_checks=True, **kwargs)}


def test_it_fails_a_deployment_without_a_secret_key_in_the_environment(monkeypatch):
    # given the key only in the data folder
    monkeypatch.delenv("SECRET_KEY", raising=False)
    # then the deploy check reports an error
    assert "arrears.E001" in _ids()


def test_it_accepts_a_secret_key_from_the_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    assert "arrears.E001" not in _ids()


def test_it_does_not_trouble_the_embedded_default():
    # a plain check (demo, development) does not run deployment checks
    assert "arrears.E001" not in {message.id for message in run_checks()}


def test_it_fails_a_deployment_that_offers_the_sandbox_with_debug_off(settings):
    # given the sandbox enabled in production
    settings.DEBUG = False
    settings.PORTAL_PAYMENT_PROVIDERS = SANDBOX
    # then the deploy check reports an error (not a warning: --fail-level ERROR, the default, fails too)
    found = [m for m in run_checks(include_deployment_checks=True) if m.id == "arrears.E002"]
    assert len(found) == 1 and found[0].level == ERROR


def test_it_lets_the_sandbox_run_with_debug_on_or_without_it_in_production(settings):
    settings.DEBUG, settings.PORTAL_PAYMENT_PROVIDERS = True, SANDBOX
    assert "arrears.E002" not in _ids()
    settings.DEBUG, settings.PORTAL_PAYMENT_PROVIDERS = False, {}
    assert "arrears.E002" not in _ids()


# The production environment the README documents (the secret here is made up for the test).
PRODUCTION = {
    "SECRET_KEY": "t3st-0nly-" + "k" * 60,
    "DEBUG": "false",
    "ALLOWED_HOSTS": "wuye.example.com",
    "DATABASE_URL": "postgres://arrears@db.internal:5432/arrears",
    "ARREARS_PUBLIC_URL": "https://wuye.example.com",
    "ARREARS_HTTPS": "true",
}


def _deploy_check(tmp_path, **env) -> subprocess.CompletedProcess:
    """Run `arrears check --deploy --fail-level WARNING` with settings read afresh from this environment only."""
    clean = {"PATH": os.environ.get("PATH", ""), "ARREARS_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT),
             **{k: v for k, v in env.items() if v is not None}}
    return subprocess.run([sys.executable, "-m", "arrears.cli", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def test_it_passes_the_deploy_check_at_warning_level_with_the_documented_production_environment(tmp_path):
    result = _deploy_check(tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_fails_the_deploy_check_without_the_https_switch(tmp_path):
    # given the same environment without ARREARS_HTTPS
    result = _deploy_check(tmp_path, **{**PRODUCTION, "ARREARS_HTTPS": None})
    # then HSTS, the redirect and both secure cookies are reported
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr, check


def test_it_fails_the_deploy_check_with_the_sandbox_in_production(tmp_path):
    # given the documented production environment that names the sandbox
    result = _deploy_check(tmp_path, **PRODUCTION, ARREARS_PAYMENT_PROVIDERS="sandbox")
    # then even at the default fail level (ERROR) the check fails
    assert result.returncode != 0 and "arrears.E002" in result.stderr


def test_the_deployment_folders_environment_passes_the_deploy_check(tmp_path):
    # given deploy/arrears.env.example as an operator fills it in (a real secret instead of the placeholder)
    env = {}
    for line in (ROOT / "deploy" / "arrears.env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    env["ARREARS_DATA_DIR"] = str(tmp_path / "data")
    placeholder = _deploy_check(tmp_path, **env)
    assert placeholder.returncode != 0 and "security.W009" in placeholder.stderr  # left as shipped: refused
    env["SECRET_KEY"] = "t3st-0nly-" + "k" * 60
    # then the deploy check passes at warning level
    result = _deploy_check(tmp_path, **env)
    assert result.returncode == 0, result.stderr
