"""Creating, checking and revoking API tokens: plain functions the page, the admin and the CLI share."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arrears.api.models import ApiToken
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import record

PREFIX = "arr_"
MAX_DAYS = 366
# last_used_at is written at most this often: a token polled every second must not write every second.
TOUCH_EVERY = timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Issued:
    token: ApiToken
    raw: str  # shown once, never stored


def default_days() -> int:
    return int(getattr(settings, "ARREARS_API_TOKEN_DAYS", 90))


def may_manage_all(user) -> bool:
    """Admins list and revoke every user's tokens (a leaver's integration, a leaked token)."""
    return user.is_superuser or user.groups.filter(name=roles.ADMIN).exists()


def issue(*, user, name: str, days: int | None = None, by=None) -> Issued:
    """A new token for `user`, valid `days` days (1–366); its text is returned once."""
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise DomainError("请填写令牌用途（最多 60 字）", "name the token's use (at most 60 characters)", code="name")
    if any(unicodedata.category(char) == "Cc" for char in name):  # a NUL cannot be stored in PostgreSQL
        raise DomainError("令牌用途不能包含控制字符", "the token's use cannot contain control characters", code="name")
    days = default_days() if days is None else days
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise DomainError(f"有效天数须在 1 到 {MAX_DAYS} 之间", f"days must be between 1 and {MAX_DAYS}", code="days")
    if not user.is_active:
        raise DomainError("停用的用户不能创建令牌", "an inactive user cannot have a token", code="inactive")
    raw = PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name, prefix=raw[:12], digest=digest(raw), created_at=now,
                                        created_by=by if getattr(by, "pk", None) else None,
                                        expires_at=now + timedelta(days=days))
        record(actor=by or user, action="api.token.issue", token=token.pk, user=user.pk, name=name,
               expires=token.expires_at.isoformat())
    return Issued(token, raw)


def revoke(*, token: ApiToken, by) -> ApiToken:
    """Revoke now; revoking twice keeps the first time and who did it."""
    if by.pk != token.user_id and not may_manage_all(by):
        raise DomainError("只能吊销自己的令牌", "you can revoke only your own tokens", code="forbidden")
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now(),
                                                                                      revoked_by=by)
        if updated:
            record(actor=by, action="api.token.revoke", token=token.pk, user=token.user_id)
    token.refresh_from_db()
    return token


def visible_tokens(user):
    tokens = ApiToken.objects.select_related("user", "revoked_by").order_by("-created_at", "-id")
    return tokens if may_manage_all(user) else tokens.filter(user=user)


def authenticate(raw: str) -> ApiToken | None:
    """The live token with this text and an active user, or None (the caller says 401 either way)."""
    if not raw or not raw.startswith(PREFIX) or len(raw) > 100:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=digest(raw)).first()
    now = timezone.now()
    if token is None or not token.is_live(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
