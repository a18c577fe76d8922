"""The admin sees what the staff site sees: a user's rows are those of the communities in their scope.

Every ModelAdmin registered on the site gets its queryset narrowed for anyone but a superuser
(as `estate.selectors.units_visible_to` does on the staff site): rows of a community the user's
StaffScope grants whole. A user scoped to one building sees no community's rows in the admin,
whose lists are not cut by building; the staff site is where they work. Rows that belong to no
community (company-wide templates, the holiday arrangement) are left to the model permissions.

Its search box normalises what it looks for as the keys are stored (`core.text`): a fullwidth
"１０１" or a pasted zero-width space finds "101".
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q

from arrears.core.text import normalise_key
from arrears.estate.models import StaffScope

# Models whose community is reached through another row.
THROUGH = {"collection.LadderStep": "policy__community_id", "portal.PaymentNotification": "order__community_id"}


def whole_communities(user) -> list[int]:
    return list(StaffScope.objects.filter(user_id=user.pk, building__isnull=True).values_list("community_id", flat=True))


def community_filter(model, communities: list[int]) -> Q | None:
    """The filter that keeps a model's rows within `communities`, or None when it has no community."""
    label = model._meta.label
    if label == "estate.Community":
        return Q(pk__in=communities)
    if label in THROUGH:
        return Q(**{f"{THROUGH[label]}__in": communities})
    try:
        field = model._meta.get_field("community")
    except FieldDoesNotExist:
        try:
            field = model._meta.get_field("community_id")  # a plain column (the audit trail)
        except FieldDoesNotExist:
            return None
    keep = Q(**{f"{field.attname}__in": communities})
    return keep | Q(**{f"{field.attname}__isnull": True}) if field.null else keep


class ScopedQuerysetMixin:
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        user = request.user
        if user.is_superuser:
            return queryset
        keep = community_filter(self.model, whole_communities(user))
        return queryset if keep is None else queryset.filter(keep)

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, normalise_key(search_term))


def scope_site(site=admin.site) -> None:
    """Give every registered ModelAdmin the scoped queryset (once)."""
    for model_admin in site._registry.values():
        cls = type(model_admin)
        if not issubclass(cls, ScopedQuerysetMixin):
            model_admin.__class__ = type(f"Scoped{cls.__name__}", (ScopedQuerysetMixin, cls), {"__module__": cls.__module__})
