"""`yuan`, the one filter every page shows money with (a template builtin: no `{% load %}` needed)."""

from django import template

from arrears.core.money import format_yuan

register = template.Library()


@register.filter
def yuan(value, style: str = "") -> str:
    """{{ amount|yuan }} → ¥1,568,379.74; {{ amount|yuan:"bare" }} → 1,568,379.74 (the ¥ is in the text or
    the column heading). Nothing for no amount (None or "")."""
    if value is None or value == "":
        return ""
    return format_yuan(value, sign=style != "bare")
