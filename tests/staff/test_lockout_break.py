"""Issue 13, path 12, attacked again: the same username typed other ways, and a spoofed address."""

import pytest

from tests.staff.test_lockout import _login, alice, clock, limits  # noqa: F401


def test_it_counts_spaced_and_fullwidth_spellings_of_a_username_as_that_username(client, alice, clock):  # noqa: F811
    # when 15 addresses guess, each spelling alice a little differently (the form trims and folds them)
    spellings = [" alice", "alice ", "ａｌｉｃｅ", "\talice"]
    statuses = [_login(client, f"10.0.0.{n}", username=spellings[n % 4]).status_code for n in range(1, 16)]
    # then they all count against alice: locked at the 15th, and her right password is refused too
    assert statuses == [200] * 14 + [429]
    assert _login(client, "192.168.1.20", password="pw-alice").status_code == 429


def test_another_letter_case_is_another_username_that_never_logs_in_as_alice(client, alice, clock):  # noqa: F811
    # "Alice" is not alice (usernames are case-sensitive): its guesses cannot open alice's account
    assert _login(client, "10.0.0.1", username="Alice", password="pw-alice").status_code == 200
    assert _login(client, "10.0.0.1", username="ALICE", password="pw-alice").status_code == 200
    assert _login(client, "10.0.0.2", password="pw-alice").status_code == 302


def test_the_warning_before_the_last_try_follows_the_username_as_the_form_reads_it(client, alice, clock):  # noqa: F811
    # when the user's keyboard adds a trailing space on the 4th wrong try from one address
    for _ in range(3):
        _login(client, "10.0.0.1")
    page = _login(client, "10.0.0.1", username="alice ").content.decode()
    # then the warning still comes: the lock counts "alice", not "alice "
    assert "再输错 1 次将锁定该账号 60 分钟" in page


@pytest.mark.parametrize("header", ["", "HTTP_X_REAL_IP"])
def test_a_forwarded_for_header_chosen_by_the_client_never_resets_the_per_address_count(client, alice, clock, settings,  # noqa: F811
                                                                                          header):
    # given the lockout reads REMOTE_ADDR (no header set), or X-Real-IP that the proxy overwrites
    settings.PORTAL_CLIENT_IP_HEADER = header
    proxy = {"HTTP_X_REAL_IP": "203.0.113.7"} if header else {}
    # when one client sends a new X-Forwarded-For with every guess
    statuses = [_login(client, "10.0.0.1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}", **proxy).status_code
                for n in range(1, 8)]
    # then it is still one address: locked at the 5th guess
    assert statuses == [200] * 4 + [429] * 3
