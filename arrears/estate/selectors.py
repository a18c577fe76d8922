"""Reads of the portfolio, always through a staff member's scope (StaffScope rows)."""

from __future__ import annotations

import re
from datetime import date

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from arrears.core.text import normalise_key
from arrears.estate.models import (
    Community,
    Contact,
    ContactKind,
    Ownership,
    StaffScope,
    Unit,
    Vehicle,
)


def units_visible_to(user) -> QuerySet[Unit]:
    """Units the user may see: superusers all; others those of their communities and buildings.

    One query, no matter how many scope rows: a scope row with a blank building grants the whole
    community, one with a building grants that building only. No scope row means nothing.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Unit.objects.none()
    if user.is_superuser:
        return Unit.objects.all()
    scopes = StaffScope.objects.filter(user_id=user.pk)
    whole_community = scopes.filter(community_id=OuterRef("community_id"), building__isnull=True)
    one_building = scopes.filter(building_id=OuterRef("building_id"))
    return Unit.objects.filter(Exists(whole_community) | Exists(one_building))


def scope_q(user, *, community: str = "community_id", building: str = "unit__building_id") -> Q:
    """The user's scope as a filter on any row carrying a community and a building (through its unit).

    The same grant as `units_visible_to`, read in one small query and written as plain id lists on
    the row's own columns: a list of cases or tasks is narrowed by its community's index first,
    never by walking every unit of the company (the planner cannot see through a subquery)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    communities, buildings = scope_grants(user)
    if not communities and not buildings:
        return Q(pk__in=[])
    parts = [Q(**{f"{community}__in": sorted(communities)})] if communities else []
    if buildings:
        parts.append(Q(**{f"{building}__in": sorted(buildings)}))
    return parts[0] if len(parts) == 1 else parts[0] | parts[1]


def communities_visible_to(user) -> QuerySet[Community]:
    """Communities in which the user sees at least one building."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Community.objects.none()
    if user.is_superuser:
        return Community.objects.all()
    return Community.objects.filter(pk__in=StaffScope.objects.filter(user_id=user.pk).values("community_id"))


def scope_grants(user) -> tuple[set[int], set[int]]:
    """The user's StaffScope rows as (whole communities, single buildings): what units_visible_to grants."""
    communities, buildings = set(), set()
    for community_id, building_id in StaffScope.objects.filter(user_id=user.pk).values_list("community_id", "building_id"):
        if building_id is None:
            communities.add(community_id)
        else:
            buildings.add(building_id)
    return communities, buildings


def has_partial_scope(user) -> bool:
    """Whether any of the user's scope rows is narrower than a whole community."""
    if user.is_superuser:
        return False
    return StaffScope.objects.filter(user_id=user.pk, building__isnull=False).exists()


# "3栋1201", "3栋2单元1201", "3-1201", "3-2-1201", "3#1201", "3号楼1201"
_ADDRESS = re.compile(
    r"^(?P<building>[0-9A-Za-z\u4e00-\u9fff]+?)(?:栋|幢|号楼|#|-)"
    r"(?:(?P<entrance>[0-9A-Za-z]+)(?:单元|-))?"
    r"(?P<room>[0-9A-Za-z]+)室?$"
)


_SEPARATORS = re.compile(r"[\s/\\\u2010-\u2015\u2212\u30fc]+")


def _after(typed: str, count: int) -> str:
    """What was typed after its first `count` characters other than spaces (the community's name)."""
    for index, char in enumerate(typed):
        if count == 0:
            return typed[index:]
        if not char.isspace():
            count -= 1
    return ""


def _building_names(raw: str) -> set[str]:
    return {raw, f"{raw}栋", f"{raw}幢", f"{raw}号楼", f"{raw}#"}


def _entrance_names(raw: str) -> set[str]:
    return {raw, f"{raw}单元"}


def _room_spellings(text: str) -> set[str]:
    """A room as typed and in either case ("a1201", "A1201"): an `IN` the room index answers, unlike iexact."""
    return {text, text.upper(), text.lower()}


def _community_prefix(user, text: str) -> tuple[int | None, str]:
    """Split "锦绣华庭10栋2504" into the community (one the user sees) and the rest, as every page writes a unit.

    The longest visible community name that starts the text wins; a name alone (nothing after it)
    is not a unit query and is left as typed (an owner may share it). One small query: names only.
    """
    candidates = [(name, pk) for name, pk in communities_visible_to(user).values_list("name", "pk")
                  if text.startswith(re.sub(r"\s+", "", name)) and len(text) > len(re.sub(r"\s+", "", name))]
    if not candidates:
        return None, text
    name, pk = max(candidates, key=lambda item: len(item[0]))
    return pk, text[len(re.sub(r"\s+", "", name)):]


def search_units(user, query: str, *, today: date, current_owners_only: bool = False) -> QuerySet[Unit]:
    """Units in the user's scope matching a room ("锦绣华庭 3栋1201", "3栋1201", "3-1201", "1201"), owner
    name or surname, phone's last 4 or plate.

    Matches on owners look at every owner the unit has had (a past owner may still owe), or with
    `current_owners_only` (the desk) at today's owners only; the phone match is on the last digits of mobile and landline contacts. Address first, then name.
    The query is normalised as the keys are (fullwidth "１２０１", a pasted zero-width space).
    """
    units = units_visible_to(user)
    typed = normalise_key(query).strip()
    text = re.sub(r"\s+", "", typed)
    if not text:
        return units.none()
    whole = text
    community_id, text = _community_prefix(user, text)
    if community_id is not None:
        units = units.filter(community_id=community_id)
    conditions = Q(room__in=_room_spellings(text))
    address = _ADDRESS.match(text)
    if address is None:
        # "10 2504", "10/2504", "10—2504": a space, slash or dash of any width between the parts reads as "-"
        address = _ADDRESS.match(_SEPARATORS.sub("-", _after(typed, len(whole) - len(text))).strip("-"))
    if address:
        found = Q(building__name__in=_building_names(address["building"])) & Q(room__in=_room_spellings(address["room"]))
        if address["entrance"]:
            found &= Q(entrance__in=_entrance_names(address["entrance"]))
        conditions |= found
    holders = Ownership.objects.filter(unit_id=OuterRef("pk"))
    if current_owners_only:
        # The desk: a past owner seen at the gate must not find the unit (and its owner's reminder) by name or phone.
        holders = holders.filter(start__lte=today).filter(Q(end__isnull=True) | Q(end__gte=today))
    owner_name = holders.filter(owner__name__icontains=text)
    conditions |= Exists(owner_name)
    if text.isdigit() and 4 <= len(text) <= 11:
        held = Q(owner__ownerships__unit_id=OuterRef("pk"))
        if current_owners_only:
            held &= Q(owner__ownerships__start__lte=today) & (
                Q(owner__ownerships__end__isnull=True) | Q(owner__ownerships__end__gte=today))
        phones = Contact.objects.filter(
            held, kind__in=[ContactKind.MOBILE, ContactKind.LANDLINE], value__endswith=text,
        )
        conditions |= Exists(phones)
    if len(text) >= 3:
        conditions |= Exists(Vehicle.objects.filter(unit_id=OuterRef("pk"), plate__icontains=text))
    return (
        units.filter(conditions)
        .select_related("community", "building")
        .order_by("community__name", "building__sort_key", "sort_key", "pk")
    )


def current_ownerships(unit_ids, *, today: date) -> dict[int, list[Ownership]]:
    """Ownerships holding each unit today, owners and their contacts loaded (3 queries in all)."""
    rows = (
        Ownership.objects.filter(unit_id__in=list(unit_ids), start__lte=today)
        .filter(Q(end__isnull=True) | Q(end__gte=today))
        .select_related("owner")
        .prefetch_related(Prefetch("owner__contacts", queryset=Contact.objects.order_by("relation", "kind", "pk")))
        .order_by("unit_id", "start", "pk")
    )
    found: dict[int, list[Ownership]] = {}
    for ownership in rows:
        found.setdefault(ownership.unit_id, []).append(ownership)
    return found


def unit_detail(unit: Unit) -> dict:
    """Ownership history, contacts and vehicles of one unit in a fixed number of queries."""
    ownerships = list(
        Ownership.objects.filter(unit_id=unit.pk)
        .select_related("owner")
        .prefetch_related(Prefetch("owner__contacts", queryset=Contact.objects.order_by("relation", "kind", "pk")))
        .order_by("-start", "-pk")
    )
    vehicles = list(Vehicle.objects.filter(unit_id=unit.pk).order_by("plate"))
    return {"ownerships": ownerships, "vehicles": vehicles}


def company_name_of(user) -> str | None:
    """The one company whose communities the user sees, or None (superuser, none, or several)."""
    if user.is_superuser:
        return None
    names = set(communities_visible_to(user).values_list("company__name", flat=True))
    return names.pop() if len(names) == 1 else None
