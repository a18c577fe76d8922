from django import template

from arrears.staff import access

register = template.Library()


@register.simple_tag
def role_labels(user) -> str:
    return "、".join(access.role_labels(user))


@register.simple_tag
def can_import(user) -> bool:
    return access.can_import(user)
