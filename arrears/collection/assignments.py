"""Who works which building: a manager assigns collectors to a building and rebalances its cases.

The daily run gives a case with no collector to the building's least-loaded collector
(`run._assign_collectors`); this module is the manager's hand on the same table
(`CollectorAssignment`). A rebalance spreads the building's open cases evenly among its
collectors *now*, moving as few cases as it can, so a collector keeps the owners they already
know; a second rebalance moves nothing. Moving a case moves its open tasks (legal work stays
with legal); the case's contacts, promises and letters keep the staff who made them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q, Sum

from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.core.money import ZERO
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Building, StaffScope

from .models import Case, CaseStatus, CollectorAssignment, Task, TaskStatus
from .run import LEGAL_CHANNELS

PERMISSION = "collection.change_collectorassignment"


# ----------------------------------------------------------------------------- rules


def even_spread(current: dict[int, int | None], collectors: list[int]) -> dict[int, int]:
    """The cases to move, case id → new collector, so that every collector holds ⌊n/k⌋ or ⌈n/k⌉.

    Fewest moves: a collector keeps their own cases up to their quota. The larger quotas go to
    whoever holds most now (ties: the lower user id), so an even spread is already a fixed point.
    Cases are taken and given in id order: the same input gives the same answer.
    """
    if not collectors:
        return {}
    collectors = sorted(set(collectors))
    total, count = len(current), len(collectors)
    held = defaultdict(list)
    for case_id in sorted(current):
        held[current[case_id]].append(case_id)
    by_load = sorted(collectors, key=lambda user_id: (-len(held[user_id]), user_id))
    quota = {user_id: total // count + (1 if rank < total % count else 0) for rank, user_id in enumerate(by_load)}
    loose = [case_id for owner, cases in held.items() if owner not in quota for case_id in cases]
    for user_id in collectors:
        loose.extend(held[user_id][quota[user_id]:])
    loose.sort()
    moves, position = {}, 0
    for user_id in collectors:
        for _ in range(quota[user_id] - min(len(held[user_id]), quota[user_id])):
            moves[loose[position]] = user_id
            position += 1
    return moves


# ----------------------------------------------------------------------------- reads


@dataclass
class BuildingRow:
    building: Building
    open_cases: int
    principal: Decimal
    unassigned: int
    collectors: list  # users


def buildings_for(user) -> list[BuildingRow]:
    """The buildings in the user's scope with their open cases, overdue principal and collectors (three queries)."""
    units = estate_selectors.units_visible_to(user)
    buildings = list(Building.objects.filter(pk__in=units.values("building_id")).select_related("community")
                     .order_by("community__name", "sort_key", "name"))
    figures = {
        row["unit__building_id"]: row for row in Case.objects.filter(status=CaseStatus.OPEN, unit__in=units)
        .values("unit__building_id").annotate(n=Count("pk"), principal=Sum("principal"),
                                               unassigned=Count("pk", filter=Q(collector__isnull=True))).order_by()
    }
    collectors = defaultdict(list)
    for assignment in CollectorAssignment.objects.filter(building__in=buildings).select_related("user").order_by("user__username"):
        collectors[assignment.building_id].append(assignment.user)
    rows = []
    for building in buildings:
        found = figures.get(building.pk, {})
        rows.append(BuildingRow(building=building, open_cases=found.get("n", 0), principal=found.get("principal") or ZERO,
                                unassigned=found.get("unassigned", 0), collectors=collectors[building.pk]))
    return rows


def buildings_in_scope(user):
    """Buildings the user sees: another community's building is not found (404), never refused with its name."""
    return Building.objects.filter(pk__in=estate_selectors.units_visible_to(user).values("building_id"))


def collector_choices(building: Building):
    """Active collectors with scope somewhere in the building's community, by user name."""
    return (get_user_model().objects.filter(is_active=True, groups__name=roles.COLLECTOR,
                                            scopes__community_id=building.community_id)
            .distinct().order_by("username"))


def _covers(user, building: Building) -> bool:
    return StaffScope.objects.filter(Q(building__isnull=True) | Q(building=building), user=user,
                                     community_id=building.community_id).exists()


def _check_manager(staff, building: Building) -> None:
    if not staff.has_perm(PERMISSION):
        raise DomainError("只有经理可以分配催收员", "only a manager may assign collectors", code="permission")
    if not buildings_in_scope(staff).filter(pk=building.pk).exists():
        raise DomainError("该楼栋不在您的管辖范围内", "this building is outside your scope", code="scope")


# ----------------------------------------------------------------------------- writes


def assign_collectors(*, building: Building, collectors: list, staff, grant_scope: bool = False) -> int:
    """Add collectors to a building, all or none; with `grant_scope` a collector of the community gets
    this building too. Returns how many were new (assigning one twice changes nothing)."""
    _check_manager(staff, building)
    if not collectors:
        raise DomainError("请选择催收员", "choose a collector", code="user")
    allowed = set(collector_choices(building).values_list("pk", flat=True))
    for collector in collectors:
        if collector.pk not in allowed:
            raise DomainError(f"{roles.staff_label(collector)} 不是本小区的催收员",
                              f"{roles.staff_label(collector)} is not a collector of this community", code="role")
        if not grant_scope and not _covers(collector, building):
            raise DomainError(f"{roles.staff_label(collector)} 无权查看{building.name}：请勾选“同时授予该楼栋查看权限”",
                              f"{roles.staff_label(collector)} cannot see {building.name}: tick 'also grant access to this building'",
                              code="scope")
    added = 0
    with transaction.atomic():
        for collector in collectors:
            if not _covers(collector, building):
                StaffScope.objects.get_or_create(user=collector, community_id=building.community_id, building=building)
                record(actor=staff, action="collection.scope_granted", community_id=building.community_id,
                       building=building.pk, user=collector.pk)
            _, created = CollectorAssignment.objects.get_or_create(
                building=building, user=collector, defaults={"community_id": building.community_id})
            if created:
                added += 1
                record(actor=staff, action="collection.collector_assigned", community_id=building.community_id,
                       building=building.pk, user=collector.pk)
    return added


def remove_collector(*, building: Building, collector, staff) -> int:
    """Take a collector off a building; their open cases there go to the others (or to nobody): the count moved."""
    _check_manager(staff, building)
    with transaction.atomic():
        deleted, _ = CollectorAssignment.objects.filter(building=building, user=collector).delete()
        if not deleted:
            return 0
        record(actor=staff, action="collection.collector_removed", community_id=building.community_id,
               building=building.pk, user=collector.pk)
        if CollectorAssignment.objects.filter(building=building).exists():
            return rebalance_building(building=building, staff=staff)
        cases = list(Case.objects.filter(status=CaseStatus.OPEN, unit__building=building, collector=collector)
                     .order_by("pk").select_for_update().values_list("pk", flat=True))
        Case.objects.filter(pk__in=cases).update(collector=None)
        Task.objects.filter(case_id__in=cases, status=TaskStatus.OPEN, assignee=collector).update(assignee=None)
        return len(cases)


def rebalance_building(*, building: Building, staff) -> int:
    """Spread the building's open cases evenly among its collectors now, in one transaction; the count moved."""
    _check_manager(staff, building)
    with transaction.atomic():
        # The rows this moves, locked in one order (the daily run assigns the same rows); the collectors are
        # read after the lock, so a removal committed while this waited is seen.
        current = dict(Case.objects.filter(status=CaseStatus.OPEN, unit__building=building).order_by("pk")
                       .select_for_update().values_list("pk", "collector_id"))
        collectors = list(CollectorAssignment.objects.filter(building=building).values_list("user_id", flat=True))
        if not collectors:
            raise DomainError(f"{building.name} 还没有催收员：请先分配", f"{building.name} has no collector yet: assign one first",
                              code="collectors")
        moves = even_spread(current, collectors)
        by_move = defaultdict(list)  # (from, to) → cases
        for case_id, user_id in moves.items():
            by_move[current[case_id], user_id].append(case_id)
        for (was, user_id), case_ids in by_move.items():
            Case.objects.filter(pk__in=case_ids).update(collector_id=user_id)
            # The case's work follows it: tasks its old collector held, or nobody did. Legal work stays
            # with legal, and a task a manager handed someone else stays with them.
            Task.objects.filter(Q(assignee__isnull=True) | Q(assignee_id=was), case_id__in=case_ids,
                                status=TaskStatus.OPEN).exclude(channel__in=LEGAL_CHANNELS).update(assignee_id=user_id)
        record(actor=staff, action="collection.rebalanced", community_id=building.community_id, building=building.pk,
               cases=len(current), moved=len(moves), collectors=sorted(collectors))
    return len(moves)
