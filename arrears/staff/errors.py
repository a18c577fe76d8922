"""Error pages (handler400/403/404/500 and CSRF_FAILURE_VIEW): say what happened and the way back, in
the user's language (activated by the locale middleware before any view runs), in the look of the
site the user was on.

Staff get the staff site's look with a link home; owners (statement links, payment pages) get the
portal's look and nothing of the staff site. The pages render without the request's context: no
user, no session, no database, since any of them may be what failed.
"""

import logging

from django.http import HttpResponse
from django.template import loader
from django.urls import reverse
from django.utils.translation import get_language

from arrears.portal import urls as portal_urls

logger = logging.getLogger(__name__)

# The first path segment of every owner page ("s" for statement links, "pay" for payment returns).
OWNER_SEGMENTS = frozenset(str(p.pattern).split("/", 1)[0] for p in portal_urls.urlpatterns)


def is_owner_page(path: str) -> bool:
    return path.lstrip("/").split("/", 1)[0] in OWNER_SEGMENTS


def _render(request, status: int, staff_template: str, *, csrf: bool = False) -> HttpResponse:
    owner = request is not None and is_owner_page(request.path_info)
    template = "portal/error.html" if owner else staff_template
    context = {"status": status, "csrf": csrf, "home": _home(), "language": get_language()}
    # No request context: the pages need no user or session, and a 403 or 404 must not touch what broke a 500.
    body = loader.render_to_string(template, context)
    return HttpResponse(body, status=status)


def _home() -> str:
    try:
        return reverse("staff:home")
    except Exception:  # the URLconf itself may be what failed
        return "/"


def bad_request(request, exception=None):
    """A request Django would not read (too many fields, e.g. a thousand ticked cases; a malformed body)."""
    return _render(request, 400, "staff/errors/400.html")


def permission_denied(request, exception=None):
    return _render(request, 403, "staff/errors/403.html")


def page_not_found(request, exception=None):
    return _render(request, 404, "staff/errors/404.html")


def server_error(request=None):
    try:
        return _render(request, 500, "staff/errors/500.html")
    except Exception:
        # The styled page failed too (templates, static, translations): a plain page still answers.
        logger.exception("the styled 500 page failed")
        return HttpResponse("<!doctype html><title>500</title><h1>Server Error (500)</h1>", status=500)


def csrf_failure(request, reason=""):
    """The form's CSRF check failed: most often a page left open past its session, not an attack."""
    return _render(request, 403, "staff/errors/csrf.html", csrf=True)
