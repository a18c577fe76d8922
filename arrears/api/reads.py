"""Read endpoints: the same selectors and the same scope as the staff pages, in JSON."""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from arrears.api import schemas as s
from arrears.api.pagination import page
from arrears.api.problems import Problem, forbidden, not_found
from arrears.collection.models import Case, CaseStatus, Task, TaskStatus, Tier
from arrears.collection.selectors import persona_of
from arrears.core.money import format_money
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import (
    Contact,
    ContactKind,
    Owner,
    Ownership,
    mask_id_number,
    mask_name,
    mask_phone,
)
from arrears.insights import dashboard, kpis, snapshots
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger.models import Charge, Payment

router = Router()
EARLIEST = date(2000, 1, 1)


def _require(user, *perms: str) -> None:
    if not all(user.has_perm(perm) for perm in perms):
        raise forbidden()


def _sees_amounts(user) -> None:
    """Amounts need the ledger permission, as on every page: never the front desk (§3)."""
    _require(user, "ledger.view_charge")


def _day(value: date | None, *, field: str) -> date:
    today = timezone.localdate()
    if value is None:
        return today
    if not EARLIEST <= value <= today:
        raise Problem(422, "as_of", _("%(field)s 须在 2000-01-01 到今天之间") % {"field": field})
    return value


class ListQuery(Schema):
    limit: int = Field(50, ge=1, le=200, description="rows per page (1–200)")
    cursor: str | None = Field(None, max_length=40, description="the next_cursor of the previous page")


def _listed(rows, cursor):
    return {"items": rows, "next_cursor": cursor}


# ---- communities and units -----------------------------------------------------------------------


@router.get("/communities", response=s.page_of(s.CommunityOut), tags=["estate"], summary="Communities in scope")
def communities(request, q: Query[ListQuery]):
    found, cursor = page(estate_selectors.communities_visible_to(request.user).select_related("company"),
                         cursor=q.cursor, limit=q.limit)
    return _listed([{"id": c.pk, "name": c.name, "company": c.company.name, "address": c.address} for c in found], cursor)


def _unit(unit) -> dict:
    return {"id": unit.pk, "community_id": unit.community_id, "building_id": unit.building_id,
            "building": unit.building.name, "entrance": unit.entrance, "room": unit.room, "label": unit.label,
            "floor_area": format_money(unit.floor_area), "status": unit.status}


class UnitQuery(ListQuery):
    community_id: s.Id | None = None
    building_id: s.Id | None = None


@router.get("/units", response=s.page_of(s.UnitOut), tags=["estate"], summary="Units in scope")
def units(request, q: Query[UnitQuery]):
    found = estate_selectors.units_visible_to(request.user).select_related("building")
    if q.community_id is not None:
        found = found.filter(community_id=q.community_id)
    if q.building_id is not None:
        found = found.filter(building_id=q.building_id)
    rows, cursor = page(found, cursor=q.cursor, limit=q.limit)
    return _listed([_unit(u) for u in rows], cursor)


def _unit_in_scope(user, pk: int):
    return get_object_or_404(estate_selectors.units_visible_to(user).select_related("building", "community"), pk=pk)


@router.get("/units/{unit_id}", response=s.UnitOut, tags=["estate"], summary="One unit")
def unit(request, unit_id: s.Id):
    return _unit(_unit_in_scope(request.user, unit_id))


# ---- owners: masked by role, as on the pages -----------------------------------------------------


class OwnerQuery(ListQuery):
    community_id: s.Id | None = None
    unit_id: s.Id | None = None


def _contact(contact: Contact, full: bool) -> dict:
    value = contact.value
    if not full and contact.kind in (ContactKind.MOBILE, ContactKind.LANDLINE):
        value = mask_phone(value)
    elif not full:
        value = mask_name(value) if contact.kind != ContactKind.EMAIL else value[:1] + "***"
    return {"kind": contact.kind, "value": value, "relation": contact.relation,
            "may_hear_of_debt": contact.may_disclose_debt}


@router.get("/owners", response=s.page_of(s.OwnerOut), tags=["estate"],
            summary="Owners of units in scope (names and numbers masked by role)")
def owners(request, q: Query[OwnerQuery]):
    user = request.user
    visible = estate_selectors.units_visible_to(user)
    if q.unit_id is not None:
        visible = visible.filter(pk=q.unit_id)
    if q.community_id is not None:
        visible = visible.filter(community_id=q.community_id)
    owned = Ownership.objects.filter(owner_id=OuterRef("pk"), unit__in=visible)
    found = Owner.objects.filter(Exists(owned)).prefetch_related(
        Prefetch("contacts", queryset=Contact.objects.order_by("pk")),
        Prefetch("ownerships", queryset=Ownership.objects.filter(unit__in=estate_selectors.units_visible_to(user))
                 .order_by("unit_id"), to_attr="visible_ownerships"),
    )
    rows, cursor = page(found, cursor=q.cursor, limit=q.limit)
    names = user.has_perm("estate.view_owner")
    full = user.has_perm("estate.view_contact")
    return _listed([{
        "id": o.pk, "community_id": o.community_id, "kind": o.kind, "name": o.name if names else mask_name(o.name),
        "id_number": mask_id_number(o.id_number), "do_not_contact": o.do_not_contact,
        "unit_ids": sorted({own.unit_id for own in o.visible_ownerships}),
        "contacts": [_contact(c, full) for c in o.contacts.all()] if names else [],
    } for o in rows], cursor)


# ---- the ledger -----------------------------------------------------------------------------------


class ChargeQuery(ListQuery):
    community_id: s.Id | None = None
    unit_id: s.Id | None = None
    owner_id: s.Id | None = None
    open: bool | None = None


@router.get("/charges", response=s.page_of(s.ChargeOut), tags=["ledger"], summary="Charges (bills)")
def charges(request, q: Query[ChargeQuery]):
    _sees_amounts(request.user)
    found = Charge.objects.filter(estate_selectors.scope_q(request.user)).select_related("charge_type")
    for name in ("community_id", "unit_id", "owner_id"):
        if getattr(q, name) is not None:
            found = found.filter(**{name: getattr(q, name)})
    if q.open is not None:
        found = found.filter(settled_on__isnull=q.open)
    rows, cursor = page(found, cursor=q.cursor, limit=q.limit)
    return _listed([{
        "id": c.pk, "community_id": c.community_id, "unit_id": c.unit_id, "owner_id": c.owner_id,
        "charge_type": c.charge_type.code, "period_start": c.period_start, "period_end": c.period_end,
        "due_date": c.due_date, "amount": format_money(c.amount), "settled_on": c.settled_on,
    } for c in rows], cursor)


class PaymentQuery(ListQuery):
    community_id: s.Id | None = None
    unit_id: s.Id | None = None
    owner_id: s.Id | None = None
    paid_from: date | None = None
    paid_to: date | None = None


def payment_dict(p: Payment) -> dict:
    return {"id": p.pk, "community_id": p.community_id, "unit_id": p.unit_id, "owner_id": p.owner_id,
            "amount": format_money(p.amount), "paid_on": p.paid_on, "method": p.method, "reference": p.reference,
            "receipt_number": p.receipt_number, "unallocated": format_money(p.unallocated)}


@router.get("/payments", response=s.page_of(s.PaymentOut), tags=["ledger"], summary="Payments received")
def payments(request, q: Query[PaymentQuery]):
    _sees_amounts(request.user)
    _require(request.user, "ledger.view_payment")
    found = Payment.objects.filter(estate_selectors.scope_q(request.user))
    for name in ("community_id", "unit_id", "owner_id"):
        if getattr(q, name) is not None:
            found = found.filter(**{name: getattr(q, name)})
    if q.paid_from is not None:
        found = found.filter(paid_on__gte=q.paid_from)
    if q.paid_to is not None:
        found = found.filter(paid_on__lte=q.paid_to)
    rows, cursor = page(found, cursor=q.cursor, limit=q.limit)
    return _listed([payment_dict(p) for p in rows], cursor)


@router.get("/units/{unit_id}/statement", response=s.StatementOut, tags=["ledger"],
            summary="A unit's statement as of a date (principal, late fees, prepaid, each open charge)")
def statement(request, unit_id: s.Id, as_of: date | None = None):
    _sees_amounts(request.user)
    day = _day(as_of, field="as_of")
    found = _unit_in_scope(request.user, unit_id)
    st = ledger_selectors.unit_statement(found.pk, day)
    return {
        "unit_id": found.pk, "as_of": day, "owner": st.owner, "principal": format_money(st.principal),
        "late_fee": format_money(st.late_fee), "total": format_money(st.total), "prepaid": format_money(st.prepaid),
        "oldest_due": st.oldest_due, "days_overdue": st.days_overdue,
        "charges": [{"type": c.charge_type, "period_start": c.period_start, "period_end": c.period_end, "due": c.due,
                     "amount": format_money(c.amount), "paid": format_money(c.paid), "waived": format_money(c.waived),
                     "outstanding": format_money(c.outstanding), "late_fee": format_money(c.late_fee),
                     "days_overdue": c.days_overdue} for c in st.charges],
    }


# ---- collection ---------------------------------------------------------------------------------


def _cases_visible(user):
    _require(user, "collection.view_case")
    _sees_amounts(user)
    open_tasks = Task.objects.filter(status=TaskStatus.OPEN).order_by("due_on", "-priority", "pk")
    return (Case.objects.filter(estate_selectors.scope_q(user))
            .select_related("unit__building", "owner__collection_profile")
            .prefetch_related(Prefetch("tasks", queryset=open_tasks, to_attr="open_tasks")))


def case_dict(case: Case) -> dict:
    return {
        "id": case.pk, "community_id": case.community_id, "unit_id": case.unit_id, "unit": case.unit.label,
        "owner_id": case.owner_id, "owner": case.owner.name, "status": case.status, "opened_on": case.opened_on,
        "closed_on": case.closed_on, "close_reason": case.close_reason, "as_of": case.as_of,
        "principal": format_money(case.principal), "late_fee": format_money(case.late_fee), "days_overdue": case.days_overdue,
        "months_overdue": case.months_overdue, "bucket": case.bucket, "tier": case.tier, "persona": persona_of(case),
        "situations": case.situation_list, "techniques": case.technique_list,
        "limitation_deadline": case.limitation_deadline, "legal_hold": case.legal_hold,
        "quiet_until": case.quiet_until, "collector_id": case.collector_id,
        "next_steps": [{"task_id": t.pk, "kind": t.kind, "channel": t.channel, "title": t.title, "due_on": t.due_on,
                        "technique": t.technique} for t in getattr(case, "open_tasks", [])],
    }


class CaseQuery(ListQuery):
    status: CaseStatus | None = CaseStatus.OPEN
    community_id: s.Id | None = None
    unit_id: s.Id | None = None
    tier: Tier | None = None
    collector_id: s.Id | None = None


@router.get("/cases", response=s.page_of(s.CaseOut), tags=["collection"],
            summary="Collection cases with tier, persona, next steps and limitation deadline")
def cases(request, q: Query[CaseQuery]):
    found = _cases_visible(request.user)
    if q.status is not None:
        found = found.filter(status=q.status)
    for name in ("community_id", "unit_id", "tier", "collector_id"):
        if getattr(q, name) is not None:
            found = found.filter(**{name: getattr(q, name)})
    rows, cursor = page(found, cursor=q.cursor, limit=q.limit)
    return _listed([case_dict(c) for c in rows], cursor)


@router.get("/cases/{case_id}", response=s.CaseOut, tags=["collection"], summary="One case")
def case(request, case_id: s.Id):
    return case_dict(get_object_or_404(_cases_visible(request.user), pk=case_id))


class TaskQuery(ListQuery):
    status: TaskStatus | None = TaskStatus.OPEN
    community_id: s.Id | None = None
    case_id: s.Id | None = None
    mine: bool = False
    due_by: date | None = None


@router.get("/tasks", response=s.page_of(s.TaskOut), tags=["collection"], summary="Collection tasks")
def tasks(request, q: Query[TaskQuery]):
    _require(request.user, "collection.view_task")
    found = Task.objects.filter(estate_selectors.scope_q(request.user, building="case__unit__building_id"))
    if q.status is not None:
        found = found.filter(status=q.status)
    if q.community_id is not None:
        found = found.filter(community_id=q.community_id)
    if q.case_id is not None:
        found = found.filter(case_id=q.case_id)
    if q.mine:
        found = found.filter(assignee=request.user)
    if q.due_by is not None:
        found = found.filter(due_on__lte=q.due_by)
    rows, cursor = page(found, cursor=q.cursor, limit=q.limit)
    return _listed([{
        "id": t.pk, "community_id": t.community_id, "case_id": t.case_id, "kind": t.kind, "channel": t.channel,
        "title": t.title, "due_on": t.due_on, "priority": t.priority, "status": t.status, "assignee_id": t.assignee_id,
        "technique": t.technique, "script_code": t.script_code,
    } for t in rows], cursor)


# ---- KPIs -----------------------------------------------------------------------------------------


@router.get("/kpis", response=s.KpiOut, tags=["insights"],
            summary="The dashboard's KPIs as of a date, over the buildings in scope (one community when given)")
def kpi(request, as_of: date | None = None, community_id: s.Id | None = None):
    _require(request.user, "collection.view_case")
    _sees_amounts(request.user)
    day = _day(as_of or snapshots.last_complete_day(timezone.localdate()), field="as_of")
    buildings = dashboard.visible_buildings(request.user, community=community_id)
    if community_id is not None and not buildings:
        raise not_found()
    whole_company = request.user.is_superuser and community_id is None
    figures = snapshots.current(None if whole_company else [b.pk for b in buildings], as_of=day)
    summed = sum(figures.values(), kpis.Figures())
    return {"as_of": day, "community_id": community_id, **summed.as_dict()}
