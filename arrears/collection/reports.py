"""`arrears report cases`: every owner in arrears on a date, with the method's view of them;
`arrears report limitation`: every overdue charge whose limitation deadline is near.

Read-only: figures come from the ledger as of the date (so the report is right even before the
day's run), the ladder position from the case's fired steps, the guard's verdict from the guard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from arrears.collection import guard, rules
from arrears.collection.assess import PART_PAYMENT, Assessment, assess, charge_limitations
from arrears.collection.models import (
    Case,
    CaseStatus,
    CaseStep,
    LimitationEventKind,
    MessageStatus,
    OutgoingMessage,
    Task,
    TaskStatus,
)
from arrears.core.text import natural_key
from arrears.estate.models import Owner, Unit
from arrears.ledger.selectors import charge_lines

NEXT_STEPS = 4
CHECK_AT = time(10, 0)  # inside every default window: the verdict then is about the day, not the hour


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, CHECK_AT))


def _open_cases_of(keys, community_ids):
    """Open cases of the given (unit, owner) keys: by unit when few (the unit page), by community when many."""
    cases = Case.objects.filter(status=CaseStatus.OPEN, community_id__in=community_ids)
    if len(keys) < 500:
        cases = cases.filter(unit_id__in={unit_id for unit_id, _ in keys})
    return cases


def next_steps_for(assessments: list[Assessment], as_of: date) -> dict[tuple[int, int], list[dict]]:
    """The next steps of each case: open tasks, queued messages, then the ladder's coming steps."""
    return next_steps_and_decisions(assessments, as_of)[0]


def next_steps_and_decisions(assessments: list[Assessment], as_of: date, also: Sequence[guard.ContactRequest] = (),
                             ) -> tuple[dict[tuple[int, int], list[dict]], list[guard.GuardDecision]]:
    """`next_steps_for`, with the guard's decisions on `also` taken in the same batch (one pass of
    the guard's queries for a page that needs both)."""
    if not assessments:
        return {}, guard.check_many(list(also))
    from arrears.collection.run import (  # the run owns the ladder's loading
        delivered_letters,
        ladders,
        step_rule,
    )

    keys = {a.key for a in assessments}
    community_ids = {a.community_id for a in assessments}
    cases = {
        (case.unit_id, case.owner_id): case
        for case in _open_cases_of(keys, community_ids)
        if (case.unit_id, case.owner_id) in keys
    }
    case_ids = [case.pk for case in cases.values()]
    fired: dict[int, dict[str, date]] = {}
    for case_id, code, day in CaseStep.objects.filter(case_id__in=case_ids, fired_on__lte=as_of).values_list(
        "case_id", "step__code", "fired_on"
    ):
        fired.setdefault(case_id, {})[code] = day
    deliveries = delivered_letters(case_ids, as_of)
    pending: dict[int, list[tuple[str, date]]] = {}
    for case_id, channel, due in Task.objects.filter(case_id__in=case_ids, status=TaskStatus.OPEN).values_list(
        "case_id", "channel", "due_on"
    ).order_by("due_on", "pk"):
        pending.setdefault(case_id, []).append((channel, max(due, as_of)))
    for case_id, channel, due in OutgoingMessage.objects.filter(
        case_id__in=case_ids, status=MessageStatus.QUEUED
    ).values_list("case_id", "channel", "scheduled_on").order_by("scheduled_on", "pk"):
        pending.setdefault(case_id, []).append((channel, max(due, as_of)))
    steps_by_community = ladders(community_ids)
    plans: dict[tuple[int, int], list[tuple[str, date]]] = {}
    for a in assessments:
        case = cases.get(a.key)
        done = fired.get(case.pk, {}) if case else {}
        quiet_until = case.quiet_until if case else None
        planned = list(pending.get(case.pk, [])) if case else []
        ladder = sorted((s for s in steps_by_community.get(a.community_id, []) if s.day_offset > 0),
                        key=lambda s: (s.day_offset, s.code))
        delivered = rules.deliveries_by_step(done, {s.code: s.channel for s in ladder},
                                            deliveries.get(case.pk, {}) if case else {})
        state = rules.CaseState(
            days_overdue=a.days_overdue, tier=a.tier, persona=a.persona or a.suggested_persona, principal=a.principal,
            months=a.months, fired=done, quiet_until=quiet_until, delivered=delivered,
        )
        due_today = {rule.code for rule in rules.steps_due([step_rule(s) for s in ladder], state, as_of)}
        planned_on = dict(done)
        for step in ladder:
            if step.code in done:
                continue
            rule = step_rule(step)
            if step.day_offset <= a.days_overdue:
                if step.code not in due_today:
                    continue  # passed over: the ladder does not go back for missed reminders
                due = as_of
            else:
                static = replace(rule, requires=(), lawyer_letter_eligibility=False)
                if not rules.step_conditions_hold(static, state, as_of):
                    continue
                due = a.oldest_due + timedelta(days=step.day_offset)
                since = delivered if rule.after_delivery else planned_on  # a follow-up waits for the delivery
                if any(code not in since for code in rule.requires):
                    continue
                for code in rule.requires:
                    due = max(due, since[code] + timedelta(days=max(rule.days_after_required, 1)))
            if quiet_until and due <= quiet_until and step.channel not in rules.INTERNAL_CHANNELS:
                due = quiet_until + timedelta(days=1)
            planned_on[step.code] = due
            planned.append((step.channel, due))
        plans[a.key] = sorted(planned, key=lambda item: item[1])[:NEXT_STEPS]
    requests, owners = [], []
    for a in assessments:
        case = cases.get(a.key)
        for channel, due in plans[a.key]:
            requests.append(guard.ContactRequest(
                owner_id=a.owner_id, unit_id=a.unit_id, channel=channel, at=_at(due), case_id=case.pk if case else None,
            ))
            owners.append((a.key, channel, due))
    decisions = guard.check_many([*requests, *also]) if requests or also else []
    result: dict[tuple[int, int], list[dict]] = {a.key: [] for a in assessments}
    for (key, channel, due), decision in zip(owners, decisions[:len(requests)], strict=True):
        result[key].append({
            "channel": channel, "due": due.isoformat(), "allowed": decision.allowed,
            "blocked_by": None if decision.allowed else decision.rule,
        })
    return result, decisions[len(requests):]


def case_rows(as_of: date, *, community_ids=None) -> list[dict]:
    """One object per open case (owner and unit with principal overdue) on `as_of`."""
    assessments = assess(as_of, community_ids=community_ids)
    if not assessments:
        return []
    unit_ids = {a.unit_id for a in assessments}
    owner_ids = {a.owner_id for a in assessments}
    units = {
        pk: (community, building, entrance, room)
        for pk, community, building, entrance, room in Unit.objects.filter(pk__in=unit_ids).values_list(
            "pk", "community__name", "building__name", "entrance", "room"
        )
    }
    owners = dict(Owner.objects.filter(pk__in=owner_ids).values_list("pk", "name"))
    steps = next_steps_for(assessments, as_of)
    # The daily run opens the case: before it (or for a date it has not run) there is none yet.
    cases = {
        (unit_id, owner_id): pk for pk, unit_id, owner_id in Case.objects.filter(
            status=CaseStatus.OPEN, unit_id__in=unit_ids, owner_id__in=owner_ids).values_list("pk", "unit_id", "owner_id")
    }
    rows = []
    for a in assessments:
        community, building, entrance, room = units[a.unit_id]
        rows.append({
            "case": cases.get(a.key), "community": community, "building": building, "unit": entrance, "room": room, "owner": owners[a.owner_id],
            "principal": f"{a.principal:.2f}", "late_fee": f"{a.late_fee:.2f}", "oldest_due": a.oldest_due.isoformat(),
            "days_overdue": a.days_overdue, "bucket": a.bucket, "tier": a.tier, "persona": a.persona or None,
            "situations": a.situations, "techniques": a.techniques, "next_steps": steps[a.key],
            "limitation_deadline": a.limitation_deadline.isoformat() if a.limitation_deadline else None,
        })
    rows.sort(key=lambda r: (r["community"], natural_key(r["building"]), natural_key(r["unit"]), natural_key(r["room"]), r["owner"]))
    return rows


# -- the limitation report ----------------------------------------------------------------------

LIMITATION_WINDOW_DAYS = 90
# What restarts a deadline (民法典第195条), in the order a desk would try them. Each counts only
# with its proof (collection/limitation.py PROOFS_FOR): a written demand with the letters module's
# delivery proof (tracking number or signed receipt); a promise with the call's recording or the
# owner's written acknowledgement; a plan with the owner's portal request or the signed plan; an
# acknowledgement with the signed document or the owner's portal action; a suit with the court's
# receipt. A part payment of the charge is its own proof and restarts that charge only.
RESTART_BY = (
    LimitationEventKind.WRITTEN_DEMAND.value, LimitationEventKind.ACKNOWLEDGEMENT.value, LimitationEventKind.PLAN.value,
    LimitationEventKind.PROMISE.value, PART_PAYMENT, LimitationEventKind.SUIT.value,
)


def limitation_rows(as_of: date, *, community_ids=None, units=None, days: int = LIMITATION_WINDOW_DAYS) -> list[dict]:
    """One object per overdue charge whose limitation deadline falls in [as_of, as_of + days].

    A deadline on `as_of` itself is listed (the last day to sue); one already passed is not. The
    deadlines are `assess`'s per charge, so the nearest of a case's charges is the case's
    `limitation_deadline` in `arrears report cases`. `units`, a Unit queryset, narrows the rows to
    a user's scope. Sorted by community, deadline, then building, entrance and room naturally.
    A fixed number of queries whatever the number of rows.
    """
    lines = charge_lines(as_of, community_ids=community_ids)
    if units is not None and lines:
        visible = set(units.filter(pk__in={line.unit_id for line in lines}).values_list("pk", flat=True)) \
            if len(lines) < 2000 else set(units.values_list("pk", flat=True))
        lines = [line for line in lines if line.unit_id in visible]
    last_day = as_of + timedelta(days=days)
    near = {pk: found for pk, found in charge_limitations(lines, as_of, community_ids=community_ids).items()
            if as_of <= found.deadline <= last_day}
    if not near:
        return []
    unit_ids = {found.unit_id for found in near.values()}
    places = {unit.pk: unit for unit in Unit.objects.filter(pk__in=unit_ids).select_related("community", "building")}
    owners = dict(Owner.objects.filter(pk__in={found.owner_id for found in near.values()}).values_list("pk", "name"))
    rows = []
    for line in lines:
        found = near.get(line.charge_id)
        if found is None:
            continue
        unit = places[line.unit_id]
        rows.append({
            "community": unit.community.name, "building": unit.building.name, "unit": unit.entrance, "room": unit.room,
            "owner": owners[line.owner_id],
            "charge_type": line.charge_type, "period_start": line.period_start.isoformat(), "due": line.due.isoformat(),
            "outstanding": f"{line.outstanding:.2f}", "deadline": found.deadline.isoformat(), "restart_by": list(RESTART_BY),
            "last_restart": {"on": found.restarted_on.isoformat(), "kind": found.restarted_by} if found.restarted_on else None,
            # For pages, not printed: dropped by `limitation_report`.
            "_unit": unit, "_owner_id": line.owner_id, "_deadline": found.deadline, "_restarted_on": found.restarted_on,
        })
    rows.sort(key=lambda r: (r["community"], r["deadline"], natural_key(r["building"]), natural_key(r["unit"]),
                             natural_key(r["room"]), r["owner"], r["due"], r["charge_type"]))
    return rows


def limitation_report(as_of: date, *, community_ids=None) -> list[dict]:
    """`arrears report limitation`: `limitation_rows` as printed."""
    return [{key: value for key, value in row.items() if not key.startswith("_")}
            for row in limitation_rows(as_of, community_ids=community_ids)]
