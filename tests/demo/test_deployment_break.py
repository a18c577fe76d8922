"""Trying to break the demo's fences (helper J): its data command over a deployment, its scheduler
outside the demo command."""

import io
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from arrears.estate.models import Company


@pytest.mark.parametrize("deployment", ["secret-key", "https"])
def test_demo_data_refuses_on_a_deployment(db, settings, monkeypatch, deployment):
    """`demo-data` makes the demo logins (a superuser with the public password): it refuses as `demo` does."""
    if deployment == "secret-key":
        monkeypatch.setenv("SECRET_KEY", "k" * 64)
    else:
        settings.ARREARS_HTTPS = True
    with pytest.raises(CommandError, match="部署环境"):
        call_command("demo-data", units=20, seed=7, stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="admin").exists()
    assert not Company.objects.exists()


def test_the_refusal_is_in_english_for_an_english_operator(db, monkeypatch):
    from django.utils import translation

    monkeypatch.setenv("SECRET_KEY", "k" * 64)
    with translation.override("en"), pytest.raises(CommandError) as refused:
        call_command("demo-data", units=20, seed=7, stdout=io.StringIO())
    assert str(refused.value).startswith("This is a deployment") and "部署" not in str(refused.value)


def test_no_scheduler_runs_in_the_web_process(db):
    """Loading the apps and serving requests starts no demo scheduler: only the demo command does."""
    Client().get("/login/")
    assert not [thread for thread in threading.enumerate() if thread.name == "demo-scheduler"]
