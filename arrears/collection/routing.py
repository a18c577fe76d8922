"""Which role works which task: the one place that routes a task by its kind and channel.

A legal review is the legal team's (it carries no phone script and reaches no owner); the calls,
visits and follow-ups are the collector's; a limitation warning concerns both. Managers and
admins supervise every list. Pages ask `visible_task_q(user)` and never test a channel themselves.
"""

from __future__ import annotations

from django.db.models import Q

from arrears.collection.models import Channel, TaskKind
from arrears.core import roles

# By channel first (a ladder step's channel says who acts), then by kind; the default is the collector.
ROLES_BY_CHANNEL = {Channel.LEGAL_REVIEW: frozenset({roles.LEGAL})}
ROLES_BY_KIND = {TaskKind.LIMITATION_WARNING: frozenset({roles.COLLECTOR, roles.LEGAL})}
DEFAULT_ROLES = frozenset({roles.COLLECTOR})
# These roles see every task of their scope.
SUPERVISORS = frozenset({roles.MANAGER, roles.ADMIN})


def roles_for(*, kind: str, channel: str) -> frozenset[str]:
    """The roles a task of this kind on this channel belongs to."""
    if channel in ROLES_BY_CHANNEL:
        return ROLES_BY_CHANNEL[channel]
    return ROLES_BY_KIND.get(kind, DEFAULT_ROLES)


def user_roles(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    if not hasattr(user, "_task_roles"):
        user._task_roles = set(user.groups.values_list("name", flat=True))
    return user._task_roles


def visible_task_q(user) -> Q:
    """A filter on tasks: those routed to one of the user's roles (all of them for supervisors)."""
    held = user_roles(user)
    if user.is_superuser or held & SUPERVISORS:
        return Q()
    q = Q(pk__in=[])
    for channel, owners in ROLES_BY_CHANNEL.items():
        if held & owners:
            q |= Q(channel=channel)
    routed_channels = list(ROLES_BY_CHANNEL)
    for kind, owners in ROLES_BY_KIND.items():
        if held & owners:
            q |= Q(kind=kind) & ~Q(channel__in=routed_channels)
    if held & DEFAULT_ROLES:
        q |= ~Q(channel__in=routed_channels) & ~Q(kind__in=list(ROLES_BY_KIND))
    return q
