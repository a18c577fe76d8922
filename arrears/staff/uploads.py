"""Uploaded import files: kept under MEDIA_ROOT/imports/ with a random name held in the session.

Between the dry run and the import the same bytes must be used, so the file is stored once and
only its random token travels (in the server-side session), never a path from the browser.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path

from django.conf import settings

SESSION_KEY = "staff_import_upload"
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep(request, upload) -> dict:
    """Store the upload under a random name and remember it in the session, replacing any older one."""
    discard(request)
    token = secrets.token_hex(16)
    path = _folder() / f"{token}.xlsx"
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
            digest.update(chunk)
    kept = {"token": token, "name": upload.name, "digest": digest.hexdigest()}
    request.session[SESSION_KEY] = kept
    return kept


def current(request) -> dict | None:
    kept = request.session.get(SESSION_KEY)
    if not kept or not _TOKEN.match(kept.get("token", "")) or not path_of(kept).exists():
        return None
    return kept


def last_token(request) -> str:
    """The token of the file last uploaded in this session, even once it is spent (imported)."""
    token = (request.session.get(SESSION_KEY) or {}).get("token", "")
    return token if _TOKEN.match(token) else ""


def path_of(kept: dict) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / f"{kept['token']}.xlsx"


def declared_size(request) -> int:
    """The request body's declared length, read before the body is: an oversize upload is refused unread."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def discard(request) -> None:
    kept = request.session.pop(SESSION_KEY, None)
    if kept and _TOKEN.match(kept.get("token", "")):
        path_of(kept).unlink(missing_ok=True)
