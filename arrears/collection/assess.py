"""Read-only assessment of every owner in arrears on a date: the figures and signals the daily run
writes into cases, and `arrears report cases` prints.

Set-based: one pass over the open charges (ledger `charge_lines`), then a handful of grouped
queries over what belongs to open arrears (attempts, promises, tickets, events). Nothing here
reads years of settled history, so the cost follows the open arrears.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Max, Q

from arrears.collection import limitation, rules
from arrears.collection.models import (
    FAILED_OUTCOMES,
    Case,
    CaseStatus,
    ChargeDispute,
    CollectionPolicy,
    ContactAttempt,
    ExcuseReason,
    Intent,
    LimitationEvent,
    Outcome,
    OwnerProfile,
    Promise,
    PromiseStatus,
    Reason,
)
from arrears.core.money import ZERO
from arrears.estate.models import Satisfaction, ServiceTicket, TicketKind, Unit, UnitStatus
from arrears.ledger.models import Allocation, Component
from arrears.ledger.selectors import charge_lines

SIGNAL_LOOKBACK_DAYS = 365


@dataclass
class Assessment:
    """One owner's arrears on one unit as of a date."""

    community_id: int
    unit_id: int
    owner_id: int
    principal: Decimal = ZERO
    late_fee: Decimal = ZERO
    oldest_due: date | None = None
    days_overdue: int = 0
    months: int = 0
    bucket: str = ""
    tier: str = ""
    charge_ids: list[int] = field(default_factory=list)
    disputed_charge_ids: list[int] = field(default_factory=list)
    signals: rules.Signals = field(default_factory=rules.Signals)
    situations: list[int] = field(default_factory=list)
    techniques: list[int] = field(default_factory=list)
    suggested_persona: str = ""
    persona: str = ""  # the collector's judgement, "" until set
    irritable: bool = False
    limitation_deadline: date | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.unit_id, self.owner_id)

    @property
    def paused_by_dispute(self) -> bool:
        """Every overdue charge is disputed: collection pauses (a partly disputed case goes on)."""
        return bool(self.charge_ids) and len(self.disputed_charge_ids) == len(self.charge_ids)


def policies_by_community(community_ids=None) -> dict[int, CollectionPolicy]:
    policies = CollectionPolicy.objects.all()
    if community_ids is not None:
        policies = policies.filter(community_id__in=list(community_ids))
    return {policy.community_id: policy for policy in policies}


def policy_or_default(policies: dict[int, CollectionPolicy], community_id: int) -> CollectionPolicy:
    return policies.get(community_id) or CollectionPolicy(community_id=community_id)


def thresholds_of(policy: CollectionPolicy) -> rules.TierThresholds:
    return rules.TierThresholds(policy.tier_a_months, policy.tier_a_amount, policy.tier_b_months, policy.tier_b_amount)


def assess(as_of: date, *, community_ids=None) -> list[Assessment]:
    """Every (unit, owner) with principal overdue on `as_of`, with tier, bucket, signals and techniques."""
    lines = charge_lines(as_of, community_ids=community_ids)
    unit_community = {}
    found: dict[tuple[int, int], Assessment] = {}
    for line in lines:
        if line.outstanding <= ZERO:
            continue
        key = (line.unit_id, line.owner_id)
        entry = found.get(key)
        if entry is None:
            entry = found[key] = Assessment(community_id=0, unit_id=line.unit_id, owner_id=line.owner_id)
        entry.principal += line.outstanding
        entry.late_fee += line.late_fee
        entry.charge_ids.append(line.charge_id)
        if entry.oldest_due is None or line.due < entry.oldest_due:
            entry.oldest_due = line.due
    if not found:
        return []
    # Late fee left on charges whose principal is paid still belongs to the owner's case.
    for line in lines:
        entry = found.get((line.unit_id, line.owner_id))
        if entry is not None and line.outstanding <= ZERO:
            entry.late_fee += line.late_fee
    unit_ids = {key[0] for key in found}
    units = Unit.objects.order_by()
    if community_ids is not None:
        units = units.filter(community_id__in=list(community_ids))
    if len(unit_ids) < 500:
        units = units.filter(pk__in=unit_ids)
    vacant_since = {}
    for pk, community_id, status, since in units.values_list("pk", "community_id", "status", "status_since"):
        if pk in unit_ids:
            unit_community[pk] = community_id
            if status == UnitStatus.VACANT and since is not None:
                vacant_since[pk] = since
    policies = policies_by_community({unit_community[u] for u in unit_ids})
    for entry in found.values():
        entry.community_id = unit_community[entry.unit_id]
        policy = policy_or_default(policies, entry.community_id)
        entry.days_overdue = (as_of - entry.oldest_due).days
        entry.months = rules.whole_months(entry.oldest_due, as_of)
        entry.bucket = rules.bucket_of(entry.days_overdue)
        entry.tier = rules.tier_of(entry.months, entry.principal, thresholds_of(policy))
    _attach_disputes(found, as_of)
    _attach_signals(found, as_of, vacant_since, policies)
    _attach_limitation(found, as_of, community_ids, lines)
    return sorted(found.values(), key=lambda a: (a.community_id, a.unit_id, a.owner_id))


def _scoped(queryset, community_ids, field_name="community_id"):
    if community_ids is None:
        return queryset
    return queryset.filter(**{f"{field_name}__in": list(community_ids)})


def _attach_disputes(found, as_of):
    disputed = set(
        ChargeDispute.objects.filter(opened_on__lte=as_of)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=as_of))
        .values_list("charge_id", flat=True)
    )
    if not disputed:
        return
    for entry in found.values():
        entry.disputed_charge_ids = [pk for pk in entry.charge_ids if pk in disputed]


def _attach_signals(found, as_of, vacant_since, policies):
    community_ids = {entry.community_id for entry in found.values()}
    since = as_of - timedelta(days=SIGNAL_LOOKBACK_DAYS)
    open_owner_ids = Case.objects.filter(status=CaseStatus.OPEN).values("owner_id")

    broken = defaultdict(int)
    for unit_id, owner_id, count in (
        Promise.objects.filter(status=PromiseStatus.BROKEN, resolved_on__lte=as_of, community_id__in=community_ids)
        .values_list("case__unit_id", "case__owner_id").annotate(n=Count("pk")).order_by()
    ):
        broken[(unit_id, owner_id)] = count

    # Attempts of the last year of owners with an open case, oldest first: streaks and excuses.
    # Only the current version of each contact counts (its latest correction), and never a contact
    # with a third party, who can neither refuse nor excuse anything for the owner.
    streak, dead, excuses, refused, economic = defaultdict(int), set(), defaultdict(int), set(), set()
    attempts = (
        ContactAttempt.objects.current()
        .filter(at__date__gte=since, at__date__lte=as_of, owner_id__in=open_owner_ids, third_party=False)
        .exclude(outcome=Outcome.BLOCKED)
        .order_by("at", "pk")
        .values_list("unit_id", "owner_id", "outcome", "reason")
    )
    for unit_id, owner_id, outcome, reason in attempts:
        key = (unit_id, owner_id)
        if outcome in FAILED_OUTCOMES:
            streak[key] += 1
            if outcome == Outcome.DEAD_NUMBER:
                dead.add(key)
        else:
            streak[key] = 0
            dead.discard(key)
        if reason in (ExcuseReason.BUSY, ExcuseReason.AWAY):
            excuses[key] += 1
        if reason == ExcuseReason.ECONOMIC:
            economic.add(key)
        if outcome == Outcome.REFUSED:
            refused.add(key)

    tickets = ServiceTicket.objects.filter(community_id__in=community_ids, opened_on__lte=as_of)
    rectification = set(
        tickets.filter(kind=TicketKind.RECTIFICATION).filter(Q(closed_on__isnull=True) | Q(closed_on__gt=as_of))
        .values_list("unit_id", flat=True)
    )
    unhappy = set(
        tickets.filter(closed_on__lte=as_of, satisfaction=Satisfaction.UNSATISFIED).values_list("unit_id", flat=True)
    )
    owner_ids = {entry.owner_id for entry in found.values()}
    profiles = {
        owner_id: (persona, irritable, reason, intent)
        for owner_id, persona, irritable, reason, intent in OwnerProfile.objects.filter(
            community_id__in=community_ids
        ).values_list("owner_id", "persona", "irritable", "reason", "intent")
        if owner_id in owner_ids
    }
    for entry in found.values():
        key = entry.key
        policy = policy_or_default(policies, entry.community_id)
        persona, irritable, reason, intent = profiles.get(entry.owner_id, ("", False, "", ""))
        vacant_months = rules.whole_months(vacant_since[entry.unit_id], as_of) if entry.unit_id in vacant_since else 0
        entry.signals = rules.Signals(
            days_overdue=entry.days_overdue,
            broken_promises=broken[key],
            failed_streak=streak[key],
            dead_number=key in dead,
            open_rectification=entry.unit_id in rectification,
            vacant_months=vacant_months,
            unhappy_past=entry.unit_id in unhappy,
            excuses=excuses[key],
            refused=key in refused,
            deliberate=intent == Intent.DELIBERATE,
            economic=key in economic or reason == Reason.ECONOMIC,
        )
        thresholds = rules.SignalThresholds(policy.unreachable_after, policy.vacant_months)
        entry.situations = rules.situations_of(entry.signals, thresholds)
        entry.irritable = irritable
        entry.suggested_persona = rules.suggest_persona(entry.signals, entry.situations)
        entry.persona = persona
        # The collector's persona when set, else the system's guess, orders the techniques.
        entry.techniques = rules.techniques_for(entry.situations, irritable=irritable,
                                                persona=persona or entry.suggested_persona)


PART_PAYMENT = "part_payment"  # the ledger's restart, next to LimitationEventKind's


@dataclass(frozen=True)
class ChargeLimitation:
    """One overdue charge's limitation deadline (民法典第188/195条) and what last restarted it:
    `restarted_on` and `restarted_by` (a LimitationEventKind or PART_PAYMENT) are None while the
    period still runs from the due date."""

    charge_id: int
    unit_id: int
    owner_id: int
    due: date
    deadline: date
    restarted_on: date | None = None
    restarted_by: str | None = None


def charge_limitations(lines, as_of: date, *, community_ids=None) -> dict[int, ChargeLimitation]:
    """Each charge of `lines` (ledger `charge_lines` on `as_of`) with principal outstanding: its deadline.

    Three years from the due date, restarted by the latest proven event of the charge's owner and
    unit, or by the latest part payment of that charge alone. An event counts once a proof was
    added by the end of `as_of`, and then from its own date (collection/limitation.py); an
    unproven one (待补证据) never moves the deadline. Two queries, whatever the number of charges.
    """
    overdue = [line for line in lines if line.outstanding > ZERO]
    if not overdue:
        return {}
    # The latest proven event of each owner and unit; on one day the later recorded one names it.
    latest = {}
    for unit_id, owner_id, day, kind in (
        _scoped(LimitationEvent.objects.filter(limitation.proven(as_of), limitation.standing(as_of), occurred_on__lte=as_of), community_ids)
        .order_by("occurred_on", "pk").values_list("unit_id", "owner_id", "occurred_on", "kind")
    ):
        latest[(unit_id, owner_id)] = (day, kind)
    # Only charges the ledger says were partly paid can have a part payment: look those up by id
    # (through the allocation index), never join the whole allocation history. A payment reversed
    # by `as_of` (a bounced transfer, money booked to the wrong owner) was no part payment: it
    # restarts nothing.
    part_paid = {}
    ids = sorted(line.charge_id for line in overdue if line.paid > ZERO)
    for start in range(0, len(ids), 5000):
        part_paid.update(
            Allocation.objects.filter(
                charge_id__in=ids[start:start + 5000], component=Component.PRINCIPAL, reversal__isnull=True,
                value_date__lte=as_of,
            ).exclude(payment__reversal__reversed_on__lte=as_of).values_list("charge_id").annotate(last=Max("value_date")).order_by()
        )
    found = {}
    for line in overdue:
        restarts = []
        event = latest.get((line.unit_id, line.owner_id))
        if event is not None:
            restarts.append(event)
        if line.charge_id in part_paid:
            restarts.append((part_paid[line.charge_id], PART_PAYMENT))
        # On one day an event of the owner and a part payment restart alike: the event names it.
        last = max(restarts, key=lambda restart: (restart[0], restart[1] != PART_PAYMENT), default=None)
        deadline = rules.limitation_deadline(line.due, [last[0]] if last else [])
        if last is not None and last[0] <= line.due:
            last = None  # a restart on or before the due date changes nothing
        found[line.charge_id] = ChargeLimitation(
            charge_id=line.charge_id, unit_id=line.unit_id, owner_id=line.owner_id, due=line.due, deadline=deadline,
            restarted_on=last[0] if last else None, restarted_by=last[1] if last else None,
        )
    return found


def _attach_limitation(found, as_of, community_ids, lines):
    """Each case's deadline: the nearest of its overdue charges' (`charge_limitations`)."""
    charges = charge_limitations(lines, as_of, community_ids=community_ids)
    for entry in found.values():
        deadlines = [charges[pk].deadline for pk in entry.charge_ids if pk in charges]
        entry.limitation_deadline = min(deadlines) if deadlines else None
