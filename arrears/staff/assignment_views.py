"""The manager's 楼栋催收员 page: who works which building, assign, remove, rebalance. Thin over collection.assignments."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from arrears.collection import assignments
from arrears.core import roles
from arrears.core.errors import DomainError


def _require_manager(user) -> None:
    if not user.has_perm(assignments.PERMISSION):
        raise PermissionDenied


@login_required
def collectors(request):
    """Every building in the manager's scope: open cases, overdue principal, its collectors and the forms."""
    _require_manager(request.user)
    rows = assignments.buildings_for(request.user)
    choices = {}  # one query per community, not per building
    for row in rows:
        community = row.building.community_id
        if community not in choices:
            choices[community] = list(assignments.collector_choices(row.building))
        row.available = [user for user in choices[community] if user not in row.collectors]
    return render(request, "staff/collectors.html", {"rows": rows})


@login_required
@require_POST
def collectors_change(request, pk):
    """One action on one building: assign (one or more collectors), remove, or rebalance."""
    _require_manager(request.user)
    building = get_object_or_404(assignments.buildings_in_scope(request.user), pk=pk)
    action = request.POST.get("action")
    try:
        if action == "assign":
            ids = [int(v) for v in request.POST.getlist("user") if v.isascii() and v.isdigit()]
            users = list(assignments.collector_choices(building).filter(pk__in=ids))
            if len(users) != len(set(ids)):
                raise DomainError("所选员工不是本小区的催收员", "a chosen user is not a collector of this community", code="user")
            added = assignments.assign_collectors(building=building, collectors=users, staff=request.user,
                                                  grant_scope=request.POST.get("grant_scope") == "1")
            messages.success(request, _("已分配 %(count)s 名催收员到 %(building)s") % {"count": added, "building": building.name})
        elif action == "remove":
            wanted = request.POST.get("user", "")
            # a garbage id (a forged or mangled form) is not found, never a server error
            user = get_object_or_404(get_user_model(), pk=int(wanted) if wanted.isascii() and wanted.isdigit() else 0,
                                     pk__in=building.collectors.values("user_id"))
            moved = assignments.remove_collector(building=building, collector=user, staff=request.user)
            messages.success(request, _("已移除 %(name)s，%(count)s 个案件已改派") % {"name": roles.staff_label(user), "count": moved})
        elif action == "rebalance":
            moved = assignments.rebalance_building(building=building, staff=request.user)
            messages.success(request, _("%(building)s 已重新平均分配：改派 %(count)s 个案件") % {"building": building.name, "count": moved})
        else:
            raise DomainError("未知操作", "unknown action", code="action")
    except DomainError as error:
        messages.error(request, error.localized)
    return redirect("staff:collectors")
