"""One language per page: messages kept as a Chinese msgid and parameters, translated when shown.

A message that is stored (an import report, a reason written on a record) is kept as the msgid
(Chinese, the house's source language) and its parameters, and goes through gettext when a page
shows it, so it reads in the viewer's language, not the writer's. Rows written before that kept
both languages in one string ("中文 / english"); `one_language` shows the viewer's half of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.utils.translation import get_language, gettext

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# Where an English half may start: " / " before a Latin letter, a quote or a bracket.
_HALF = re.compile(r"\s?/ (?=[A-Za-z\"'(])")


def english() -> bool:
    return (get_language() or "").startswith("en")


def one_language(text: str) -> str:
    """The viewer's half of a "中文 / english" text; a text in one language is returned as it is.

    The English half starts at the first " / " whose left side holds Chinese: a data value
    such as "现金 / 银行转账" has Chinese on both sides and stays whole.
    """
    if not text:
        return text
    for match in _HALF.finditer(text):
        left = text[:match.start()]
        if CJK.search(left):
            return text[match.end():] if english() else left
    return text


def translate(msgid: str, params: Mapping | None = None) -> str:
    """A stored message in the active language: gettext of the msgid, then its parameters."""
    text = gettext(msgid) if msgid else ""
    if params:
        try:
            text = text % dict(params)
        except (KeyError, ValueError, TypeError):  # a translation that lost a placeholder: the source still reads
            text = msgid % dict(params)
    return one_language(text)


def shown(text: str) -> str:
    """A reason stored as text (a msgid without parameters, or an older "中文 / english" pair), in the active language."""
    return one_language(gettext(text)) if text else text
