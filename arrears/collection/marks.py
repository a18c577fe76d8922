"""High-water marks of what the daily run reads, per community: a same-date rerun redoes only the
communities whose marks moved.

The run is a function of the data it reads and of the date. Two kinds of tables feed it:

- ledger and evidence tables that only ever grow (charges, payments, allocations, reversals,
  contact attempts): their highest id, read at the *start* of a run, once no lower id is left
  to commit (`settled_highest_ids`). Rows above it on a rerun name the communities they belong
  to. Reading the mark before the run (not after) is conservative: a payment committed while
  the run was going is redone by the next run, never missed.
- tables whose rows change (waivers approved, promises and plans resolved, disputes and tickets
  closed, units falling vacant, an owner's do-not-contact, policies and ladders, open cases and
  tasks, the week's messages): a digest per community of every row the run can read, taken at
  the *start* of the run, so that a change committed while it goes is redone by the next run;
  the tables the run writes itself (cases, tasks, messages, promises, plans) are digested again
  at the *end*, after its own writes, so that those writes do not count as a change. (A waiver
  the run requests for a completed plan makes the next rerun redo its community once.)

A community whose marks equal the stored ones is skipped: the run is idempotent, so running it
again over the same data for the same date would change nothing. Anything global (holidays,
companies, charge types) moving redoes every community.
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections import defaultdict
from datetime import date, timedelta
from typing import NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import OperationalError, connection, transaction
from django.db.models import F, Max, Q

from arrears.collection import models
from arrears.estate.models import Community, Company, Contact, Owner, Ownership, ServiceTicket, Unit
from arrears.ledger.models import (
    Allocation,
    Charge,
    ChargeType,
    Payment,
    PaymentReversal,
    Tariff,
    Waiver,
)

VERSION = 3  # 2: ownerships digested; 3: digests read before the run

logger = logging.getLogger(__name__)

# Rows are inserted, never changed (their changes are rows of their own); the run writes none of them.
GROWING = {
    "charge": Charge, "allocation": Allocation, "payment": Payment, "reversal": PaymentReversal,
    "attempt": models.ContactAttempt,
}
# The changing tables the run writes: digested after its writes (the others before it reads them).
RUN_WRITES = frozenset({"case", "task", "message", "promise", "plan"})
# The guard's caps look back a week: older messages cannot change a decision.
MESSAGE_LOOKBACK_DAYS = 14


def _changing(as_of: date) -> list[tuple[str, object, str]]:
    """(label, rows, path to the community) of every changing table the run reads."""
    since = as_of - timedelta(days=MESSAGE_LOOKBACK_DAYS)
    return [
        ("waiver", Waiver.objects.all(), "community_id"),
        ("promise", models.Promise.objects.all(), "community_id"),
        ("plan", models.InstalmentPlan.objects.all(), "community_id"),
        ("instalment", models.Instalment.objects.all(), "community_id"),
        ("dispute", models.ChargeDispute.objects.all(), "community_id"),
        ("event", models.LimitationEvent.objects.all(), "community_id"),
        ("proof", models.LimitationProof.objects.all(), "community_id"),
        ("ticket", ServiceTicket.objects.all(), "community_id"),
        ("profile", models.OwnerProfile.objects.all(), "community_id"),
        ("policy", models.CollectionPolicy.objects.all(), "community_id"),
        ("step", models.LadderStep.objects.all(), "policy__community_id"),
        ("assignment", models.CollectorAssignment.objects.all(), "community_id"),
        ("tariff", Tariff.objects.all(), "community_id"),
        ("community", Community.objects.all(), "id"),
        ("unit", Unit.objects.all(), "community_id"),
        ("owner", Owner.objects.all(), "community_id"),
        ("ownership", Ownership.objects.all(), "community_id"),  # the summary's owned units
        ("contact", Contact.objects.all(), "community_id"),
        ("case", models.Case.objects.filter(status=models.CaseStatus.OPEN), "community_id"),
        ("task", models.Task.objects.filter(status=models.TaskStatus.OPEN), "community_id"),
        ("message", models.OutgoingMessage.objects.filter(
            Q(status=models.MessageStatus.QUEUED) | Q(scheduled_on__gte=since) | Q(not_before__date__gte=since)
        ), "community_id"),
    ]


def _global(as_of: date) -> list[tuple[str, object]]:
    return [
        ("holiday", models.HolidayArrangement.objects.all()),
        ("company", Company.objects.all()),
        ("charge_type", ChargeType.objects.all()),
    ]


def highest_ids() -> dict[str, int]:
    """The highest id of each growing table: one index probe each."""
    return {label: model.objects.aggregate(top=Max("pk"))["top"] or 0 for label, model in GROWING.items()}


# How long a run waits for a table's open writers before it settles for an older mark.
SETTLE_LOCK_TIMEOUT_MS = 5000


def settled(model, read, fallback):
    """`read()` once no transaction writing `model`'s table is left open (PostgreSQL; at once elsewhere).

    On PostgreSQL an id is taken when a row is written but seen when its transaction commits: a
    payment can hold id 100 uncommitted while id 101 commits, and a run that read 101 as its mark,
    never seeing 100, would skip it on every rerun. Under a SHARE lock of the table, which waits
    for every transaction writing it to end and is let go at once, any row not seen yet gets a
    higher id. One table per transaction: holding one lock while waiting for another could close
    a cycle with a payment writing both. Call it outside a transaction (inside one, the locks are
    held to its end).

    A writer that stays open longer than `SETTLE_LOCK_TIMEOUT_MS` (a long import) is not waited
    for — while the run waits, the tills' payments queue behind its lock request — and the mark is
    `fallback`, an older one that was settled: the next rerun then redoes more than it must, never less.
    """
    if connection.vendor != "postgresql":
        return read()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = {int(SETTLE_LOCK_TIMEOUT_MS)}")
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(model._meta.db_table)} IN SHARE MODE")
            cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
            return read()
    except OperationalError as error:
        if getattr(getattr(error, "__cause__", None), "sqlstate", None) != "55P03":  # lock_not_available
            raise
        logger.warning("run marks: %s still has a writer open after %s ms; using the older mark %s",
                       model._meta.db_table, SETTLE_LOCK_TIMEOUT_MS, fallback)
        return fallback


def last_settled_ids() -> dict[str, int]:
    """The growing tables' ids of the latest finished run (any date): settled when it read them, so
    no row below them can still commit."""
    latest = (models.CollectionRun.objects.filter(finished_at__isnull=False).order_by("-finished_at", "-pk")
              .values_list("marks", flat=True).first()) or {}
    stored = latest.get("max", {}) if latest.get("version") == VERSION else {}
    return {label: int(stored.get(label, 0)) for label in GROWING}


def settled_highest_ids() -> dict[str, int]:
    """`highest_ids` with no lower id left to commit (`settled`)."""
    fallback = last_settled_ids() if connection.vendor == "postgresql" else {}
    return {label: settled(model, lambda model=model: model.objects.aggregate(top=Max("pk"))["top"] or 0,
                           fallback.get(label, 0))
            for label, model in GROWING.items()}


def grown_communities(previous: dict[str, int], now: dict[str, int]) -> set[int]:
    """Communities with rows added to a growing table since `previous` (through the primary key)."""
    moved = set()
    for label, model in GROWING.items():
        if now[label] > previous.get(label, 0):
            moved.update(
                model.objects.filter(pk__gt=previous.get(label, 0)).values_list("community_id", flat=True).distinct()
            )
    return moved


def _columns(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _digest_rows(queryset, path: str | None) -> dict:
    """community (or None) → (row count, sum of row hashes), computed where the rows are."""
    columns = _columns(queryset.model)
    if connection.vendor == "postgresql":
        if path is None:
            rows = queryset.annotate(mark_group=F("pk") * 0)
        else:
            rows = queryset.annotate(mark_group=F(path))
        try:
            sql, params = rows.values_list("mark_group", *columns).order_by().query.sql_with_params()
        except EmptyResultSet:  # a filter on no ids (a company with no community yet): nothing to digest
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.mark_group, count(*), sum(hashtextextended(s::text, 0))::text FROM ({sql}) s "
                "GROUP BY s.mark_group", params,
            )
            return {(None if path is None else group): (count, total) for group, count, total in cursor.fetchall()}
    found = defaultdict(lambda: [0, 0])
    fields = [path] if path is not None else []
    for row in queryset.order_by().values_list(*fields, *columns).iterator(chunk_size=5000):
        group = row[0] if path is not None else None
        entry = found[group]
        entry[0] += 1
        entry[1] += zlib.crc32(repr(row).encode())
    return {group: (count, str(total)) for group, (count, total) in found.items()}


def _parts(as_of: date, community_ids=None, labels=None) -> dict:
    """{community id: ["label:count:sum", …]} of the changing tables (those of `labels`, or all)."""
    parts = defaultdict(list)
    for label, queryset, path in _changing(as_of):
        if labels is not None and label not in labels:
            continue
        if community_ids is not None:
            queryset = queryset.filter(**{f"{path}__in": list(community_ids)})
        for community_id, (count, total) in _digest_rows(queryset, path).items():
            parts[str(community_id)].append(f"{label}:{count}:{total}")
    return parts


def _global_digest(as_of: date) -> str:
    return _hash([f"{label}:{_digest_rows(queryset, None).get(None, (0, '0'))}" for label, queryset in _global(as_of)])


def digests(as_of: date, community_ids=None) -> tuple[str, dict[str, str]]:
    """(digest of the global tables, {community id: digest of its changing rows})."""
    return _global_digest(as_of), {key: _hash(items) for key, items in _parts(as_of, community_ids).items()}


def _hash(items: list[str]) -> str:
    return hashlib.blake2b("|".join(sorted(items)).encode(), digest_size=12).hexdigest()


class Start(NamedTuple):
    """What a run read of its marks before it read anything else."""

    redo: list[int]  # the communities to run
    glob: str  # the global tables' digest
    before: dict  # the redone communities' parts of the tables the run does not write, read before it
    kept: dict  # the digests of the communities that did not move


def moved_communities(previous: dict, as_of: date, scope: list[int], top: dict[str, int]) -> Start:
    """The communities of `scope` whose marks moved since `previous` (all of them without marks).

    `top` are the growing tables' highest ids read before the run (`settled_highest_ids`). Every
    changing table is digested now, before the run reads it: a row changed while the run goes
    (an owner set do-not-contact, a waiver approved after the run assessed the owner) then differs
    from what the run stores and is redone by the next run. Only the tables the run writes itself
    (`RUN_WRITES`) are digested again after its writes (`finish`), so those writes are not taken
    for a change.
    """
    glob, current = _global_digest(as_of), _parts(as_of, scope)
    before = {key: [item for item in items if item.split(":", 1)[0] not in RUN_WRITES] for key, items in current.items()}
    if not previous or previous.get("version") != VERSION or previous.get("global") != glob:
        return Start(list(scope), glob, before, {})
    stored = previous.get("communities", {})
    hashed = {key: _hash(items) for key, items in current.items()}
    moved = grown_communities(previous.get("max", {}), top)
    moved.update(c for c in scope if str(c) not in stored or stored[str(c)] != hashed.get(str(c)))
    redo = sorted(c for c in scope if c in moved)
    return Start(redo, glob, {key: value for key, value in before.items() if int(key) in moved},
                 {key: value for key, value in hashed.items() if int(key) not in moved})


def finish(as_of: date, start: Start, community_ids=None) -> dict[str, str]:
    """The digests of the redone communities (`community_ids`, None: all): the tables the run does not
    write as they were before it, those it writes as they are after its writes."""
    after = _parts(as_of, community_ids, labels=RUN_WRITES)
    keys = set(after) | set(start.before) if community_ids is None else {str(c) for c in community_ids}
    return {key: _hash(start.before.get(key, []) + after.get(key, [])) for key in keys}


def marks(top: dict[str, int], glob: str, communities: dict[str, str], previous: dict | None = None) -> dict:
    """The marks to store: growing tables' ids and digests read before the run, those of its own tables after it."""
    previous = previous or {}
    # A community's digest vouches for it only under the global tables it was taken with: when they
    # moved (a partial run saw a new holiday calendar), the communities this run did not redo are
    # forgotten, so the next full run redoes them.
    same = previous.get("version") == VERSION and previous.get("global") == glob
    merged = dict(previous.get("communities", {})) if same else {}
    merged.update(communities)
    return {"version": VERSION, "max": top, "global": glob, "communities": merged}
