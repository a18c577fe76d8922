"""The API token page: a staff member creates, lists and revokes their tokens; admins see everyone's."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from arrears.api import tokens
from arrears.core.errors import DomainError

SHOWN_ONCE = "api_token_shown_once"
SHOWN_FOR = 120  # seconds: the redirect's GET follows at once


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request):
    if request.method == "POST":
        raw_days = request.POST.get("days", "").strip()
        try:
            days = int(raw_days) if raw_days.isascii() and raw_days.isdigit() else None
            if raw_days and days is None:
                raise DomainError("有效天数须为整数", "days must be a whole number", code="days")
            issued = tokens.issue(user=request.user, name=request.POST.get("name", ""), days=days, by=request.user)
        except DomainError as error:
            messages.error(request, error.localized)
        else:
            messages.success(request, _("已创建令牌“%(name)s”，请立即复制保存：离开本页后无法再次查看。") % {"name": issued.token.name})
            # Shown once, after the redirect: a refresh of the result page cannot make a second token.
            # It waits in a signed browser-session cookie for this page only, never in the session:
            # sessions live in the database, and a copy of it must let nobody call the API.
            answer = redirect("api_tokens")
            answer.set_signed_cookie(SHOWN_ONCE, issued.raw, salt=_salt(request), path=request.path, httponly=True,
                                     secure=request.is_secure(), samesite="Strict")
            return answer
        return redirect("api_tokens")
    new_token = request.get_signed_cookie(SHOWN_ONCE, default=None, salt=_salt(request), max_age=SHOWN_FOR)
    answer = render(request, "api/tokens.html", {
        "tokens": tokens.visible_tokens(request.user)[:200],
        "all_users": tokens.may_manage_all(request.user),
        "new_token": new_token,
        "default_days": tokens.default_days(),
        "max_days": tokens.MAX_DAYS,
        "now": timezone.now(),
    })
    if SHOWN_ONCE in request.COOKIES:
        answer.delete_cookie(SHOWN_ONCE, path=request.path, samesite="Strict")
    return answer


def _salt(request) -> str:
    """Bound to the user: a cookie set for one login is read by no other."""
    return f"{SHOWN_ONCE}:{request.user.pk}"


@login_required
@require_POST
def revoke(request, pk):
    token = get_object_or_404(tokens.visible_tokens(request.user), pk=pk)
    try:
        tokens.revoke(token=token, by=request.user)
    except DomainError as error:
        messages.error(request, error.localized)
    else:
        messages.success(request, _("已吊销令牌 %(prefix)s…") % {"prefix": token.prefix})
    return redirect("api_tokens")
