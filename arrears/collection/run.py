"""The daily collection run: `arrears collect --date D` and the Celery task call `run_collection`.

For a date it opens, updates, closes and reopens cases; resolves promises and instalment plans;
fires the ladder steps that fall due (tasks for people, queued messages for the notices app);
raises limitation warnings. Idempotent: every row it creates has a natural key (a case per open
(unit, owner), a `CaseStep` per case and step, a `Task.key` per case, an `OutgoingMessage.key`),
so a second run for the same date finds everything done and changes nothing; payments recorded
between two runs are seen by the next one.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import (
    gettext_noop as N_,  # task titles are msgids, shown through gettext
)

from arrears.collection import marks, rules
from arrears.collection.assess import Assessment, assess, policies_by_community
from arrears.collection.defaults import ladder_rows
from arrears.collection.incentives import waive_late_fees
from arrears.collection.models import (
    MESSAGE_CHANNELS,
    Case,
    CaseStatus,
    CaseStep,
    Channel,
    CloseReason,
    CollectionPolicy,
    CollectionRun,
    CollectionRunPart,
    CollectionRunStart,
    CollectorAssignment,
    ContactAttempt,
    CreditCondition,
    InstalmentPlan,
    LadderStep,
    MessageStatus,
    Outcome,
    OutgoingMessage,
    PartStatus,
    PlanStatus,
    Promise,
    PromiseStatus,
    RiskScore,
    Task,
    TaskKind,
    TaskStatus,
)
from arrears.collection.staging import staged
from arrears.collection.summary import refresh_arrears_summary, waiver_mark
from arrears.core.db import bulk_insert, bulk_set
from arrears.core.errors import DomainError
from arrears.core.money import ZERO, MoneyField
from arrears.estate.models import Community, Contact, ContactKind, ContactRelation, Unit
from arrears.ledger.models import Allocation, Charge, Component, Payment, Waiver, WaiverStatus
from arrears.ledger.selectors import charge_lines

log = logging.getLogger("arrears.collection.run")

SUM_FIELD = MoneyField(max_digits=20)
TIER_PRIORITY = {"A": 300, "B": 200, "C": 100}
KIND_PRIORITY = {
    TaskKind.PROMISE_FOLLOW_UP: 150, TaskKind.LIMITATION_WARNING: 120, TaskKind.PLAN_FOLLOW_UP: 100,
    TaskKind.LADDER: 0, TaskKind.SATISFACTION: -50,
}
# Staff of the legal department pick these up; collectors own the rest of a case.
LEGAL_CHANNELS = frozenset({Channel.LAWYER_LETTER, Channel.LEGAL_REVIEW})
PRE_DUE_WINDOW_DAYS = 7
# An owner-unit whose early-warning score reaches its community's `early_reminder_score` gets each
# before-due message step this many days earlier (the −7 reminder at −14). Only a reminder moves.
EARLY_REMINDER_DAYS = 7


@dataclass
class RunSummary:
    as_of: date
    open_cases: int = 0
    opened: int = 0
    closed: int = 0
    updated: int = 0
    steps: int = 0
    tasks: int = 0
    messages: int = 0
    blocked_messages: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    plans_breached: int = 0
    plans_completed: int = 0
    limitation_warnings: int = 0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k not in ("as_of", "extra")}
        data["as_of"] = self.as_of.isoformat()
        return data


def ensure_policies(community_ids=None) -> int:
    """Give every community without one the default policy and ladder (idempotent)."""
    missing = Community.objects.filter(collection_policy__isnull=True)
    if community_ids is not None:
        missing = missing.filter(pk__in=list(community_ids))
    created = 0
    for community in missing:
        created += _default_policy(community)[1]
    return created


def create_default_policy(community) -> CollectionPolicy:
    return _default_policy(community)[0]


def _default_policy(community) -> tuple[CollectionPolicy, bool]:
    """The community's policy, with the default ladder if it had none; safe when runs race.

    Concurrent first runs all reach here for a community without a policy. The policy and its
    ladder are written in one transaction, and `get_or_create` inserts inside a savepoint: the
    loser of the race waits on the winner's row (unique `community`), gets IntegrityError, rolls
    back its savepoint only and re-reads the winner's policy, whose ladder committed with it.
    """
    with transaction.atomic():
        policy, created = CollectionPolicy.objects.get_or_create(community=community)
        if created:
            LadderStep.objects.bulk_create([LadderStep(policy=policy, **row) for row in ladder_rows()])
    return policy, created


def _local(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


# ----------------------------------------------------------------------------- the run


def run_collection(*, as_of: date, community_ids=None) -> RunSummary:
    """Run the collection method for `as_of`; a second run for the same date changes nothing.

    In this process, the same three steps the Celery canvas spreads over workers (tasks.py):
    `start_run` once, `run_part` for each slice of communities, `finish_run` once.
    """
    plan = start_run(as_of=as_of, community_ids=community_ids)
    for part_id in plan.part_ids:
        run_part(part_id=part_id)
    return finish_run(start_id=plan.start_id) or RunSummary(as_of=as_of)


class Plan(NamedTuple):
    start_id: int
    part_ids: list[int]


# The class of PostgreSQL advisory locks a part takes per community: parts of two starts of the
# same date that overlap wait for each other instead of writing the same cases at once.
COMMUNITY_LOCK = 18005
# A part tried this often (retries after passing errors, redeliveries after its worker died) gives up.
MAX_PART_ATTEMPTS = 10


def start_run(*, as_of: date, community_ids=None) -> Plan:
    """What a run does once before its parts: refuse an earlier date, read the marks, slice the work.

    Everything the parts must agree on is read here, before any part reads the ledger: the growing
    tables' ids, the digests of the changing tables (marks.py) and the communities that moved. Each
    part gets its slice and the digests read for it; parts are independent and can run anywhere.
    """
    latest = CollectionRun.objects.aggregate(latest=Max("as_of"))["latest"]
    if latest is not None and as_of < latest and community_ids is None:
        raise DomainError(
            f"催收已运行至 {latest}，不能再为更早的日期 {as_of} 运行",
            f"collection has run up to {latest}; it cannot run for the earlier date {as_of}",
            code="run_backwards",
        )
    ensure_policies(community_ids)
    # Before the run reads anything: the growing tables' ids, and the ledger marks the arrears list
    # re-checks from (a payment committed while the run goes is above both).
    top = marks.settled_highest_ids()
    start_marks = (top["allocation"], marks.settled(Waiver, waiver_mark, 0))  # 0: re-check every waiver
    with transaction.atomic():
        run, _ = CollectionRun.objects.get_or_create(as_of=as_of, defaults={"started_at": timezone.now()})
        run = CollectionRun.objects.select_for_update().get(pk=run.pk)  # the marks read against one stored state
        scope = sorted(community_ids) if community_ids is not None else list(
            Community.objects.order_by("pk").values_list("pk", flat=True))
        start = marks.moved_communities(run.marks if run.finished_at else {}, as_of, scope, top)
        everything = len(start.redo) == len(scope) and community_ids is None
        slices = chunks(None if everything else start.redo) if start.redo else []
        begun = CollectionRunStart.objects.create(
            run=run, started_at=timezone.now(), scope=scope if community_ids is not None else None,
            plan={"top": top, "glob": start.glob, "kept": start.kept, "start_marks": list(start_marks),
                  "redo": len(start.redo), "everything": everything},
        )
        CollectionRunPart.objects.bulk_create([
            CollectionRunPart(start=begun, index=index, communities=ids, before={
                key: value for key, value in start.before.items() if ids is None or int(key) in ids})
            for index, ids in enumerate(slices)
        ])
        part_ids = list(begun.parts.order_by("index").values_list("pk", flat=True))
    return Plan(begun.pk, part_ids)


def run_part(*, part_id: int, worker: str = "") -> dict:
    """Run one part's communities in one transaction; a part already done returns what it recorded.

    Safe to retry: a part that fails leaves nothing (its transaction rolls back) and the next
    attempt redoes its communities from scratch; one that committed is not run again.
    """
    part = CollectionRunPart.objects.select_related("start__run").get(pk=part_id)
    if part.status == PartStatus.DONE:
        return part.summary
    if part.attempts >= MAX_PART_ATTEMPTS:  # redelivered after its worker died, again and again
        raise DomainError(
            f"分片已尝试 {part.attempts} 次仍未完成，不再重试，请查明原因后重新启动当日运行",
            f"the part was tried {part.attempts} times without finishing: given up; find the cause, then start "
            f"the day's run again",
            code="part_abandoned",
        )
    CollectionRunPart.objects.filter(pk=part_id).exclude(status=PartStatus.DONE).update(
        status=PartStatus.RUNNING, worker=worker[:200], attempts=F("attempts") + 1, started_at=timezone.now(), error="")
    as_of, plan, community_ids = part.start.run.as_of, part.start.plan, part.communities
    _refuse_after_a_later_day(as_of, part.start.scope)
    summary = RunSummary(as_of=as_of)
    ensure_policies(community_ids)  # a community added since the start, when the part takes all
    with transaction.atomic():
        _lock_communities(community_ids)
        done = CollectionRunPart.objects.filter(pk=part_id, status=PartStatus.DONE).values_list("summary", flat=True)
        if done:  # a redelivery of this part that ran while this one waited for the communities
            return done[0]
        _run_communities(as_of, community_ids, summary)
        refresh_arrears_summary(as_of=as_of, community_ids=community_ids,  # the list's rates
                                start_marks=tuple(plan["start_marks"]), force=True)
        # The run's own tables digested after its writes: those are not changes a rerun has to redo.
        digests = marks.finish(as_of, marks.Start([], plan["glob"], part.before, {}), community_ids)
        recorded = {**summary.as_dict(), "extra": summary.extra}
        CollectionRunPart.objects.filter(pk=part_id).update(
            status=PartStatus.DONE, summary=recorded, digests=digests, finished_at=timezone.now())
    return recorded


def _refuse_after_a_later_day(as_of: date, scope) -> None:
    """A part of a whole run (a late redelivery, a task re-queued by hand) refuses, like `start_run`,
    once a later day's run has finished: it would run an earlier day's ladder over later cases."""
    latest = CollectionRun.objects.filter(finished_at__isnull=False).aggregate(latest=Max("as_of"))["latest"]
    if scope is None and latest is not None and as_of < latest:
        raise DomainError(
            f"催收已运行至 {latest}，不能再运行更早日期 {as_of} 的分片",
            f"collection has run up to {latest}; a part of the earlier date {as_of} cannot run",
            code="run_backwards",
        )


def fail_part(*, part_id: int, error: BaseException) -> None:
    """Record why a part gave up: the start stays unfinished, and /healthz and the admin say why."""
    CollectionRunPart.objects.filter(pk=part_id).exclude(status=PartStatus.DONE).update(
        status=PartStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000], finished_at=timezone.now())


def wait_part(*, part_id: int, error: BaseException) -> None:
    """A part whose attempt hit a passing error and waits for its retry: pending again, with why."""
    CollectionRunPart.objects.filter(pk=part_id).exclude(status=PartStatus.DONE).update(
        status=PartStatus.PENDING, error=f"retrying after {type(error).__name__}: {error}"[:2000])


class RunIncomplete(DomainError):
    pass


def finish_run(*, start_id: int) -> RunSummary | None:
    """What a run does once after all its parts: the run's summary and marks, and the run finished.

    Returns None when the start had already finished (a redelivered last step: `run_finished` is
    then not sent again). Refuses, changing nothing, while a part is not done.
    """
    with transaction.atomic():
        begun = CollectionRunStart.objects.select_for_update().select_related("run").get(pk=start_id)
        if begun.finished_at is not None:
            return None
        parts = list(begun.parts.order_by("index"))
        unfinished = [part for part in parts if part.status != PartStatus.DONE]
        if unfinished:
            raise RunIncomplete(
                f"催收运行 {begun.run.as_of} 有 {len(unfinished)} 个分片未完成",
                f"the run of {begun.run.as_of} has {len(unfinished)} unfinished parts: "
                + "; ".join(f"#{part.index} {part.status} {part.error}".strip() for part in unfinished),
                code="run_incomplete",
            )
        run = CollectionRun.objects.select_for_update().get(pk=begun.run_id)  # starts that overlap merge one by one
        plan, community_ids = begun.plan, begun.scope
        summary = _merged(run.as_of, [part.summary for part in parts])
        summary.open_cases = _scoped(Case.objects.filter(status=CaseStatus.OPEN), community_ids).count()
        summary.extra["communities_run"] = plan["redo"]
        top = plan["top"]
        if community_ids is not None and run.marks.get("version") == marks.VERSION:
            top = run.marks["max"]  # a partial run vouches for nothing outside its communities
        done = {key: value for part in parts for key, value in part.digests.items()}
        now = timezone.now()
        CollectionRun.objects.filter(pk=run.pk).update(
            finished_at=now, summary=summary.as_dict(),
            marks=marks.marks(top, plan["glob"], {**plan["kept"], **done}, run.marks),
        )
        CollectionRunStart.objects.filter(pk=begun.pk).update(finished_at=now)
    return summary


def _merged(as_of: date, recorded: list[dict]) -> RunSummary:
    """The parts' counts added up (they ran disjoint communities)."""
    summary = RunSummary(as_of=as_of)
    counts = [name for name, value in summary.__dict__.items() if isinstance(value, int)]
    for part in recorded:
        for name in counts:
            setattr(summary, name, getattr(summary, name) + part.get(name, 0))
        for key, value in part.get("extra", {}).items():
            summary.extra[key] = summary.extra.get(key, 0) + value
    return summary


def _lock_communities(community_ids) -> None:
    """Hold the communities until the part commits (PostgreSQL; SQLite has one writer anyway).

    Advisory locks, taken in id order so two parts never wait on each other in a cycle; a row lock
    on the communities would also stop every payment of theirs (a foreign key takes KEY SHARE).
    """
    if connection.vendor != "postgresql":
        return
    ids = community_ids if community_ids is not None else list(
        Community.objects.order_by("pk").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, s.id)) FROM (SELECT unnest(%s::int[]) AS id ORDER BY 1) s",
            [COMMUNITY_LOCK, sorted(ids)],
        )


def chunks(community_ids) -> list:
    """The communities to run, in groups of at most `ARREARS_RUN_CHUNK_UNITS` units (None: all in one).

    The run holds each group's open charges, assessments and cases in memory, so a company of a
    million units is run a slice at a time and its memory stays that of one slice. A community is
    never split (its owners' caps and its summary are per community); one larger than a slice is a
    slice of its own. Communities are independent, so the slices give what one pass would.
    """
    limit = settings.ARREARS_RUN_CHUNK_UNITS
    sizes = Unit.objects.order_by().values("community_id").annotate(n=Count("pk"))
    if community_ids is not None:
        sizes = sizes.filter(community_id__in=list(community_ids))
    counts = {row["community_id"]: row["n"] for row in sizes}
    if community_ids is None:
        if sum(counts.values()) <= limit:
            return [None]
        community_ids = Community.objects.order_by("pk").values_list("pk", flat=True)
    found, current, size = [], [], 0
    for community_id in sorted(community_ids):
        units = counts.get(community_id, 0)
        if current and size + units > limit:
            found.append(current)
            current, size = [], 0
        current.append(community_id)
        size += units
    if current:
        found.append(current)
    return found


def _scoped(queryset, community_ids):
    return queryset if community_ids is None else queryset.filter(community_id__in=list(community_ids))


def _run_communities(as_of: date, community_ids, summary: RunSummary) -> None:
    """The run's steps for some communities (None: all)."""
    # Promises and plans first: a promise broken today is a signal of today's assessment.
    _resolve_promises(as_of, community_ids, summary)
    paused = _resolve_plans(as_of, community_ids, summary)
    # Owners who paid their principal soon after the first reminder: late fee waived (seed 000), so
    # the assessment below sees them cleared and their cases close today.
    summary.extra["late_fees_waived"] = (summary.extra.get("late_fees_waived", 0)
                                         + waive_late_fees(as_of=as_of, community_ids=community_ids))
    assessments = assess(as_of, community_ids=community_ids)
    by_key = {a.key: a for a in assessments}
    cases = _sync_cases(as_of, by_key, community_ids, summary)
    _assign_collectors(cases, summary)
    _write_snapshots(as_of, cases, by_key, summary)
    _fire_ladder(as_of, cases, by_key, paused, summary)
    _promise_follow_ups(as_of, cases, summary)
    _promise_reminders(as_of, community_ids, summary)
    _limitation_warnings(as_of, cases, by_key, summary)
    _pre_due_messages(as_of, community_ids, summary)


def close_if_cleared(*, unit_id: int, owner_id: int, as_of: date) -> Case | None:
    """Close the owner's open case at once when a payment left nothing overdue (not at the next run).

    The same closing as the daily run's: tasks cancelled, promises kept, plan completed, a thanks
    message and a satisfaction follow-up. Returns the closed case, or None when nothing closed.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(unit_id=unit_id, owner_id=owner_id, status=CaseStatus.OPEN).first()
        if case is None:
            return None
        if any(line.owner_id == owner_id and line.outstanding > ZERO for line in charge_lines(as_of, unit_ids=[unit_id])):
            return None
        _close_cases(as_of, [case], RunSummary(as_of=as_of))
    return case


def _open_cases(community_ids) -> dict[tuple[int, int], Case]:
    cases = Case.objects.filter(status=CaseStatus.OPEN)
    if community_ids is not None:
        cases = cases.filter(community_id__in=list(community_ids))
    return {(case.unit_id, case.owner_id): case for case in cases}


def _sync_cases(as_of, by_key: dict[tuple[int, int], Assessment], community_ids, summary) -> dict[tuple[int, int], Case]:
    """Close cases that were cleared, open cases for new arrears (a recurrence is a new case)."""
    cases = _open_cases(community_ids)
    cleared = [case for key, case in cases.items() if key not in by_key]
    if cleared:
        _close_cases(as_of, cleared, summary)
        for case in cleared:
            del cases[(case.unit_id, case.owner_id)]
    new_keys = [key for key in by_key if key not in cases]
    if new_keys:
        closed = Case.objects.filter(status=CaseStatus.CLOSED)
        if len(new_keys) < 20000:
            closed = closed.filter(unit_id__in={key[0] for key in new_keys})
        previous = {
            (unit_id, owner_id): last
            for unit_id, owner_id, last in closed.values_list("unit_id", "owner_id").annotate(last=Max("pk")).order_by()
        }
        created = []
        for key in new_keys:
            a = by_key[key]
            created.append((
                a.community_id, a.unit_id, a.owner_id, as_of, as_of, previous.get(key), a.principal, a.late_fee,
                a.oldest_due, a.days_overdue, a.months, a.bucket, a.tier, _join(a.situations), _join(a.techniques),
                a.suggested_persona, a.limitation_deadline,
            ))
        bulk_insert(Case, NEW_CASE_FIELDS, created)
        summary.opened += len(created)
        # Read back only the cases just opened, then keep `_open_cases`' order (newest first).
        opened = _scoped(Case.objects.filter(status=CaseStatus.OPEN, opened_on=as_of), community_ids)
        cases.update({(c.unit_id, c.owner_id): c for c in opened if (c.unit_id, c.owner_id) not in cases})
        cases = dict(sorted(cases.items(), key=lambda item: (-item[1].opened_on.toordinal(), -item[1].pk)))
    return cases


NEW_CASE_FIELDS = ["community", "unit", "owner", "opened_on", "as_of", "previous", "principal", "late_fee", "oldest_due",
                   "days_overdue", "months_overdue", "bucket", "tier", "situations", "techniques", "suggested_persona",
                   "limitation_deadline"]
# A task as the run writes it: a plain tuple of these fields (the rest take the model's defaults).
TASK_FIELDS = ["community", "case", "key", "kind", "channel", "step", "technique", "script_code", "title", "due_on",
               "priority", "assignee", "created_on"]


def _close_cases(as_of, cleared: list[Case], summary) -> None:
    ids = [case.pk for case in cleared]
    plan_cases = set(  # a plan still running, or completed by today's payments (resolved earlier in this run)
        InstalmentPlan.objects.filter(case_id__in=ids).filter(
            Q(status=PlanStatus.ACCEPTED) | Q(status=PlanStatus.COMPLETED, resolved_on=as_of)
        ).values_list("case_id", flat=True)
    )
    paid, waived = _reductions_since(cleared, as_of)
    for case in cleared:
        key = (case.unit_id, case.owner_id)
        if case.pk in plan_cases:
            reason = CloseReason.PLAN_COMPLETED
        elif waived.get(key, ZERO) > paid.get(key, ZERO):
            reason = CloseReason.WAIVED
        else:
            reason = CloseReason.PAID
        case.status, case.closed_on, case.close_reason, case.front_desk_flag = CaseStatus.CLOSED, as_of, reason, False
    bulk_set(cleared, ["status", "closed_on", "close_reason", "front_desk_flag"])
    completed = list(InstalmentPlan.objects.filter(case_id__in=plan_cases, status=PlanStatus.ACCEPTED).select_related("case"))
    for plan in completed:
        plan.status, plan.resolved_on = PlanStatus.COMPLETED, as_of
    bulk_set(completed, ["status", "resolved_on"])
    summary.plans_completed += len(completed)
    _request_plan_waivers(as_of, completed)
    Promise.objects.filter(case_id__in=ids, status=PromiseStatus.OPEN).update(status=PromiseStatus.KEPT, resolved_on=as_of)
    # A legal matter's tasks outlive the case: paid in full during a suit, the suit is still withdrawn.
    Task.objects.filter(case_id__in=ids, status=TaskStatus.OPEN).exclude(kind=TaskKind.LEGAL).update(
        status=TaskStatus.CANCELLED, cancel_reason="案件已结案 / case closed",
    )
    OutgoingMessage.objects.filter(case_id__in=ids, status=MessageStatus.QUEUED).update(status=MessageStatus.CANCELLED)
    # After every payment that ends a case, a satisfaction follow-up is due (seed 002: after the contact).
    follow_ups = [
        Task(community_id=case.community_id, case=case, key="satisfaction", kind=TaskKind.SATISFACTION,
             channel=Channel.CALL, script_code="after_payment_follow_up", title=N_("缴费后回访：感谢并了解满意度"),
             due_on=as_of, priority=TIER_PRIORITY[case.tier] + KIND_PRIORITY[TaskKind.SATISFACTION],
             assignee_id=case.collector_id, created_on=as_of)
        for case in cleared if case.close_reason in (CloseReason.PAID, CloseReason.PLAN_COMPLETED)
    ]
    Task.objects.bulk_create(follow_ups, ignore_conflicts=True)
    # Thanks for paying (seed 002: praise the decision), by SMS on the day the case closes.
    _queue_messages([
        _message(case, None, as_of, key=f"case:{case.pk}:thanks", template_code=THANKS_TEMPLATE)
        for case in cleared if case.close_reason in (CloseReason.PAID, CloseReason.PLAN_COMPLETED)
    ], summary)
    summary.closed += len(cleared)


def _request_plan_waivers(as_of, plans: list[InstalmentPlan]) -> None:
    """A completed plan that promised it asks for the late fee to be waived; a manager approves (four eyes).

    One request per charge and plan (the reason names the plan), so a rerun asks nothing twice.
    """
    plans = [plan for plan in plans if plan.waive_late_fee_on_completion and plan.created_by_id is not None]
    if not plans:
        return
    lines = charge_lines(as_of, unit_ids={plan.case.unit_id for plan in plans})
    for plan in plans:
        reason = f"分期计划 #{plan.pk} 按期完成，按策略减免违约金 / plan #{plan.pk} completed: late fee waived by policy"
        for line in lines:
            if (line.unit_id, line.owner_id) == (plan.case.unit_id, plan.case.owner_id) and line.late_fee > ZERO:
                Waiver.objects.get_or_create(
                    charge_id=line.charge_id, component=Component.LATE_FEE, reason=reason,
                    defaults={"community_id": plan.community_id, "amount": line.late_fee,
                              "requested_by_id": plan.created_by_id, "requested_on": as_of},
                )


def _reductions_since(cases: list[Case], as_of) -> tuple[dict, dict]:
    """Principal paid and waived on each closing case's charges since it opened: why it closed."""
    since = min(case.opened_on for case in cases)
    units = {case.unit_id for case in cases}
    paid, waived = defaultdict(lambda: ZERO), defaultdict(lambda: ZERO)
    allocations = Allocation.objects.filter(
        component=Component.PRINCIPAL, value_date__gte=since, value_date__lte=as_of, charge__unit_id__in=units,
    ).values_list("charge__unit_id", "charge__owner_id").annotate(total=Sum("amount", output_field=SUM_FIELD)).order_by()
    for unit_id, owner_id, total in allocations:
        paid[(unit_id, owner_id)] += total
    waivers = Waiver.objects.filter(
        component=Component.PRINCIPAL, status=WaiverStatus.APPROVED, decided_on__gte=since, decided_on__lte=as_of,
        charge__unit_id__in=units,
    ).values_list("charge__unit_id", "charge__owner_id").annotate(total=Sum("amount", output_field=SUM_FIELD)).order_by()
    for unit_id, owner_id, total in waivers:
        waived[(unit_id, owner_id)] += total
    return paid, waived


def _assign_collectors(cases: dict, summary) -> None:
    """Cases without a collector go to the building's collector with the fewest open cases."""
    unassigned = [case for case in cases.values() if case.collector_id is None]
    if not unassigned:
        return
    building_of = dict(
        Case.objects.filter(status=CaseStatus.OPEN, collector__isnull=True).values_list("pk", "unit__building_id")
    )
    collectors = defaultdict(list)
    for building_id, user_id in CollectorAssignment.objects.filter(
        building_id__in=set(building_of.values())
    ).order_by("user_id").values_list("building_id", "user_id"):
        collectors[building_id].append(user_id)
    if not collectors:
        return
    load = Counter(dict(
        Case.objects.filter(status=CaseStatus.OPEN, collector__isnull=False)
        .values_list("collector_id").annotate(n=Count("pk")).order_by()
    ))
    changed = []
    for case in sorted(unassigned, key=lambda c: c.pk):
        candidates = collectors.get(building_of.get(case.pk))
        if not candidates:
            continue
        chosen = min(candidates, key=lambda user_id: (load[user_id], user_id))
        load[chosen] += 1
        case.collector_id = chosen
        changed.append(case)
    bulk_set(changed, ["collector"])
    # Tasks made while the case had nobody go to its new collector (legal work stays with legal).
    for case in changed:
        Task.objects.filter(case_id=case.pk, status=TaskStatus.OPEN, assignee__isnull=True).exclude(
            channel__in=LEGAL_CHANNELS
        ).update(assignee_id=case.collector_id)


class _Payments:
    """The payments of some (unit, owner) pairs since a date, read once for a whole batch of windows."""

    def __init__(self, pairs: set[tuple[int, int]], since: date, as_of: date):
        self.rows = defaultdict(list)  # pair → [(paid_on, amount, reversed_on or None)]
        if not pairs:
            return
        for unit_id, owner_id, paid_on, amount, reversed_on in Payment.objects.filter(
            unit_id__in={pair[0] for pair in pairs}, paid_on__gte=since, paid_on__lte=as_of,
        ).values_list("unit_id", "owner_id", "paid_on", "amount", "reversal__reversed_on"):
            if (unit_id, owner_id) in pairs:
                self.rows[(unit_id, owner_id)].append((paid_on, amount, reversed_on))

    def paid_between(self, pair: tuple[int, int], start: date, end: date) -> Decimal:
        """Money paid from `start` to `end`, not counting payments reversed by `end`."""
        return sum(
            (amount for paid_on, amount, reversed_on in self.rows[pair]
             if start <= paid_on <= end and (reversed_on is None or reversed_on > end)),
            ZERO,
        )


def _resolve_promises(as_of, community_ids, summary) -> None:
    """A promise is kept once the promised amount is paid; broken when its day passed without it."""
    promises = Promise.objects.filter(status=PromiseStatus.OPEN, case__status=CaseStatus.OPEN).select_related("case")
    if community_ids is not None:
        promises = promises.filter(community_id__in=list(community_ids))
    promises = list(promises)
    payments = _Payments({(p.case.unit_id, p.case.owner_id) for p in promises},
                         min((p.made_on for p in promises), default=as_of), as_of)
    for promise in promises:
        case = promise.case
        paid = payments.paid_between((case.unit_id, case.owner_id), promise.made_on, min(as_of, promise.due_on))
        if paid >= promise.amount:
            promise.status, promise.resolved_on = PromiseStatus.KEPT, as_of
            summary.promises_kept += 1
        elif promise.due_on < as_of:
            promise.status, promise.resolved_on = PromiseStatus.BROKEN, as_of
            summary.promises_broken += 1
    bulk_set([p for p in promises if p.status != PromiseStatus.OPEN], ["status", "resolved_on"])


def _resolve_plans(as_of, community_ids, summary) -> set[int]:
    """Breach plans whose instalments are overdue by more than the policy's days; return cases on a plan.

    Paid toward a plan = payments since it was accepted; an instalment counts as overdue once
    the cumulative schedule due more than `breach_days` ago exceeds what was paid.
    """
    plans = InstalmentPlan.objects.filter(status=PlanStatus.ACCEPTED, case__status=CaseStatus.OPEN)
    if community_ids is not None:
        plans = plans.filter(community_id__in=list(community_ids))
    plans = list(plans.select_related("case").prefetch_related("instalments"))
    on_plan = set()
    follow_ups = []
    payments = _Payments({(p.case.unit_id, p.case.owner_id) for p in plans},
                         min((p.accepted_on for p in plans), default=as_of), as_of)
    for plan in plans:
        case = plan.case
        key = (case.unit_id, case.owner_id)
        paid = payments.paid_between(key, plan.accepted_on, as_of)
        cutoff = as_of - timedelta(days=plan.breach_days)
        owed = sum((i.amount for i in plan.instalments.all() if i.due_on < cutoff), ZERO)
        if paid >= plan.total:
            plan.status, plan.resolved_on = PlanStatus.COMPLETED, as_of
            summary.plans_completed += 1
        elif paid < owed:
            plan.status, plan.resolved_on = PlanStatus.BREACHED, as_of
            summary.plans_breached += 1
            follow_ups.append(Task(
                community_id=case.community_id, case=case, key=f"plan:{plan.pk}:breached", kind=TaskKind.PLAN_FOLLOW_UP,
                channel=Channel.CALL, script_code="promise_call", title=N_("分期违约：联系业主，重回催收流程"),
                due_on=as_of, priority=TIER_PRIORITY[case.tier] + KIND_PRIORITY[TaskKind.PLAN_FOLLOW_UP],
                assignee_id=case.collector_id, created_on=as_of,
            ))
        else:
            on_plan.add(case.pk)
    bulk_set([p for p in plans if p.status != PlanStatus.ACCEPTED], ["status", "resolved_on"])
    _request_plan_waivers(as_of, [p for p in plans if p.status == PlanStatus.COMPLETED])
    created = Task.objects.bulk_create(follow_ups, ignore_conflicts=True)
    summary.tasks += len(created)
    return on_plan


SNAPSHOT_FIELDS = ["as_of", "principal", "late_fee", "oldest_due", "days_overdue", "months_overdue", "bucket", "tier",
                   "situations", "techniques", "suggested_persona", "limitation_deadline"]


def _join(numbers) -> str:
    return ",".join(str(n) for n in numbers)


def _write_snapshots(as_of, cases: dict, by_key, summary) -> None:
    changed = []
    for key, case in cases.items():
        a = by_key[key]
        values = {
            "as_of": as_of, "principal": a.principal, "late_fee": a.late_fee, "oldest_due": a.oldest_due,
            "days_overdue": a.days_overdue, "months_overdue": a.months, "bucket": a.bucket, "tier": a.tier,
            "situations": _join(a.situations), "techniques": _join(a.techniques),
            "suggested_persona": a.suggested_persona, "limitation_deadline": a.limitation_deadline,
        }
        if any(getattr(case, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(case, name, value)
            changed.append(case)
    bulk_set(changed, SNAPSHOT_FIELDS)
    summary.updated += len(changed)


# ----------------------------------------------------------------------------- the ladder


def step_rule(step: LadderStep) -> rules.StepRule:
    return rules.StepRule(
        code=step.code, day_offset=step.day_offset, channel=step.channel, tiers=step.tiers,
        personas=tuple(step.persona_list), credit=step.credit, min_amount=step.min_amount, min_months=step.min_months,
        requires=tuple(step.required_codes), days_after_required=step.days_after_required,
        no_payment_since_required=step.no_payment_since_required,
        lawyer_letter_eligibility=step.lawyer_letter_eligibility, quiet_days=step.quiet_days,
        after_delivery=step.after_delivery,
    )


def ladders(community_ids) -> dict[int, list[LadderStep]]:
    """Each community's active ladder; the default one (unsaved) where no policy exists yet."""
    steps = defaultdict(list)
    with_policy = set()
    for step in LadderStep.objects.filter(policy__community_id__in=list(community_ids)).select_related("policy"):
        with_policy.add(step.policy.community_id)
        if step.active:
            steps[step.policy.community_id].append(step)
    for community_id in set(community_ids) - with_policy:
        steps[community_id] = [LadderStep(**row) for row in ladder_rows()]
    return steps


LETTER_CHANNELS = (Channel.LETTER, Channel.LAWYER_LETTER)


def delivered_letters(case_ids, as_of) -> dict[int, dict[str, list[date]]]:
    """Days each case's letters reached the owner by `as_of`, by channel: the delivery records on file."""
    found = defaultdict(lambda: defaultdict(list))
    for case_id, channel, at in ContactAttempt.objects.filter(
        case_id__in=list(case_ids), channel__in=LETTER_CHANNELS, outcome=Outcome.DELIVERED, corrects__isnull=True,
        at__lt=_local(as_of + timedelta(days=1), time(0, 0)),
    ).values_list("case_id", "channel", "at"):
        found[case_id][channel].append(timezone.localdate(at))
    return found


def case_states(as_of, cases: list[Case], by_key, step_channels=None) -> dict[int, rules.CaseState]:
    """The ladder's view of each case: steps fired and their letters delivered, last payment, quiet
    period, eligibility for ⑨. `step_channels` maps a community to its ladder's step code → channel."""
    ids = [case.pk for case in cases]
    fired = defaultdict(dict)
    for case_id, code, fired_on in CaseStep.objects.filter(case_id__in=ids, fired_on__lte=as_of).values_list(
        "case_id", "step__code", "fired_on"
    ):
        fired[case_id][code] = fired_on
    deliveries = delivered_letters(ids, as_of)
    # ⑨ counts collection letters that reached the owner (delivery recorded), not letters merely due.
    letters = {case_id: by_channel[Channel.LETTER] for case_id, by_channel in deliveries.items()}
    last_payment = {}
    pairs = {(case.unit_id, case.owner_id) for case in cases}
    if pairs:
        # Payments before the oldest case opened cannot follow any step fired in a case.
        since = min(case.opened_on for case in cases)
        rows = (
            Payment.objects.filter(unit_id__in={p[0] for p in pairs}, paid_on__gte=since, paid_on__lte=as_of)
            .exclude(reversal__reversed_on__lte=as_of)
            .values_list("unit_id", "owner_id").annotate(last=Max("paid_on")).order_by()
        ) if len(pairs) < 5000 else (
            Payment.objects.filter(paid_on__gte=since, paid_on__lte=as_of, unit__collection_cases__status=CaseStatus.OPEN)
            .exclude(reversal__reversed_on__lte=as_of)
            .values_list("unit_id", "owner_id").annotate(last=Max("paid_on")).order_by()
        )
        last_payment = {(u, o): day for u, o, day in rows}
    care_pending = set(
        InstalmentPlan.objects.filter(case_id__in=ids, status=PlanStatus.ACCEPTED).values_list("case_id", flat=True)
    )
    states = {}
    for case in cases:
        key = (case.unit_id, case.owner_id)
        a = by_key[key]
        paid_last = last_payment.get(key)
        ignored = [day for day in letters.get(case.pk, []) if paid_last is None or paid_last < day]
        deliberate = a.signals.refused or a.signals.deliberate or a.signals.broken_promises >= 2
        pending = case.pk in care_pending or a.signals.open_rectification or bool(a.disputed_charge_ids)
        states[case.pk] = rules.CaseState(
            days_overdue=a.days_overdue, tier=a.tier, persona=a.persona or a.suggested_persona, principal=a.principal,
            months=a.months, fired=fired[case.pk], last_payment=paid_last, quiet_until=case.quiet_until,
            lawyer_letter_eligible=rules.lawyer_letter_eligible(
                days_overdue=a.days_overdue, letters_ignored=len(ignored), deliberate=deliberate, care_pending=pending,
            ),
            delivered=rules.deliveries_by_step(fired[case.pk], (step_channels or {}).get(case.community_id, {}),
                                              deliveries.get(case.pk, {})),
        )
    return states


def _fire_ladder(as_of, cases: dict, by_key, on_plan: set[int], summary) -> None:
    """Fire the steps that fall due; contact steps wait while a plan runs, a promise is pending or a
    legal matter is open (the court, not the ladder, speaks to the owner then)."""
    open_cases = list(cases.values())
    if not open_cases:
        return
    ladder_of = defaultdict(lambda: ({}, []))
    for community_id, steps in ladders({case.community_id for case in open_cases}).items():
        positive = {step.code: step for step in steps if step.day_offset > 0}
        ladder_of[community_id] = (positive, [step_rule(step) for step in positive.values()])
    pending_promise = set(
        Promise.objects.filter(case_id__in=[c.pk for c in open_cases], status=PromiseStatus.OPEN, due_on__gte=as_of)
        .values_list("case_id", flat=True)
    )
    channels = {community_id: {code: step.channel for code, step in steps.items()}
                for community_id, (steps, _) in ladder_of.items()}
    states = case_states(as_of, open_cases, by_key, channels)
    policies = policies_by_community({case.community_id for case in open_cases})
    lawyer_slots = _lawyer_letter_slots(as_of, policies)
    fired_rows, tasks, messages, flagged = [], [], [], []
    by_priority = sorted(open_cases, key=lambda c: (-c.principal, c.pk))  # lawyer-letter slots go to the largest first
    for case in by_priority:
        a = by_key[(case.unit_id, case.owner_id)]
        if a.paused_by_dispute:
            continue
        state = states[case.pk]
        steps, step_rules = ladder_of[case.community_id]
        due = rules.steps_due(step_rules, state, as_of)
        for rule in due:
            step = steps[rule.code]
            if rule.channel not in rules.INTERNAL_CHANNELS and (case.pk in on_plan or case.pk in pending_promise
                                                                 or case.legal_hold):
                continue
            if step.channel == Channel.LAWYER_LETTER:
                if lawyer_slots[case.community_id] <= 0:
                    continue  # never many at once: the next waits until this one is done
                lawyer_slots[case.community_id] -= 1
            fired_rows.append((case.community_id, case.pk, step.pk, as_of))
            case.last_step, case.last_step_on = step, as_of
            if step.quiet_days:
                end = as_of + timedelta(days=step.quiet_days)
                case.quiet_until = max(case.quiet_until or end, end)
            if step.channel == Channel.FRONT_DESK_FLAG:
                case.front_desk_flag = True
            elif step.channel in MESSAGE_CHANNELS:
                messages.append(_message(case, step, as_of))
            else:
                tasks.append(_ladder_task(case, step, as_of))
            flagged.append(case)
    bulk_insert(CaseStep, ["community", "case", "step", "fired_on"], fired_rows)
    bulk_set({c.pk: c for c in flagged}.values(), ["last_step", "last_step_on", "quiet_until", "front_desk_flag"])
    bulk_insert(Task, TASK_FIELDS, tasks, ignore_conflicts=True)
    summary.steps += len(fired_rows)
    summary.tasks += len(tasks)  # counted as bulk_create(ignore_conflicts=True) counted them: every row offered
    _queue_messages(messages, summary)


def _lawyer_letter_slots(as_of, policies) -> defaultdict:
    slots = defaultdict(int)
    for community_id, policy in policies.items():
        slots[community_id] = policy.lawyer_letters_at_once
    busy = Task.objects.filter(channel=Channel.LAWYER_LETTER, status=TaskStatus.OPEN).values_list("community_id").annotate(
        n=Count("pk")
    ).order_by()
    for community_id, count in busy:
        slots[community_id] -= count
    return slots


def _ladder_task(case: Case, step: LadderStep, as_of) -> tuple:
    """A ladder step's task, as a row of TASK_FIELDS."""
    legal = step.channel in LEGAL_CHANNELS
    return (
        case.community_id, case.pk, f"step:{step.code}", TaskKind.LADDER, step.channel, step.pk, step.technique,
        step.script_code, str(step.name), as_of,
        TIER_PRIORITY[case.tier] + KIND_PRIORITY[TaskKind.LADDER] + min(case.days_overdue // 30, 50),
        None if legal else case.collector_id, as_of,
    )


class QueuedMessage(NamedTuple):
    """A message to queue: the `OutgoingMessage` fields the run decides, as plain values."""

    community_id: int
    case_id: int | None
    unit_id: int
    owner_id: int
    key: str
    channel: str
    step_id: int | None
    template_code: str
    scheduled_on: date


def _message(case: Case | None, step: LadderStep | None, as_of, *, unit_id=None, owner_id=None, community_id=None,
             key=None, template_code=None, channel=Channel.SMS, case_id=None) -> QueuedMessage:
    case_id = case.pk if case is not None else case_id
    return QueuedMessage(
        community_id=community_id or case.community_id, case_id=case_id, unit_id=unit_id or case.unit_id,
        owner_id=owner_id or case.owner_id, key=key or f"case:{case_id}:step:{step.code}",
        channel=step.channel if step else channel, step_id=step.pk if step else None,
        template_code=template_code or step.template_code, scheduled_on=as_of,
    )


THANKS_TEMPLATE = "thanks_payment"
PROMISE_REMINDER_TEMPLATE = "promise_reminder"


def _promise_reminders(as_of, community_ids, summary) -> None:
    """"I'll remind you the day before" (seed 000): an SMS the day before each open promise falls due."""
    promises = Promise.objects.filter(status=PromiseStatus.OPEN, due_on=as_of + timedelta(days=1), case__status=CaseStatus.OPEN)
    if community_ids is not None:
        promises = promises.filter(community_id__in=list(community_ids))
    _queue_messages([
        _message(None, None, as_of, case_id=case_id, community_id=community_id, unit_id=unit_id, owner_id=owner_id,
                 key=f"promise:{pk}:reminder", template_code=PROMISE_REMINDER_TEMPLATE)
        for pk, case_id, community_id, unit_id, owner_id in promises.order_by("pk").values_list(
            "pk", "case_id", "case__community_id", "case__unit_id", "case__owner_id")
    ], summary)


# The owner's own contact a message goes to, by channel.
CONTACT_KIND = {Channel.SMS: ContactKind.MOBILE, Channel.WECHAT: ContactKind.WECHAT, Channel.EMAIL: ContactKind.EMAIL}


def wechat_first() -> bool:
    """Whether an SMS goes by WeChat to owners with a bound openid: the official account is configured."""
    return bool(getattr(settings, "ARREARS_WECHAT", None))


# The fields `_queue_messages` writes; every other column of OutgoingMessage gets its field default.
_QUEUED_COLUMNS = [
    ("i", "int"), ("community_id", "int"), ("case_id", "int"), ("unit_id", "int"), ("owner_id", "int"),
    ("contact_id", "int"), ("key", "text"), ("channel", "text"), ("step_id", "int"), ("template_code", "text"),
    ("scheduled_on", "date"), ("not_before", "datetime"), ("status", "text"), ("blocked_rule", "text"),
    ("blocked_reason", "text"),
]


def _queue_messages(messages: list[QueuedMessage], summary) -> None:
    """Each message goes to the owner's own number, at the first time the guard allows.

    WeChat first: with the official account configured, an SMS goes by WeChat instead to an owner
    with a bound openid (the owner's own WeChat contact), under the same key; if WeChat refuses it
    for good, the outbox queues it again by SMS (notices/outbox.py).

    Set-based, for the ~80,000 pre-due reminders of a month start: the batch is staged in a
    temporary table, which is joined for the keys already queued (skipped) and the owner's own
    contact; the guard judges the rest in one batch; the rows are written with one
    INSERT … SELECT that ignores a key queued meanwhile.
    """
    if not messages:
        return
    from arrears.collection import guard

    messages = list(messages)
    quote = connection.ops.quote_name
    with transaction.atomic():
        with staged("run_message_key", [("i", "int"), ("key", "text"), ("owner_id", "int"), ("kind", "text")],
                    ((i, m.key, m.owner_id, CONTACT_KIND[m.channel]) for i, m in enumerate(messages))) as table, \
                connection.cursor() as cursor:
            contacts = quote(Contact._meta.db_table)
            cursor.execute(
                f"SELECT s.i, (SELECT MIN(c.id) FROM {contacts} c WHERE c.owner_id = s.owner_id"
                f" AND c.relation = %s AND c.kind = s.kind), (SELECT MIN(c.id) FROM {contacts} c"
                f" WHERE c.owner_id = s.owner_id AND c.relation = %s AND c.kind = %s) FROM {table} s WHERE NOT EXISTS"
                f" (SELECT 1 FROM {quote(OutgoingMessage._meta.db_table)} m WHERE m.key = s.key) ORDER BY s.i",
                [ContactRelation.SELF.value, ContactRelation.SELF.value, ContactKind.WECHAT.value],
            )
            by_wechat = wechat_first()
            fresh = []
            for i, contact_id, openid_id in cursor.fetchall():
                message = messages[i]
                if by_wechat and message.channel == Channel.SMS and openid_id is not None:
                    message, contact_id = message._replace(channel=Channel.WECHAT), openid_id
                fresh.append((message, contact_id))
        if not fresh:
            return
        midnight = {day: _local(day, time(0, 0)) for day in {m.scheduled_on for m, _ in fresh}}
        requests = [
            guard.ContactRequest(owner_id=m.owner_id, unit_id=m.unit_id, channel=m.channel, at=midnight[m.scheduled_on],
                                 case_id=m.case_id, contact_id=contact_id)
            for m, contact_id in fresh
        ]
        rows = []
        for i, ((m, contact_id), request, decision) in enumerate(zip(fresh, requests, guard.check_many(requests),
                                                                      strict=True)):
            if decision.allowed:
                outcome = (request.at, MessageStatus.QUEUED.value, "", "")
            elif decision.next_allowed is not None:
                outcome = (decision.next_allowed, MessageStatus.QUEUED.value, "", "")
            else:
                outcome = (None, MessageStatus.BLOCKED.value, str(decision.rule), decision.reason[:300])
                summary.blocked_messages += 1
            rows.append((i, m.community_id, m.case_id, m.unit_id, m.owner_id, contact_id, m.key, str(m.channel),
                         m.step_id, m.template_code, m.scheduled_on, *outcome))
        _insert_messages(rows)
    summary.messages += len(rows)


def _insert_messages(rows: list[tuple]) -> None:
    """INSERT … SELECT the staged rows in their order; a key queued meanwhile is skipped (ON CONFLICT)."""
    quote = connection.ops.quote_name
    given = [name for name, _kind in _QUEUED_COLUMNS[1:]]
    defaults, params = [], []
    now = timezone.now()
    for model_field in OutgoingMessage._meta.concrete_fields:
        if model_field.primary_key or model_field.attname in given:
            continue
        value = now if getattr(model_field, "auto_now_add", False) else model_field.get_default()
        if value is None and model_field.null:
            continue
        defaults.append(model_field.column)
        params.append(model_field.get_db_prep_save(value, connection))
    columns = ", ".join(quote(name) for name in [*given, *defaults])
    values = ", ".join([*(f"s.{quote(name)}" for name in given), *("%s" for _ in defaults)])
    with staged("run_message", _QUEUED_COLUMNS, rows) as table, connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(OutgoingMessage._meta.db_table)} ({columns}) SELECT {values} FROM {table} s"
            f" WHERE 1 = 1 ORDER BY s.i ON CONFLICT ({quote('key')}) DO NOTHING",
            params,
        )


# ----------------------------------------------------------------------------- follow-ups


def _promise_follow_ups(as_of, cases: dict, summary) -> None:
    """A promise due today gets a call (seed 003: at 10:00 and before 16:00)."""
    ids = [case.pk for case in cases.values()]
    by_id = {case.pk: case for case in cases.values()}
    due = Promise.objects.filter(status=PromiseStatus.OPEN, due_on=as_of).values_list("pk", "community_id", "case_id", "amount")
    tasks = [
        (community_id, case_id, f"promise:{pk}", TaskKind.PROMISE_FOLLOW_UP, Channel.CALL, None, 2, "promise_call",
         # both languages in the stored title: a page shows the viewer's half (|shown)
         f"承诺今日到期（承诺金额 ¥{amount:,.2f}）：10 点、16 点前跟进 / Promise due today "
         f"(promised amount ¥{amount:,.2f}): call before 10:00 and 16:00", as_of,
         TIER_PRIORITY[by_id[case_id].tier] + KIND_PRIORITY[TaskKind.PROMISE_FOLLOW_UP], by_id[case_id].collector_id,
         as_of)
        for pk, community_id, case_id, amount in (due.filter(case_id__in=ids) if len(ids) < 5000 else due).order_by("pk")
        if case_id in by_id
    ]
    bulk_insert(Task, TASK_FIELDS, tasks, ignore_conflicts=True)
    summary.tasks += len(tasks)


def _limitation_warnings(as_of, cases: dict, by_key, summary) -> None:
    tasks = []
    for key, case in cases.items():
        deadline = by_key[key].limitation_deadline
        days = rules.limitation_warning(deadline, as_of)
        if days is None:
            continue
        tasks.append((
            case.community_id, case.pk, f"limitation:{deadline.isoformat()}:{days}", TaskKind.LIMITATION_WARNING,
            Channel.LETTER, None, 8, "",
            f"诉讼时效将于 {deadline} 届满（剩 {(deadline - as_of).days} 天）：送达书面催告或取得业主确认 / "
            f"Limitation ends {deadline} ({(deadline - as_of).days} days left): deliver a written demand "
            "or get the owner's acknowledgement",
            as_of, TIER_PRIORITY[case.tier] + KIND_PRIORITY[TaskKind.LIMITATION_WARNING] + (100 - days),
            case.collector_id, as_of,
        ))
    bulk_insert(Task, TASK_FIELDS, tasks, ignore_conflicts=True)
    summary.tasks += len(tasks)
    summary.limitation_warnings += len(tasks)


def _pre_due_messages(as_of, community_ids, summary) -> None:
    """Owners not in arrears get the ladder's before-due steps for charges falling due within a week.

    "Prepaid credit just ran out": the unit's previous charge, due in the last quarter, was paid
    from money paid before that charge's period began, yet the coming charge is not covered.

    One statement finds them: the unsettled charges due within the window, without an open case of
    their unit and owner, joined with their community's active before-due message steps whose day has
    come, the credit condition tested against the unit's recent allocations, and the keys already
    queued left out. An owner-unit whose risk score reaches the community's `early_reminder_score`
    has each step's day `EARLY_REMINDER_DAYS` earlier; the key is the same, so it is sent once.
    """
    quote = connection.ops.quote_name

    def t(model):
        return quote(model._meta.db_table)

    if connection.vendor == "postgresql":
        due_text = "to_char(c.due_date, 'YYYY-MM-DD')"
        step_day = "CAST(%s AS date) - s.day_offset"
        early_day = f"CAST(%s AS date) - s.day_offset + {EARLY_REMINDER_DAYS}"
    else:
        due_text = "c.due_date"
        step_day = "date(%s, '+' || (-s.day_offset) || ' days')"
        early_day = f"date(%s, '+' || ({EARLY_REMINDER_DAYS} - s.day_offset) || ' days')"
    key = f"'due:' || c.unit_id || ':' || c.owner_id || ':' || {due_text} || ':' || s.code"
    channels = ", ".join(f"'{channel}'" for channel in sorted(MESSAGE_CHANNELS))
    in_communities, community_params = "", []
    if community_ids is not None:
        community_ids = list(community_ids)
        if not community_ids:
            return
        in_communities = f"AND ch.community_id IN ({', '.join('%s' for _ in community_ids)})"
        community_params = community_ids
    sql = f"""
        WITH candidate AS (
            SELECT DISTINCT ch.community_id, ch.unit_id, ch.owner_id, ch.due_date FROM {t(Charge)} ch
            WHERE ch.due_date > %s AND ch.due_date <= %s AND ch.settled_on IS NULL {in_communities}
            AND NOT EXISTS (SELECT 1 FROM {t(Case)} k WHERE k.status = '{CaseStatus.OPEN}'
                            AND k.unit_id = ch.unit_id AND k.owner_id = ch.owner_id)
        ), exhausted AS (
            SELECT DISTINCT pc.unit_id FROM {t(Charge)} pc
            JOIN {t(Allocation)} a ON a.charge_id = pc.id
            JOIN {t(Payment)} p ON p.id = a.payment_id
            WHERE pc.due_date >= %s AND pc.due_date <= %s AND a.component = '{Component.PRINCIPAL}'
            AND a.reversal_id IS NULL AND p.paid_on < pc.period_start
            AND pc.unit_id IN (SELECT unit_id FROM candidate)
        )
        SELECT c.community_id, c.unit_id, c.owner_id, c.due_date, s.id, s.code, s.channel, s.template_code
        FROM candidate c
        JOIN {t(CollectionPolicy)} pol ON pol.community_id = c.community_id
        JOIN {t(LadderStep)} s ON s.policy_id = pol.id
        LEFT JOIN exhausted e ON e.unit_id = c.unit_id
        LEFT JOIN {t(RiskScore)} r ON r.unit_id = c.unit_id AND r.owner_id = c.owner_id
        WHERE s.active AND s.day_offset < 0 AND s.channel IN ({channels})
        AND (c.due_date <= {step_day}
             OR (pol.early_reminder_score IS NOT NULL AND r.score >= pol.early_reminder_score
                 AND c.due_date <= {early_day}))
        AND (s.credit NOT IN ('{CreditCondition.EXHAUSTED}', '{CreditCondition.NOT_EXHAUSTED}')
             OR (s.credit = '{CreditCondition.EXHAUSTED}' AND e.unit_id IS NOT NULL)
             OR (s.credit = '{CreditCondition.NOT_EXHAUSTED}' AND e.unit_id IS NULL))
        AND NOT EXISTS (SELECT 1 FROM {t(OutgoingMessage)} m WHERE m.key = {key})
        ORDER BY c.community_id, c.unit_id, c.owner_id, c.due_date, s.day_offset, s.id
    """
    params = [as_of, as_of + timedelta(days=PRE_DUE_WINDOW_DAYS + EARLY_REMINDER_DAYS), *community_params,
              as_of - timedelta(days=93), as_of, as_of, as_of]
    if connection.vendor == "sqlite":
        params = [value.isoformat() if isinstance(value, date) else value for value in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    _queue_messages([
        QueuedMessage(community_id=community_id, case_id=None, unit_id=unit_id, owner_id=owner_id,
                      key=f"due:{unit_id}:{owner_id}:{_as_date(due).isoformat()}:{code}", channel=channel,
                      step_id=step_id, template_code=template_code, scheduled_on=as_of)
        for community_id, unit_id, owner_id, due, step_id, code, channel, template_code in found
    ], summary)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
