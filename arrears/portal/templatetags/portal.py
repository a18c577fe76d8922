from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def yuan(value) -> str:
    """¥1,234.50: money as owners read it, always two decimals."""
    if value is None or value == "":
        return ""
    return f"¥{Decimal(value):,.2f}"


@register.filter
def unit_label(unit) -> str:
    entrance = f"{unit.entrance}单元" if unit.entrance else ""
    return f"{unit.building.name}{entrance}{unit.room}"
