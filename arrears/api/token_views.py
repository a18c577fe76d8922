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
            # Shown once, after the redirect: a refresh of the result page cannot make a second token.
            request.session[SHOWN_ONCE] = issued.raw
            messages.success(request, _("已创建令牌“%(name)s”，请立即复制保存：离开本页后无法再次查看。") % {"name": issued.token.name})
        return redirect("api_tokens")
    return render(request, "api/tokens.html", {
        "tokens": tokens.visible_tokens(request.user)[:200],
        "all_users": tokens.may_manage_all(request.user),
        "new_token": request.session.pop(SHOWN_ONCE, None),
        "default_days": tokens.default_days(),
        "max_days": tokens.MAX_DAYS,
        "now": timezone.now(),
    })


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
