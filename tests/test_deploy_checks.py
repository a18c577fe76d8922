"""`arrears check --deploy` refuses what is unsafe in production."""

from django.core.checks import run_checks


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
