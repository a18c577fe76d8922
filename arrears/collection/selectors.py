"""Reads of the collection pages, always within the user's scope (`units_visible_to`).

Every list here is read in a fixed number of queries whatever its length: tasks, cases and
lookups load their owners, contacts, scripts and guard decisions in batches, never per row.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Case as SqlCase
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone, translation

from arrears.collection import guard, reports, routing, rules, summary
from arrears.collection import scripts as script_library
from arrears.collection.assess import Assessment
from arrears.collection.models import (
    ArrearsSummary,
    Case,
    CaseStatus,
    Channel,
    ContactAttempt,
    InstalmentPlan,
    Persona,
    PlanStatus,
    Promise,
    PromiseStatus,
    Script,
    Task,
    TaskKind,
    TaskStatus,
)
from arrears.collection.scripts import render_script
from arrears.core import roles
from arrears.core.money import ZERO, MoneyField
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import (
    Building,
    Contact,
    ContactKind,
    ContactRelation,
    Ownership,
    ServiceTicket,
    Unit,
    mask_name,
)
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger.models import Allocation, Charge, Component, Waiver, WaiverStatus

SUM_FIELD = MoneyField(max_digits=20)
PHONE_KINDS = (ContactKind.MOBILE, ContactKind.LANDLINE)
PROMISE_DAYS_DEFAULT = 7
AFTER_PAYMENT_KINDS = frozenset({TaskKind.SATISFACTION, TaskKind.COMPLAINT_FOLLOW_UP})


def _in_language(pair: tuple[str, str]) -> str:
    """rules keep labels as (Chinese, English): pick the one of the active language."""
    return pair[1] if (translation.get_language() or "").startswith("en") else pair[0]


def technique_label(number: int) -> str:
    return _in_language(rules.TECHNIQUE_LABELS[number])


def situation_label(number: int) -> str:
    return _in_language(rules.SITUATION_LABELS[number])


def script_context(case: Case, *, collector, today: date, show_amount: bool = True,
                   amounts: tuple[Decimal, Decimal] | None = None) -> dict:
    """What a script's placeholders are filled with for this case (amounts only when they may be shown).

    `amounts` (principal, late fee) read from the ledger today replace the run's snapshot, so the
    words say what the card and the statement say. The owner hears the name and number of the staff
    member responsible: the case's collector, else `collector` (who is calling); the service centre's
    phone when neither has an office phone."""
    unit = case.unit
    principal, late_fee = amounts if amounts is not None else (case.principal, case.late_fee)
    company = unit.community.company
    money = (lambda value: f"{value:.2f}") if show_amount else (lambda value: "")
    responsible = case.collector if case.collector_id else collector
    return {
        "owner_name": case.owner.name, "room": unit.label, "community": unit.community.name, "company": company.name,
        "company_phone": company.phone, "collector": _name(responsible) if responsible else roles.NAMELESS_STAFF,
        "collector_phone": roles.staff_phone(responsible, fallback=company.phone),
        "amount": money(principal + late_fee), "principal": money(principal), "late_fee": money(late_fee),
        "months": rules.months_words(rules.arrears_period(case.oldest_due, today)) if show_amount else "", "oldest_due": f"{case.oldest_due:%Y-%m-%d}" if show_amount else "",
        "due_date": f"{case.oldest_due:%Y-%m-%d}" if show_amount else "", "payment_link": "",
        "promise_date": f"{today + timedelta(days=PROMISE_DAYS_DEFAULT):%Y-%m-%d}",
    }


def _scripts_by(codes, techniques) -> tuple[dict[str, Script], dict[int, Script]]:
    """Active scripts by code and the first (non-neutral first) by technique, in one query."""
    rows = Script.objects.filter(active=True).filter(Q(code__in=set(codes)) | Q(technique__in=set(techniques)))
    by_code, by_technique = {}, {}
    for script in rows.order_by("neutral", "code"):
        by_code[script.code] = script
        if script.technique is not None:
            by_technique.setdefault(script.technique, script)
    return by_code, by_technique


def persona_of(case: Case) -> str:
    """The collector's judgement of the owner when set, else the system's suggestion."""
    profile = getattr(case.owner, "collection_profile", None)
    return (profile.persona if profile else "") or case.suggested_persona


def _service_open(today: date, unit_ref: str) -> Exists:
    """An open service ticket (repair, complaint, rectification) on the case's unit."""
    return Exists(ServiceTicket.objects.filter(unit_id=OuterRef(unit_ref), opened_on__lte=today, closed_on__isnull=True))


def persona_strategy(persona: str) -> str:
    """One line for the case: 理解型：分期 3–6 个月、减免违约金、提前缴费优惠."""
    if persona not in rules.PERSONA_STRATEGY:
        return ""
    separator = _in_language(("：", ": "))
    return f"{Persona(persona).label}{separator}{_in_language(rules.PERSONA_STRATEGY[persona])}"


def guard_request(case: Case, channel: str, at: datetime) -> guard.ContactRequest:
    return guard.ContactRequest(owner_id=case.owner_id, unit_id=case.unit_id, channel=channel, at=at, case_id=case.pk)


def _guard_decisions(pairs: list[tuple[Case, str]], at: datetime) -> list[guard.GuardDecision | None]:
    """One batch through the guard for the contact channels; None for internal ones."""
    wanted = [(i, guard_request(case, channel, at)) for i, (case, channel) in enumerate(pairs) if guard.channel_is_contact(channel)]
    decisions: list[guard.GuardDecision | None] = [None] * len(pairs)
    for (i, _), decision in zip(wanted, guard.check_many([request for _, request in wanted]), strict=True):
        decisions[i] = decision
    return decisions


# -- the workbench ------------------------------------------------------------------------------


@dataclass
class WorkbenchRow:
    task: Task
    case: Case
    phones: list[str]
    technique: int | None
    script: Script | None
    script_text: str
    promise_due_today: bool
    limitation_warning: int | None
    decision: guard.GuardDecision | None

    @property
    def technique_name(self) -> str:
        return technique_label(self.technique) if self.technique else ""


def open_tasks_for(user, *, today: date) -> QuerySet[Task]:
    """Open tasks due by today that are the user's or nobody's, routed to one of the user's roles
    (routing.py: a legal review is legal's, never a collector's), in scope, most urgent first."""
    scope = estate_selectors.scope_q(user, community="community_id", building="case__unit__building_id")
    return (
        Task.objects.filter(scope, status=TaskStatus.OPEN, due_on__lte=today)
        .filter(Q(assignee_id=user.pk) | Q(assignee__isnull=True)).filter(routing.visible_task_q(user))
        .order_by("-priority", "due_on", "pk")
    )


def workbench_rows(user, tasks, *, today: date, now: datetime,
                   amounts: dict[int, tuple[Decimal, Decimal]] | None = None) -> list[WorkbenchRow]:
    """Rows for a page of tasks: six queries (tasks, contacts, scripts, and the guard's batch).

    The script follows the owner's persona (scripts.script_code_for): the task's own script is
    the default."""
    promise_today = Promise.objects.filter(case_id=OuterRef("case_id"), status=PromiseStatus.OPEN, due_on=today)
    tasks = list(
        tasks.select_related("case__unit__building", "case__unit__community__company", "case__owner__collection_profile",
                             "case__collector__staff_profile")
        .annotate(promise_due_today=Exists(promise_today), service_open=_service_open(today, "case__unit_id"))
        .prefetch_related(Prefetch(
            "case__owner__contacts", to_attr="phones",
            queryset=Contact.objects.filter(relation=ContactRelation.SELF, kind__in=PHONE_KINDS).order_by("kind", "pk"),
        ))
    )
    # An internal step (a legal review) reaches no owner: no technique, no phone script. A call
    # after payment is no dunning call: it takes no technique from the case either.
    techniques = [
        None if not guard.channel_is_contact(task.channel) else
        task.technique if task.kind in AFTER_PAYMENT_KINDS else (task.technique or (task.case.technique_list or [None])[0])
        for task in tasks
    ]
    by_code, by_technique = _scripts_by([*(t.script_code for t in tasks if t.script_code), *script_library.CHOSEN_CODES],
                                        [t for t in techniques if t])
    decisions = _guard_decisions([(task.case, task.channel) for task in tasks], now)
    rows = []
    for task, technique, decision in zip(tasks, techniques, decisions, strict=True):
        code = script_library.script_code_for(technique=technique, channel=task.channel, persona=persona_of(task.case),
                                              service_open=task.service_open, default=task.script_code)
        script = by_code.get(code) if code else by_technique.get(technique)
        if not guard.channel_is_contact(task.channel):
            script = None
        if script is None and code in script_library.PERSONA_SCRIPTS.values():  # staff retired the persona's words
            script = by_code.get(task.script_code) or by_technique.get(technique)
        context = script_context(task.case, collector=user, today=today,
                                 amounts=(amounts or {}).get(task.case_id))
        text = render_script(script.body.strip(), context) if script else ""
        warning = rules.limitation_warning(task.case.limitation_deadline, today)
        if task.kind == TaskKind.LIMITATION_WARNING and warning is None:
            warning = 0
        rows.append(WorkbenchRow(task, task.case, [c.value for c in task.case.owner.phones], technique, script, text,
                                 task.promise_due_today, warning, decision))
    return rows


# -- the collector's day: one card per case -------------------------------------------------------

CARDS_PER_PAGE = 10  # a phone screenful or five: the building chips and the pager reach the rest
# Quick filters of the day's list: a name → a filter on the open tasks (today = the day asked).
QUICK_FILTERS = ("promise", "tier_a", "calls", "visits", "follow_up")
FOLLOW_UP_KINDS = (TaskKind.PROMISE_FOLLOW_UP, TaskKind.SATISFACTION, TaskKind.COMPLAINT_FOLLOW_UP, TaskKind.PLAN_FOLLOW_UP)


def _quick_q(quick: str, today: date) -> Q:
    if quick == "promise":
        return Q(Exists(Promise.objects.filter(case_id=OuterRef("case_id"), status=PromiseStatus.OPEN, due_on__lte=today)))
    if quick == "tier_a":
        return Q(case__tier="A")
    if quick == "calls":
        return Q(channel=Channel.CALL)
    if quick == "visits":
        return Q(channel=Channel.VISIT)
    if quick == "follow_up":
        return Q(kind__in=FOLLOW_UP_KINDS)
    return Q()


def case_amounts(cases: list[Case], *, today: date) -> dict[int, tuple[Decimal, Decimal]]:
    """(principal, late fee) owed today per case, from the ledger statement the unit page shows:
    the case owner's lines of the unit's statement, never the run's snapshot."""
    if not cases:
        return {}
    statements = {s.unit_id: s for s in ledger_selectors.statement(today, unit_ids=sorted({c.unit_id for c in cases}))}
    amounts = {}
    for case in cases:
        lines = [line for line in getattr(statements.get(case.unit_id), "charges", []) if line.owner_id == case.owner_id]
        amounts[case.pk] = (sum((line.outstanding for line in lines), ZERO), sum((line.late_fee for line in lines), ZERO))
    return amounts


@dataclass
class CaseCard:
    """A case and every step due on it today, with one set of amounts (principal + late fee = total)."""

    case: Case
    rows: list[WorkbenchRow]
    principal: Decimal
    late_fee: Decimal
    promise: Promise | None

    @property
    def total(self) -> Decimal:
        return self.principal + self.late_fee

    @property
    def lead(self) -> WorkbenchRow:
        return self.rows[0]

    @property
    def blocked_now(self) -> bool:
        """The guard forbids contacting the owner now: the card logs only a contact already made."""
        decision = self.lead.decision
        return decision is not None and not decision.allowed

    @property
    def is_satisfaction_call(self) -> bool:
        """The lead task is the follow-up after payment: the card asks for the owner's rating."""
        return self.lead.task.kind == TaskKind.SATISFACTION


@dataclass
class Workday:
    cards: list[CaseCard]
    page: object
    buildings: list[tuple[int, str, int]]  # (building id, "小区 楼栋", cases with work today)
    cases: int  # all cases with work today under the quick filter (every building)


def workday(user, *, today: date, now: datetime, building: int | None = None, quick: str = "",
            page_number=None, per_page: int = CARDS_PER_PAGE) -> Workday:
    """Today's work of a user: one card per case holding all its due tasks, the most urgent case
    first (its highest task priority, then its oldest due task), building counts for the chips.

    Reads a fixed number of queries whatever the page holds (counts, a page of cases, their tasks
    through `workbench_rows`, their open promises, and the ledger statement of their units).
    """
    tasks = open_tasks_for(user, today=today).filter(_quick_q(quick, today))
    counts = (tasks.order_by().values("case__unit__building_id", "case__unit__community__name", "case__unit__building__name")
              .annotate(n=Count("case_id", distinct=True))
              .order_by("case__unit__community__name", "case__unit__building__sort_key"))  # 2栋 before 10栋
    buildings = [(row["case__unit__building_id"], f"{row['case__unit__community__name']} {row['case__unit__building__name']}",
                  row["n"]) for row in counts]
    cases_total = sum(count for _, _, count in buildings)
    if building:
        tasks = tasks.filter(case__unit__building_id=building)
    ordered = (tasks.order_by().values("case_id").annotate(top=Max("priority"), first_due=Min("due_on"))
               .order_by("-top", "first_due", "case_id").values_list("case_id", flat=True))
    page = Paginator(ordered, per_page).get_page(page_number)
    case_ids = list(page.object_list)
    if not case_ids:
        return Workday([], page, buildings, cases_total)
    page_tasks = tasks.filter(case_id__in=case_ids).order_by("-priority", "due_on", "pk")
    cases = {task.case_id: task.case for task in page_tasks.select_related("case")}
    amounts = case_amounts(list(cases.values()), today=today)
    rows = workbench_rows(user, page_tasks, today=today, now=now, amounts=amounts)
    promises = {}
    for promise in Promise.objects.filter(case_id__in=case_ids, status=PromiseStatus.OPEN).order_by("due_on", "pk"):
        promises.setdefault(promise.case_id, promise)
    by_case: dict[int, list[WorkbenchRow]] = {}
    for row in rows:
        by_case.setdefault(row.task.case_id, []).append(row)
    cards = []
    for case_id in case_ids:
        case_rows = by_case.get(case_id)
        if case_rows:
            principal, late_fee = amounts[case_id]
            cards.append(CaseCard(case_rows[0].case, case_rows, principal, late_fee, promises.get(case_id)))
    return Workday(cards, page, buildings, cases_total)


def pending_approvals(user) -> dict:
    """Waivers asked for and instalment plans proposed in the user's scope, waiting for a decision."""
    units = estate_selectors.units_visible_to(user)
    waivers = Waiver.objects.filter(status=WaiverStatus.REQUESTED, charge__unit__in=units)
    plans = InstalmentPlan.objects.filter(status=PlanStatus.PROPOSED, case__unit__in=units)
    return {
        "waivers_qs": waivers, "plans_qs": plans,
        "waivers": list(waivers.select_related("charge__unit__community", "charge__unit__building", "charge__owner",
                                               "charge__charge_type", "requested_by").order_by("requested_on", "pk")[:200]),
        "plans": list(plans.select_related("case__unit__community", "case__unit__building", "case__owner", "created_by")
                      .prefetch_related("instalments").order_by("proposed_on", "pk")[:200]),
    }


# -- the case list ------------------------------------------------------------------------------

SORTS = {
    "principal": ("principal", "pk"), "-principal": ("-principal", "-pk"),
    "days": ("days_overdue", "pk"), "-days": ("-days_overdue", "-pk"),
    "tier": ("tier", "-principal", "pk"), "-tier": ("-tier", "principal", "-pk"),
    # by address, as people count: 小区, then 1栋, 2栋, … 10栋, then 1单元101, 1单元102, … 2单元101
    "unit": ("community__name", "unit__building__sort_key", "unit__sort_key", "pk"),
    "-unit": ("-community__name", "-unit__building__sort_key", "-unit__sort_key", "-pk"),
}
DEFAULT_SORT = "-principal"


NOT_RECORDED = "none"  # the reason or intent filter's value for owners whose profile does not say


def _profile_q(field: str, value: str) -> Q:
    if value == NOT_RECORDED:
        return Q(**{f"owner__collection_profile__{field}": ""}) | Q(owner__collection_profile__isnull=True)
    return Q(**{f"owner__collection_profile__{field}": value})


@dataclass
class CaseFilters:
    community: int | None = None
    building: int | None = None
    tier: str = ""
    bucket: str = ""
    persona: str = ""
    situation: int | None = None
    collector: int | None = None
    reason: str = ""  # a Reason, or NOT_RECORDED
    intent: str = ""  # an Intent, or NOT_RECORDED
    sort: str = DEFAULT_SORT

    def as_dict(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if value not in (None, "")}


def _situation_q(number: int) -> Q:
    text = str(number)
    return Q(situations=text) | Q(situations__startswith=f"{text},") | Q(situations__endswith=f",{text}") | Q(
        situations__contains=f",{text},")


def open_cases(user, filters: CaseFilters, *, today: date | None = None) -> QuerySet[Case]:
    """Open cases in the user's scope whose owner is in arrears today, filtered and sorted.

    A case is the daily run's snapshot: one whose owner paid up or had the debt waived since then
    is not in arrears and is not listed (the arrears list agrees with every other count). Only
    the owners the ledger moved for since the run are read again (`_cleared_since_run`)."""
    today = today or timezone.localdate()
    cases = Case.objects.filter(status=CaseStatus.OPEN).filter(estate_selectors.scope_q(user))
    if filters.community:
        cases = cases.filter(community_id=filters.community)
    if filters.building:
        cases = cases.filter(unit__building_id=filters.building)
    if filters.tier:
        cases = cases.filter(tier=filters.tier)
    if filters.bucket:
        cases = cases.filter(bucket=filters.bucket)
    if filters.persona:
        cases = cases.filter(owner__collection_profile__persona=filters.persona)
    if filters.situation:
        cases = cases.filter(_situation_q(filters.situation))
    if filters.collector:
        cases = cases.filter(collector_id=filters.collector)
    if filters.reason:
        cases = cases.filter(_profile_q("reason", filters.reason))
    if filters.intent:
        cases = cases.filter(_profile_q("intent", filters.intent))
    cases = cases.filter(_still_owing_q(cases, today))
    return cases.select_related(
        "unit__building", "community", "owner__collection_profile", "collector", "last_step",
    ).order_by(*SORTS.get(filters.sort, SORTS[DEFAULT_SORT]))


def _still_owing_q(cases: QuerySet[Case], today: date) -> Q:
    """Keep the cases whose owner still owes today.

    In a community the daily run summarised (summary.summary_marks), an open case was in arrears
    on the run's date and stays so until the ledger moves: only the owners with a principal
    allocation (a payment, credit or reversal) or an approved waiver after the run's marks are
    read again from the ledger. Elsewhere (no run yet, or a run dated after today) every case is
    checked against the ledger, as before."""
    community_ids = list(cases.order_by().values_list("community_id", flat=True).distinct())
    marks = {pk: mark for pk, mark in summary.summary_marks(community_ids).items() if mark[0] <= today}
    unmarked = Exists(ledger_selectors.overdue_principal_charges(today).filter(
        unit_id=OuterRef("unit_id"), owner_id=OuterRef("owner_id")))
    if not marks:
        return Q(unmarked)
    cleared = _cleared_since_run(cases.filter(community_id__in=list(marks)), marks, today)
    kept = Q(community_id__in=list(marks)) & ~Q(pk__in=cleared)
    if len(marks) == len(community_ids):
        return kept
    return kept | (~Q(community_id__in=list(marks)) & Q(unmarked))


def _cleared_since_run(cases: QuerySet[Case], marks: dict[int, tuple[date, int, int]], today: date) -> list[int]:
    """Ids of the cases whose owner the ledger shows no longer in arrears after a move since the run."""
    since = min(as_of for as_of, _, _ in marks.values())
    allocation_mark = min(mark for _, mark, _ in marks.values())
    waiver_mark = min(mark for _, _, mark in marks.values())
    ids = list(marks)
    moved = set(
        Allocation.objects.filter(pk__gt=allocation_mark, community_id__in=ids, component=Component.PRINCIPAL)
        .order_by().values_list("charge__unit_id", "charge__owner_id").distinct()
    ) | set(
        Waiver.objects.filter(Q(pk__gt=waiver_mark) | Q(decided_on__gte=since), community_id__in=ids,
                              component=Component.PRINCIPAL, status=WaiverStatus.APPROVED)
        .order_by().values_list("charge__unit_id", "charge__owner_id").distinct()
    )
    if not moved:
        return []
    units = sorted({unit_id for unit_id, _ in moved})
    owing = ledger_selectors.arrears_by_owner_unit(today, unit_ids=units)
    return [pk for pk, unit_id, owner_id in cases.filter(unit_id__in=units).values_list("pk", "unit_id", "owner_id")
            if (unit_id, owner_id) in moved and (unit_id, owner_id) not in owing]


def case_filter_choices(user, *, community: int | None = None) -> dict:
    """Communities, buildings and collectors to filter by, from the user's scope (three queries)."""
    scope = estate_selectors.scope_q(user)
    communities = list(estate_selectors.communities_visible_to(user).order_by("name").values_list("pk", "name"))
    # Buildings with a unit in scope, read from the building table (not from every unit's row).
    buildings = (Building.objects.filter(estate_selectors.scope_q(user, building="pk"))
                 .filter(Exists(Unit.objects.filter(building_id=OuterRef("pk"))))
                 .order_by("community__name", "sort_key").values_list("pk", "community__name", "name"))
    if community:
        buildings = buildings.filter(community_id=community)
    collector_ids = Case.objects.filter(scope, status=CaseStatus.OPEN, collector__isnull=False).values("collector_id")
    collectors = [(u.pk, roles.staff_label(u)) for u in get_user_model().objects.filter(pk__in=collector_ids).order_by("username")]
    return {
        "communities": communities,
        "buildings": [(pk, f"{community_name} {name}") for pk, community_name, name in buildings],
        "collectors": collectors,
    }


# -- arrears rates --------------------------------------------------------------------------------


@dataclass
class ArrearsRates:
    overdue_principal: Decimal
    base_principal: Decimal  # charges due this year up to today + overdue principal of earlier years
    units_owing: int
    units_owned: int
    month_due: Decimal
    month_paid: Decimal
    computed_at: datetime | None = None  # set when read from the daily run's summary: the page says "as of"

    @staticmethod
    def _ratio(part, whole) -> Decimal | None:
        return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1")) if whole else None

    @property
    def by_amount(self) -> Decimal | None:
        return self._ratio(self.overdue_principal, self.base_principal)

    @property
    def by_households(self) -> Decimal | None:
        return self._ratio(self.units_owing, self.units_owned)

    @property
    def month_collection(self) -> Decimal | None:
        return self._ratio(self.month_paid, self.month_due)


def _money_sum(expression) -> Coalesce:
    return Coalesce(Sum(expression, output_field=SUM_FIELD), Value(ZERO), output_field=SUM_FIELD)


def arrears_rates(user, *, today: date, community: int | None = None, building: int | None = None) -> ArrearsRates:
    """Arrears rate by amount and by households, and this month's collection rate, over the user's scope.

    Read from the daily run's per-building summary when it covers every community in scope and is
    not dated after today (two small queries); the rates then carry the time they were computed,
    which the page shows. Otherwise (no run yet) read live from the ledger (`live_arrears_rates`).
    """
    rows = ArrearsSummary.objects.filter(estate_selectors.scope_q(user, building="building_id"))
    communities = estate_selectors.communities_visible_to(user)
    if community:
        rows, communities = rows.filter(community_id=community), communities.filter(pk=community)
    if building:
        rows = rows.filter(building_id=building)
    totals = rows.aggregate(
        communities=Count("community_id", distinct=True), latest=Max("as_of"), computed_at=Min("computed_at"),
        **{name: Sum(name) for name in summary.FIGURES},
    )
    covered = totals["communities"] and totals["latest"] <= today and (
        building or totals["communities"] == communities.count())
    if not covered:
        return live_arrears_rates(user, today=today, community=community, building=building)
    return ArrearsRates(
        totals["overdue_principal"], totals["this_year_due"] + totals["earlier_overdue"], totals["units_owing"],
        totals["units_owned"], totals["month_due"], totals["month_paid"], computed_at=totals["computed_at"],
    )


def live_arrears_rates(user, *, today: date, community: int | None = None, building: int | None = None) -> ArrearsRates:
    """Arrears rate by amount and by households, and this month's collection rate, in three queries.

    Read from the ledger as of today (not from the case snapshots), over the user's scope:
    overdue principal = charges due before today less principal paid and waived by today.
    Charges settled before today drop out by the `settled_on` hint, so the cost follows the open
    charges and this year's, not the years of history.
    """
    units = estate_selectors.units_visible_to(user)
    if community:
        units = units.filter(community_id=community)
    if building:
        units = units.filter(building_id=building)
    year_start, month_start = date(today.year, 1, 1), today.replace(day=1)
    month_end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    paid = Allocation.objects.filter(charge_id=OuterRef("pk"), component=Component.PRINCIPAL, value_date__lte=today)
    waived = Waiver.objects.filter(charge_id=OuterRef("pk"), component=Component.PRINCIPAL, status=WaiverStatus.APPROVED,
                                   decided_on__lte=today)
    charges = (
        Charge.objects.filter(unit__in=units, due_date__lte=month_end)
        .filter(Q(settled_on__isnull=True) | Q(settled_on__gt=today) | Q(due_date__gte=year_start))
        .annotate(paid=ledger_selectors._sum_subquery(paid, F("amount")),
                  waived=ledger_selectors._sum_subquery(waived, F("amount")))
    )
    left = F("amount") - F("paid") - F("waived")
    figures = charges.aggregate(
        overdue=_money_sum(SqlCase(When(due_date__lt=today, then=left), default=Value(ZERO), output_field=SUM_FIELD)),
        earlier=_money_sum(SqlCase(When(due_date__lt=year_start, then=left), default=Value(ZERO), output_field=SUM_FIELD)),
        this_year=_money_sum(SqlCase(When(due_date__gte=year_start, due_date__lte=today, then=F("amount")), default=Value(ZERO),
                                   output_field=SUM_FIELD)),
        month_due=_money_sum(SqlCase(When(due_date__gte=month_start, then=F("amount")), default=Value(ZERO), output_field=SUM_FIELD)),
        month_paid=_money_sum(SqlCase(When(due_date__gte=month_start, then=F("paid")), default=Value(ZERO), output_field=SUM_FIELD)),
    )
    # Households in arrears: the ledger's one definition, the same count as the home page's.
    owing = ledger_selectors.units_in_arrears(today, units=units).count()
    owned = (
        Ownership.objects.filter(unit__in=units, start__lte=today).filter(Q(end__isnull=True) | Q(end__gte=today))
        .values("unit_id").distinct().count()
    )
    return ArrearsRates(figures["overdue"], figures["this_year"] + figures["earlier"], owing, owned, figures["month_due"],
                        figures["month_paid"])


# -- the front desk -------------------------------------------------------------------------------

DESK_LIMIT = 20


@dataclass
class DeskRow:
    unit: object
    owners: list[str]  # masked names
    # The ladder flagged an open case of the unit for ⑦ 全民总动员 and the guard allows it now; for
    # every other unit the desk learns nothing of arrears (DESIGN.md §2 ⑦, 个人信息保护法).
    remind: bool = False
    amount: Decimal | None = None  # on a reminder row, for users who may see amounts
    script_text: str = ""
    case_id: int | None = None  # on a reminder row: the case a reminder in person is recorded on


def _name(user) -> str:
    """What an owner is told a staff member is called: never a login name (roles.staff_name)."""
    return roles.staff_name(user)


def _desk_reminders(units, owner_ids: dict[int, set[int]], now: datetime) -> dict[int, Case]:
    """Per unit, the flagged case the front desk may remind its owner of now (first by case id)."""
    flagged = list(Case.objects.filter(unit_id__in=[unit.pk for unit in units], status=CaseStatus.OPEN,
                                       front_desk_flag=True).select_related("collector", "owner").order_by("pk"))
    flagged = [case for case in flagged if case.owner_id in owner_ids.get(case.unit_id, set())]
    decisions = guard.check_many([
        guard.ContactRequest(owner_id=case.owner_id, unit_id=case.unit_id, channel=Channel.FRONT_DESK_FLAG, at=now,
                             case_id=case.pk)
        for case in flagged
    ])
    allowed = {}
    for case, decision in zip(flagged, decisions, strict=True):
        if decision.allowed:
            allowed.setdefault(case.unit_id, case)
    return allowed


def desk_lookup(user, query: str, *, now: datetime, show_amount: bool, collector_fallback: str = "") -> list[DeskRow]:
    """Units matching a room, plate, name or phone's last 4, with only what a front desk may know.

    A unit's row asks for a polite reminder only when the ladder flagged its case for ⑦ and the
    guard allows the front-desk reminder now (not for an owner who asked not to be contacted, nor
    while every overdue charge is disputed), and the ledger still shows money owed today. Every
    other row says nothing about arrears. The ledger is read only for the rows that remind.
    """
    today = timezone.localdate(now)
    units = list(estate_selectors.search_units(user, query, today=today, current_owners_only=True).select_related(
        "community__company")[:DESK_LIMIT])
    if not units:
        return []
    ownerships = estate_selectors.current_ownerships([unit.pk for unit in units], today=today)
    owners_of = {unit.pk: [o.owner for o in ownerships.get(unit.pk, [])] for unit in units}
    cases = _desk_reminders(units, {pk: {owner.pk for owner in owners} for pk, owners in owners_of.items()}, now)
    owed = {}
    if cases:
        # Only the case's owner in arrears (overdue principal, not a fee still to fall due) is reminded,
        # of their own debt: a seller who still owes is not the buyer's to be reminded of at the gate.
        owing = ledger_selectors.arrears_by_owner_unit(today, unit_ids=list(cases))
        owing_units = [unit_id for unit_id, case in cases.items() if (unit_id, case.owner_id) in owing]
        for line in ledger_selectors.charge_lines(today, unit_ids=owing_units) if owing_units else []:
            if line.owner_id == cases[line.unit_id].owner_id:
                owed[line.unit_id] = owed.get(line.unit_id, ZERO) + line.outstanding + line.late_fee
    script = Script.objects.filter(code="front_desk_polite", active=True).first() if owed else None
    rows = []
    for unit in units:
        row = DeskRow(unit, [mask_name(owner.name) for owner in owners_of[unit.pk]])
        case = cases.get(unit.pk)
        if case is not None and unit.pk in owed:
            row.remind, row.amount, row.case_id = True, owed[unit.pk] if show_amount else None, case.pk
            if script is not None:
                row.script_text = render_script(script.body.strip(), {
                    # said aloud: a masked name ("邓**") is for the desk's eyes, never for the owner's ears
                    "owner_name": "", "room": unit.label, "community": unit.community.name,
                    "company": unit.community.company.name, "company_phone": unit.community.company.phone,
                    "collector": _name(case.collector) if case.collector else collector_fallback,
                    "amount": f"{owed[unit.pk]:.2f}" if show_amount else "",
                })
        rows.append(row)
    return rows


# -- the unit page --------------------------------------------------------------------------------


def _assessment(case: Case, today: date) -> Assessment:
    """The case snapshot as an assessment, rather than a fresh assessment of the whole community."""
    profile = getattr(case.owner, "collection_profile", None)
    return Assessment(
        community_id=case.community_id, unit_id=case.unit_id, owner_id=case.owner_id, principal=case.principal,
        late_fee=case.late_fee, oldest_due=case.oldest_due, days_overdue=(today - case.oldest_due).days,
        months=case.months_overdue, bucket=case.bucket, tier=case.tier, suggested_persona=case.suggested_persona,
        persona=profile.persona if profile else "", irritable=profile.irritable if profile else False,
    )


def _steps_shown(steps: list[dict]) -> list[dict]:
    rule_labels = dict(guard.GuardRule.choices)
    return [
        {"channel": Channel(step["channel"]).label, "due": date.fromisoformat(step["due"]), "allowed": step["allowed"],
         "blocked_by": rule_labels.get(step["blocked_by"], step["blocked_by"] or "")}
        for step in steps
    ]


def _next_steps_and_calls(cases: list[Case], today: date, now: datetime) -> tuple[dict[int, list[dict]], list]:
    """The ladder's next steps of each case with the guard's verdict on each (reports.next_steps_for),
    and the guard's verdict on calling each owner now, in one batch through the guard."""
    assessments = [_assessment(case, today) for case in cases]
    calls = [guard_request(case, Channel.CALL, now) for case in cases]
    steps, decisions = reports.next_steps_and_decisions(assessments, today, also=calls)
    return {case.pk: _steps_shown(steps.get(a.key, [])) for case, a in zip(cases, assessments, strict=True)}, decisions


@dataclass
class TimelineEntry:
    on: datetime | date
    kind: str  # attempt, promise, plan
    obj: object

    @property
    def sort_key(self):
        if isinstance(self.on, datetime):
            return (timezone.localtime(self.on).replace(tzinfo=None), self.obj.pk)
        return (datetime.combine(self.on, datetime.min.time()), self.obj.pk)


CLOSED_SHOWN_DAYS = 90  # a case closed this recently is still named on the unit page


def unit_collection(unit, *, user, today: date, now: datetime) -> dict:
    """The case section of a unit page: open cases with profile, situations, techniques, scripts,
    next steps and a timeline of attempts, promises and plans (a fixed number of queries)."""
    cases = list(
        Case.objects.filter(unit_id=unit.pk, status=CaseStatus.OPEN)
        .annotate(service_open=_service_open(today, "unit_id"))
        .select_related("owner__collection_profile", "unit__building", "unit__community__company", "last_step",
                        "collector__staff_profile")
        .prefetch_related(Prefetch("owner__contacts", queryset=Contact.objects.order_by("relation", "kind", "pk")))
        .order_by("pk")
    )
    techniques = {number for case in cases for number in case.technique_list}
    by_code, by_technique = _scripts_by(script_library.CHOSEN_CODES, techniques)
    next_steps, decisions = _next_steps_and_calls(cases, today, now)
    sections = []
    for case, decision in zip(cases, decisions, strict=True):
        context = script_context(case, collector=user, today=today)
        profile = getattr(case.owner, "collection_profile", None)
        persona = persona_of(case)
        # The run's snapshot decides which techniques; today's persona decides their order and words.
        ordered = rules.order_techniques(case.technique_list, persona=persona)
        codes = script_library.technique_script_codes(
            ordered, persona=persona, service_open=case.service_open,
            defaults={number: (script.code, script.channel) for number, script in by_technique.items()},
        )
        chosen = [by_code.get(code) if code else None for code in codes]
        sections.append({
            "case": case,
            "profile": profile,
            "suggested_persona": Persona(case.suggested_persona).label if case.suggested_persona else "",
            "strategy": persona_strategy(persona),
            "situations": [(number, situation_label(number)) for number in case.situation_list],
            "techniques": [
                (number, technique_label(number), script, render_script(script.body.strip(), context) if script else "")
                for number, script in zip(ordered, chosen, strict=True)
            ],
            "next_steps": next_steps[case.pk],
            "call_decision": decision,
            "promise_amount": case.principal,
            "promise_due": today + timedelta(days=PROMISE_DAYS_DEFAULT),
        })
    timeline = [
        TimelineEntry(a.at, "attempt", a)
        for a in ContactAttempt.objects.filter(unit_id=unit.pk).with_versions()
        .select_related("staff", "contact", "corrects").order_by("-at", "-pk")[:200]
    ]
    timeline += [TimelineEntry(p.made_on, "promise", p) for p in Promise.objects.filter(case__unit_id=unit.pk).order_by("-made_on", "-pk")[:100]]
    timeline += [
        TimelineEntry(p.proposed_on, "plan", p)
        for p in InstalmentPlan.objects.filter(case__unit_id=unit.pk).prefetch_related("instalments").order_by("-proposed_on", "-pk")[:50]
    ]
    timeline.sort(key=lambda e: e.sort_key, reverse=True)
    closed = list(Case.objects.filter(unit_id=unit.pk, status=CaseStatus.CLOSED, closed_on__gte=today - timedelta(days=CLOSED_SHOWN_DAYS))
                  .select_related("owner").order_by("-closed_on", "-pk")[:3])
    return {"cases": sections, "timeline": timeline, "closed": closed}
