from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.translation import pgettext

from arrears.collection import guard
from arrears.collection import selectors as collection_selectors
from arrears.core import i18n, roles
from arrears.notices import texts
from arrears.staff import access

register = template.Library()


@register.simple_tag
def role_labels(user) -> str:
    return "、".join(access.role_labels(user))


@register.simple_tag
def can_import(user) -> bool:
    return access.can_import(user)


@register.filter
def staff_label(user) -> str:
    """A colleague as staff pages show them: the real name (李明), else the login name; "—" for nobody."""
    return roles.staff_label(user)
# -- one language per page: stored texts and codes as the viewer reads them --------------------


@register.filter
def percent(rate) -> str:
    """A rate kept as a fraction, as people read it ("0.1234" → 12.34%, half up); — when there is nothing to measure."""
    if rate is None or rate == "":
        return "—"
    return f"{(Decimal(rate) * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


@register.filter
def shown(text) -> str:
    """A stored Chinese text (a default step name, a msgid) or an older "中文 / english" pair, in the page's language."""
    return i18n.shown(str(text)) if text else text


@register.filter
def situation_label(number: int) -> str:
    """A seed situation's number as words (4 → 房屋有整改问题): a list never shows a bare code."""
    return collection_selectors.situation_label(int(number))


@register.filter
def template_label(code: str) -> str:
    """A notice template's code as staff call it (thanks_payment → 缴费致谢)."""
    return texts.template_label(code)


@register.filter
def provider_label(name: str) -> str:
    return texts.provider_label(name)


@register.filter
def guard_rule_label(rule: str) -> str:
    return str(dict(guard.GuardRule.choices).get(rule, rule)) if rule else rule


# Punctuation between a label and a value, in the page's language: "：" and "、" are Chinese.
@register.simple_tag
def colon() -> str:
    return pgettext("punctuation", "：")


@register.simple_tag
def comma() -> str:
    return pgettext("punctuation", "，")


@register.simple_tag
def sep() -> str:
    """Between the items of a list (names, communities)."""
    return pgettext("punctuation", "、")


@register.simple_tag
def lparen() -> str:
    return pgettext("punctuation", "（")


@register.simple_tag
def rparen() -> str:
    return pgettext("punctuation", "）")


