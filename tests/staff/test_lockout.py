"""Lockout per username across addresses (issue 13, path 12): 30 guesses from 30 addresses are
stopped, the right password from a fresh address is refused while the username is locked, the
per-address limit still holds, one address alone never locks a colleague out, and the login page
warns before the last try."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tests import factories

NOW = datetime(2026, 5, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = 1.0  # hours
    settings.ARREARS_LOGIN_USERNAME_LIMIT = 15
    settings.ARREARS_LOGIN_USERNAME_COOLOFF = timedelta(minutes=15)


@pytest.fixture
def alice(db):
    return factories.user("alice")


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _login(client, address, password="wrong", username="alice", **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def _logged_in(client) -> bool:
    return client.get(reverse("staff:home")).status_code == 200


def test_it_locks_a_username_guessed_once_from_each_of_thirty_addresses(client, alice, clock):
    # when 30 addresses each guess once (on main all 30 were answered: the count was per address)
    statuses = [_login(client, f"10.0.0.{n}").status_code for n in range(1, 31)]
    # then the 15th guess locks the username and every later one is refused unanswered
    assert statuses == [200] * 14 + [429] * 16


def test_the_right_password_from_a_fresh_address_is_refused_while_the_username_is_locked(client, alice, clock):
    # given the username locked by guesses from 15 addresses
    for n in range(1, 16):
        _login(client, f"10.0.0.{n}")
    # when its owner types the right password at a fresh address
    response = _login(client, "192.168.1.20", password="pw-alice")
    # then the lockout page says the username is locked everywhere, and for how long; nobody is logged in
    assert response.status_code == 429
    html = response.content.decode()
    assert "已在所有地址暂时锁定" in html and "15 分钟后再试" in html
    assert not _logged_in(client)
    # and once the cool-off has passed since the last failure, the right password works again
    clock.shift(timedelta(minutes=16))
    assert _login(client, "192.168.1.20", password="pw-alice").status_code == 302
    assert _logged_in(client)


def test_the_per_address_limit_still_applies_and_one_address_alone_never_locks_the_username(client, alice, clock):
    # when one address guesses 20 times (it is locked at its 5th)
    statuses = [_login(client, "10.0.0.1").status_code for _ in range(20)]
    assert statuses == [200] * 4 + [429] * 16
    # then even the right password from that address is refused, for the address's full cool-off
    assert _login(client, "10.0.0.1", password="pw-alice").status_code == 429
    clock.shift(timedelta(minutes=59))
    assert _login(client, "10.0.0.1", password="pw-alice").status_code == 429
    # but the owner at another address logs in: one address counts at most its own limit everywhere
    assert _login(client, "192.168.1.20", password="pw-alice").status_code == 302


def test_the_login_page_warns_before_the_last_try_from_an_address(client, alice, clock):
    pages = [_login(client, "10.0.0.1").content.decode() for _ in range(4)]

    assert ["再输错 1 次将锁定该账号" in page for page in pages] == [False, False, False, True]
    assert "再输错 1 次将锁定该账号 60 分钟" in pages[-1]


def test_the_login_page_warns_before_the_last_try_across_addresses(client, alice, clock):
    pages = [_login(client, f"10.0.0.{n}").content.decode() for n in range(1, 15)]

    assert ["再输错 1 次将锁定该账号" in page for page in pages] == [False] * 13 + [True]
    assert "再输错 1 次将锁定该账号 15 分钟" in pages[-1]


def test_the_warning_is_in_english_under_english(client, alice, clock):
    client.cookies["django_language"] = "en"
    for _ in range(3):
        _login(client, "10.0.0.1")

    page = _login(client, "10.0.0.1").content.decode()

    assert "One more wrong password locks this account for 60 minutes" in page
    assert "再输错" not in page


def test_a_wrong_password_for_an_unknown_username_gets_no_warning_about_other_users(client, alice, clock):
    # the count is per typed username: guesses at another name never bring alice nearer a lock
    for n in range(1, 20):
        _login(client, f"10.0.0.{n}", username="bob")

    assert _login(client, "10.0.0.99", password="pw-alice").status_code == 302
