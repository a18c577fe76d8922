"""Staff login lockout: per username and address, and per username across addresses.

django-axes counts failures per parameter group but compares every group with one limit, so it
cannot say "5 from one address, 15 from anywhere". This handler keeps axes' records (one row per
username, address and browser) and counts two ways:

- per (username, address): `AXES_FAILURE_LIMIT` failures lock that pair for `AXES_COOLOFF_TIME`
  (the mistyped password, the guesser at one address);
- per username across addresses: each address counts at most `AXES_FAILURE_LIMIT`, and
  `ARREARS_LOGIN_USERNAME_LIMIT` of them lock the username everywhere, the right password too,
  until `ARREARS_LOGIN_USERNAME_COOLOFF` after the last failure. 30 guesses from 30 addresses
  are stopped; one outsider with one address can never lock a colleague out, and one with many
  locks it only for the shorter cool-off.

`get_failures` reports failures counted against the nearer of the two limits, on the scale of
`AXES_FAILURE_LIMIT`, so axes' own checks (the backend, the lockout signal) lock at either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone


@dataclass(frozen=True)
class Standing:
    """How many tries are left before the nearer lock, and what that lock is."""

    remaining: int
    limit: int
    minutes: int
    everywhere: bool  # the username's lock across addresses, not only this address's


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def standing(request, credentials: dict | None = None) -> Standing:
    """The tries left for this username from this address, and the lock they lead to."""
    AxesProxyHandler.update_request(request)
    username = get_client_username(request, credentials)
    now = getattr(request, "axes_attempt_time", None) or timezone.now()
    pair_limit, pair_cool_off = settings.AXES_FAILURE_LIMIT, get_cool_off(request)
    user_limit, user_cool_off = settings.ARREARS_LOGIN_USERNAME_LIMIT, settings.ARREARS_LOGIN_USERNAME_COOLOFF
    attempts = AccessAttempt.objects.filter(username=username)
    here = (attempts.filter(ip_address=request.axes_ip_address, attempt_time__gte=now - pair_cool_off)
            .aggregate(n=Sum("failures_since_start"))["n"] or 0)
    by_address = (attempts.filter(attempt_time__gte=now - user_cool_off).values("ip_address")
                  .annotate(n=Sum("failures_since_start")).values_list("n", flat=True))
    everywhere = sum(min(n, pair_limit) for n in by_address)  # one address never counts more than its own limit
    pair = Standing(pair_limit - here, pair_limit, _minutes(pair_cool_off), everywhere=False)
    user = Standing(user_limit - everywhere, user_limit, _minutes(user_cool_off), everywhere=True)
    # The nearer lock; where both hold (or are as near), the longer one, which is what the user waits for.
    return min(pair, user, key=lambda s: (max(s.remaining, 0), -s.minutes))


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler, locking at either limit (`standing`)."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        return settings.AXES_FAILURE_LIMIT - standing(request, credentials).remaining
