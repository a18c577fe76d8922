from django import template

from arrears.core.templatetags.money import yuan
from arrears.portal import receipts

register = template.Library()

# The house's one money filter (a builtin already); registered here too so `{% load portal %}` never shadows it.
register.filter("yuan", yuan)
register.filter("unit_label", receipts.unit_label)
