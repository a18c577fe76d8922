from django import template

from arrears.core import roles
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
    if user is None:
        return "—"
    return roles.real_name(user) or user.get_username()
