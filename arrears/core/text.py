"""Keys people type: one normal form, so that what looks the same is the same.

A community, building, entrance, room, name or reference is matched by its text. Text pasted
from a chat, a PDF or a phone keyboard carries invisible characters (zero-width spaces, the
byte-order mark, bidi controls), non-breaking spaces and fullwidth digits; kept as typed, "１０１"
and "101\u200b" become second units that display exactly like "101". Every write path stores
`normalise_key(text)`, and every lookup normalises what it looks for.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalise_key(value: str | None) -> str:
    """NFKC, without format/control characters, whitespace runs as one space, trimmed."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or unicodedata.category(char) not in ("Cf", "Cc")
    )
    return _SPACES.sub(" ", text).strip()


def is_normal_key(value: str | None) -> bool:
    return value is None or value == normalise_key(value)
