"""Cursor pagination: a page is the rows after the last id the client saw, read by the primary key.

An offset walks every skipped row and shifts when rows are added; a cursor reads one index range
and is stable. The cursor is opaque to clients (base64 of the last id) and checked on the way in.
"""

from __future__ import annotations

import base64
import binascii

from django.utils.translation import gettext as _

from arrears.api.problems import Problem

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith("id:") or not text[3:].isdigit() or len(text) > 22 or int(text[3:]) >= 2**63:
        raise Problem(400, "cursor", _("分页游标无效：请使用上一页返回的 next_cursor"))
    return int(text[3:])


def page(queryset, *, cursor: str | None, limit: int | None) -> tuple[list, str | None]:
    """At most `limit` rows after the cursor, in id order, and the cursor of the next page (None at the end)."""
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise Problem(400, "limit", _("每页条数须在 1 到 %(max)s 之间") % {"max": MAX_LIMIT})
    rows = list(queryset.filter(pk__gt=decode(cursor)).order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode(rows[-1].pk) if more and rows else None
