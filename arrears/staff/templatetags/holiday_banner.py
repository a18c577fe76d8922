"""The banner that tells managers and admins a year's holiday arrangement is not yet confirmed."""

from django import template
from django.urls import reverse
from django.utils import timezone

from arrears.collection import guard
from arrears.core import roles
from arrears.staff import access

register = template.Library()

BANNER_ROLES = {roles.MANAGER, roles.ADMIN}


def sees_holiday_banner(user) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(BANNER_ROLES & set(access.role_names(user))))


@register.inclusion_tag("staff/_holiday_banner.html", takes_context=True)
def holiday_banner(context):
    """This year's and (from 1 December) next year's unconfirmed arrangements, for managers and admins only."""
    user = context.get("user")
    if user is None or not sees_holiday_banner(user):
        return {"years": []}
    years = guard.unconfirmed_years(timezone.localdate())
    return {"years": years, "admin_url": reverse("admin:collection_holidayarrangement_changelist")}
