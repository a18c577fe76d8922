from decimal import Decimal

from django import template

from arrears.portal import receipts

register = template.Library()


@register.filter
def yuan(value) -> str:
    """¥1,234.50: money as owners read it, always two decimals."""
    if value is None or value == "":
        return ""
    return f"¥{Decimal(value):,.2f}"


register.filter("unit_label", receipts.unit_label)
