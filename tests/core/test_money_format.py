"""One way to show money: ¥1,568,379.74 in both languages, Decimal in, never float."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from arrears.core.money import MoneyError, format_yuan


@pytest.mark.parametrize("value, shown", [
    (Decimal("1568379.74"), "¥1,568,379.74"),
    (Decimal("999.99"), "¥999.99"),
    (Decimal("1000"), "¥1,000.00"),
    (Decimal("0"), "¥0.00"),
    (Decimal("0.5"), "¥0.50"),
    (Decimal("-1234.5"), "-¥1,234.50"),
    (Decimal("-0.01"), "-¥0.01"),
    (Decimal("12345678901.20"), "¥12,345,678,901.20"),
    (Decimal("2.345"), "¥2.35"),  # a computed amount: half up to 分, the house rule
    (1200, "¥1,200.00"),
    ("3500.1", "¥3,500.10"),
])
def test_it_groups_thousands_with_two_decimals(value, shown):
    assert format_yuan(value) == shown


def test_it_leaves_the_sign_out_when_asked():
    assert format_yuan(Decimal("1568379.74"), sign=False) == "1,568,379.74"
    assert format_yuan(Decimal("-50"), sign=False) == "-50.00"


def test_it_refuses_a_float():
    with pytest.raises(MoneyError):
        format_yuan(1568379.74)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_filter_groups_in_every_language(language):
    # zh-hans's own number format groups nothing (THOUSAND_SEPARATOR ""): the filter does not follow it
    template = Template('{{ a|yuan }} {{ a|yuan:"bare" }} {{ b|yuan }} [{{ c|yuan }}]')
    with translation.override(language):
        shown = template.render(Context({"a": Decimal("1568379.74"), "b": Decimal("-20.5"), "c": None}))
    assert shown == "¥1,568,379.74 1,568,379.74 -¥20.50 []"


def test_portal_templates_that_load_their_library_use_the_same_filter():
    shown = Template("{% load portal %}{{ a|yuan }}").render(Context({"a": Decimal("20187.15")}))
    assert shown == "¥20,187.15"
