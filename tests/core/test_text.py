"""normalise_key: lookalikes collapse to one text (no database)."""

import pytest

from arrears.core.text import is_normal_key, normalise_key


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("101", "101"),
        ("１０１", "101"),  # fullwidth digits
        ("101\u200b", "101"),  # zero-width space
        ("\ufeff锦绣华庭", "锦绣华庭"),  # byte-order mark
        ("锦绣\u200d华庭", "锦绣华庭"),  # zero-width joiner
        ("锦绣\u00a0华庭", "锦绣 华庭"),  # non-breaking space
        ("锦绣\u3000\u3000华庭", "锦绣 华庭"),  # ideographic spaces
        ("  10栋 \t", "10栋"),
        ("\u202e101", "101"),  # right-to-left override
        ("Ａ座", "A座"),
        ("", ""),
        (None, ""),
    ],
)
def test_it_stores_one_text_for_what_looks_the_same(typed, stored):
    assert normalise_key(typed) == stored


def test_it_tells_a_normal_key_from_a_lookalike():
    assert is_normal_key("10栋")
    assert not is_normal_key("10栋\u200b")
    assert is_normal_key(None)


@pytest.mark.parametrize(
    "invisible",
    [
        "\u034f",  # combining grapheme joiner (Mn)
        "\ufe0f",  # variation selector-16 (Mn)
        "\ufe00",  # variation selector-1 (Mn)
        "\U000e0100",  # variation selector-17 (Mn)
        "\u180b",  # Mongolian free variation selector (Mn)
        "\u17b4",  # Khmer inherent vowel (Mn, not drawn)
        "\u3164",  # Hangul filler (Lo, drawn as nothing)
        "\uffa0",  # halfwidth Hangul filler
        "\u115f",  # Hangul choseong filler
        "\u2800",  # Braille blank (So, drawn as a space)
    ],
)
def test_it_drops_invisible_characters_that_are_not_format_characters(invisible):
    # Default-ignorable code points outside Cf/Cc display as nothing: "101" + one of them is "101".
    assert normalise_key(f"101{invisible}") == "101"
    assert normalise_key(f"阳光{invisible}花园") in {"阳光花园", "阳光 花园"}
    assert not is_normal_key(f"10栋{invisible}")
