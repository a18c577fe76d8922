"""The owner's pages, opened from a signed link: thin views over `statements`, `payments` and `requests`.

No login: the token is the key. Every page answers 404 for a bad, expired or revoked token (the
same answer, so a guesser learns nothing), sends no Referer (the token must not leak to a
provider's page) and is never cached.
"""

from __future__ import annotations

from functools import wraps

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from arrears.core.ratelimit import rate_limited
from arrears.portal import payments
from arrears.portal.statements import resolve_token


def owner_page(view):
    """Resolve the token (404 when it is not valid) and harden the response."""

    @wraps(view)
    def wrapped(request, token, *args, **kwargs):
        access = resolve_token(token)
        if access is None:
            response = render(request, "portal/invalid.html", status=404)
        else:
            response = view(request, access, token, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        add_never_cache_headers(response)
        return response

    return wrapped


def statement(request, token):
    raise Http404


def pay(request, token):
    raise Http404


def order(request, token, number):
    raise Http404


def receipt(request, token, number):
    raise Http404


def instalment(request, token):
    raise Http404


def complaint(request, token):
    raise Http404


def survey(request, token, number):
    raise Http404


def sandbox_pay(request, number):
    raise Http404


@csrf_exempt
@require_POST
@rate_limited("notify")
def notify(request, provider):
    """A provider's asynchronous notification: verified, matched and credited once (payments.handle_notification)."""
    from django.conf import settings

    if provider not in settings.PORTAL_PAYMENT_PROVIDERS:
        raise Http404
    handled = payments.handle_notification(provider_code=provider, headers=request.META | dict(request.headers),
                                           body=request.body)
    return HttpResponse(handled.ack.body, status=handled.ack.status, content_type=handled.ack.content_type)
