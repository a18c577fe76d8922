"""Where a form sends the user back to: only a path on this site, never another host."""

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str) -> str:
    """The form's `next` when it is a path on this site; otherwise `fallback` (no open redirect).

    `//evil.example/` and `/\\evil.example/` start with a slash yet leave the site, so a
    prefix test is not enough: Django's own check decides.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure(),
    ):
        return target
    return fallback
