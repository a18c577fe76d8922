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
# Unicode's Default_Ignorable_Code_Point: drawn as nothing. Most are format characters (Cf), but
# variation selectors, the combining grapheme joiner and the Hangul fillers are marks or letters,
# and "101" followed by one of them displays exactly as "101".
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
# Drawn as blank space without being whitespace to Python: counted as a space.
_BLANKS = re.compile("[\u2800]")


def normalise_key(value: str | None) -> str:
    """NFKC, without format/control/default-ignorable characters, blank runs as one space, trimmed."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = _BLANKS.sub(" ", _IGNORABLE.sub("", text))
    text = "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace() or unicodedata.category(char) not in ("Cf", "Cc")
    )
    return _SPACES.sub(" ", text).strip()


def is_normal_key(value: str | None) -> bool:
    return value is None or value == normalise_key(value)


_DIGIT_RUNS = re.compile(r"[0-9]+")
SORT_DIGITS = 10  # room and building numbers are far shorter; a longer run still sorts by its text


def natural_key(value: str | None) -> str:
    """Text that sorts as people count: "2栋" → "0000000002栋", so 2栋 comes before 10栋 in any ORDER BY.

    Each run of digits (after `normalise_key`, so fullwidth digits count) is zero-padded to
    SORT_DIGITS; letters are case-folded so "a座" and "B座" sort as A, B.
    """
    return _DIGIT_RUNS.sub(lambda run: run.group().zfill(SORT_DIGITS), normalise_key(value).casefold())
