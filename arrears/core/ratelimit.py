"""A fixed-window rate limit on the shared cache: counts per (scope, client address, window).

Used on the owner portal's public endpoints, which anyone holding a link (or guessing one) can
call: statement pages, creating payment orders and the providers' notifications.
"""

from __future__ import annotations

import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.template.loader import render_to_string


def client_address(request) -> str:
    header = getattr(settings, "PORTAL_CLIENT_IP_HEADER", "")
    if header and request.META.get(header):
        return request.META[header].split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def hit(scope: str, who: str, *, limit: int, window: int, now: float | None = None) -> bool:
    """Count one request; False when `who` has already made `limit` in this window."""
    slot = int((now if now is not None else time.time()) // window)
    key = f"ratelimit:{scope}:{who}:{slot}"
    if cache.add(key, 1, timeout=window + 1):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 1)
        return True
    return count <= limit


def rate_limited(scope: str):
    """Refuse with 429 and a Chinese page once the client passes PORTAL_RATE_LIMITS[scope]."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            limit, window = settings.PORTAL_RATE_LIMITS[scope]
            if not hit(scope, client_address(request), limit=limit, window=window):
                body = render_to_string("portal/limited.html", {"window": window}, request=request)
                response = HttpResponse(body, status=429)
                response["Retry-After"] = str(window)
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
