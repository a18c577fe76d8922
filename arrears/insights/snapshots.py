"""Monthly snapshots of the KPIs' ledger sums, refreshed after the daily run, equal to the live read.

The dashboard's 24-month trend would read a year of charges per point; the daily run stores each
building's `kpis.Figures` as of every month end and as of the last complete day (yesterday: a day
still taking payments would be stale by the first one). A read takes a stored row only where
nothing in its community's ledger moved since it was written: rows past the `SnapshotState`
marks give the earliest date they touch, and that date and every later one are read live
instead (a payment entered today with last month's value date moves last month's point and
every point after it). So the stored figures always equal the live computation (tests prove it);
the next daily run writes them again.

Cases, promises and answers are small tables and move in place; their sums are always read live
and only for the last point (`current`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Min, Sum
from django.utils import timezone

from arrears.collection.summary import waiver_mark
from arrears.estate.models import Building
from arrears.insights import kpis
from arrears.insights.kpis import Figures
from arrears.insights.models import KpiSnapshot, SnapshotState
from arrears.ledger.models import Allocation, Charge, Waiver, WaiverStatus
from arrears.ledger.rules import add_months

STORED = kpis.MONEY_FIELDS + ("households_billed", "households_owing")
MONTHS = 24


def month_ends(as_of: date, months: int = MONTHS) -> list[date]:
    """The `months` points of a trend, oldest first: the month ends before `as_of`'s month, then `as_of`."""
    first = as_of.replace(day=1)
    points = [kpis.month_end(day.year, day.month) for day in (add_months(first, -n) for n in range(months - 1, 0, -1))]
    return [*points, as_of]


def _buildings(building_ids) -> dict[int, int]:
    buildings = Building.objects.order_by()
    if building_ids is not None:
        buildings = buildings.filter(pk__in=sorted(set(building_ids)))
    return dict(buildings.values_list("pk", "community_id"))


def stale_since(community_ids) -> dict[int, date | None]:
    """Per community with snapshots: the earliest date a ledger row written since touches (None: none).

    Rows past a mark are few (a day's payments), so each table is read from its primary key upward,
    grouped by community, once per distinct mark (communities refreshed together share one): the
    first value date of allocations, due date of charges, decision date of waivers now approved.
    """
    states = list(SnapshotState.objects.filter(community_id__in=sorted(set(community_ids)))
                  .values_list("community_id", "allocation_mark", "charge_mark", "waiver_mark"))
    result: dict[int, date | None] = {community_id: None for community_id, *_ in states}
    for model, index, day, extra in ((Allocation, 1, "value_date", {}), (Charge, 2, "due_date", {}),
                                     (Waiver, 3, "decided_on", {"status": WaiverStatus.APPROVED})):
        by_mark: dict[int, list[int]] = defaultdict(list)
        for state in states:
            by_mark[state[index]].append(state[0])
        for mark, communities in by_mark.items():
            rows = (model.objects.filter(pk__gt=mark, community_id__in=communities, **extra).order_by()
                    .values("community_id").annotate(first=Min(day)).values_list("community_id", "first"))
            for community_id, first in rows:
                if first is not None and (result[community_id] is None or first < result[community_id]):
                    result[community_id] = first
    return result


def _stored(building_ids, dates, *, per_community: bool = False) -> tuple[dict[date, dict], dict[date, set[int]]]:
    """The stored figures of these buildings on these dates, and the communities each date was written for.

    Per building, or with `per_community` each community's buildings added up in SQL and keyed
    ("community", id): for points that are only summed (one row a community instead of one a building).
    """
    rows = KpiSnapshot.objects.filter(as_of__in=list(dates)).order_by()
    if building_ids is not None:
        rows = rows.filter(building_id__in=sorted(set(building_ids)))
    if per_community:
        rows = rows.values("as_of", "community_id").annotate(
            **{name: Sum(name, output_field=KpiSnapshot._meta.get_field(name)) for name in STORED})
    else:
        rows = rows.values("building_id", "community_id", "as_of", *STORED)
    result: dict[date, dict] = defaultdict(dict)
    computed: dict[date, set[int]] = defaultdict(set)
    for row in rows:
        key = ("community", row["community_id"]) if per_community else row["building_id"]
        result[row["as_of"]][key] = Figures(**{name: row[name] for name in STORED})
        computed[row["as_of"]].add(row["community_id"])
    return result, computed


def _computed(dates) -> dict[date, set[int]]:
    """The communities whose snapshots hold each date."""
    result: dict[date, set[int]] = defaultdict(set)
    for day, community_id in KpiSnapshot.objects.filter(as_of__in=list(dates)).order_by().values_list(
            "as_of", "community_id").distinct():
        result[day].add(community_id)
    return result


def ledger_on(building_ids, dates, *, summed=()) -> dict[date, dict]:
    """Each building's ledger sums on each date: stored where fresh, live where not (never stale).

    For the dates in `summed` only the total matters (a trend's earlier points): the fresh stored
    rows come added up per community, keyed ("community", id): one row a community instead of one a building.
    """
    buildings = _buildings(building_ids)
    communities = set(buildings.values())
    stale = stale_since(communities)
    summed = set(summed)
    # one read each: the rows say which communities they cover
    stored, computed = _stored(list(buildings), [day for day in dates if day not in summed])
    sums, summed_computed = _stored(list(buildings), list(summed & set(dates)), per_community=True)
    computed.update(summed_computed)
    result = {}
    for day in dates:
        fresh = {c for c in communities & computed.get(day, set()) if c in stale and (stale[c] is None or stale[c] > day)}
        if day in summed:
            figures = {key: value for key, value in sums.get(day, {}).items() if key[1] in fresh}
        else:
            figures = {pk: stored.get(day, {}).get(pk, Figures()) for pk, c in buildings.items() if c in fresh}
        live = [pk for pk, c in buildings.items() if c not in fresh]
        if live:
            figures.update(kpis.ledger_figures(day, live))
        result[day] = figures
    return result


def monthly(building_ids, *, as_of: date, months: int = MONTHS) -> list[tuple[date, dict[int, Figures]]]:
    """The trend's points, oldest first: per-building ledger sums at each month end and at `as_of`.

    The last point also carries the cases', promises' and answers' sums (as `current`); the earlier
    points are only to be added up (their fresh stored parts are per community, see `ledger_on`)."""
    dates = month_ends(as_of, months)
    ledger = ledger_on(building_ids, dates, summed=[day for day in dates if day != as_of])
    ledger[as_of] = kpis.add_case_figures(as_of, building_ids, ledger[as_of])
    return [(day, ledger[day]) for day in dates]


def current(building_ids, *, as_of: date) -> dict[int, Figures]:
    """Every building's full figures as of `as_of` (the ledger's from the snapshots where fresh)."""
    return kpis.add_case_figures(as_of, building_ids, ledger_on(building_ids, [as_of])[as_of])


def _marks() -> tuple[int, int, int]:
    allocation = Allocation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    charge = Charge.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return allocation, charge, waiver_mark()


def refresh(*, as_of: date, community_ids=None, months: int = MONTHS) -> int:
    """Write the snapshots of `as_of` and of the month ends before it that are missing or stale.

    Idempotent: a second call with nothing moved computes and writes nothing. The marks are read
    before the ledger, so a row written while this runs is past them and seen as a change next time.
    Returns the number of rows written.
    """
    buildings = _buildings(None)
    by_community: dict[int, list[int]] = defaultdict(list)
    for pk, community_id in buildings.items():
        if community_ids is None or community_id in set(community_ids):
            by_community[community_id].append(pk)
    if not by_community:
        return 0
    allocation, charge, waivers = _marks()
    dates = month_ends(as_of, months)
    stale = stale_since(by_community)
    computed = _computed(dates)
    todo: dict[date, list[int]] = defaultdict(list)
    for community_id in by_community:
        for day in dates:
            since = stale.get(community_id, date.min)  # no state yet: every point is missing
            if community_id not in computed.get(day, set()) or (since is not None and since <= day):
                todo[day].append(community_id)
    now = timezone.now()
    written = 0
    with transaction.atomic():
        for community_id in by_community:  # stale points outside this trend's dates are dropped, not kept
            since = stale.get(community_id)
            if since is not None:
                KpiSnapshot.objects.filter(community_id=community_id, as_of__gte=since).exclude(as_of__in=dates).delete()
        for day, communities in sorted(todo.items()):
            ids = [pk for community_id in communities for pk in by_community[community_id]]
            figures = kpis.ledger_figures(day, ids)
            KpiSnapshot.objects.filter(community_id__in=communities, as_of=day).delete()
            rows = [KpiSnapshot(community_id=buildings[pk], building_id=pk, as_of=day, computed_at=now,
                                **{name: getattr(figures.get(pk, Figures()), name) for name in STORED}) for pk in ids]
            KpiSnapshot.objects.bulk_create(rows, batch_size=2000)
            written += len(rows)
        # The last complete day moves on: yesterday's point is replaced, month ends are kept.
        old_days = (KpiSnapshot.objects.filter(community_id__in=list(by_community), as_of__lt=as_of).order_by()
                    .values_list("as_of", flat=True).distinct())
        KpiSnapshot.objects.filter(community_id__in=list(by_community),
                                   as_of__in=[day for day in old_days if day != kpis.month_end(day.year, day.month)]).delete()
        if todo or any(community_id not in stale for community_id in by_community):
            for community_id in by_community:
                SnapshotState.objects.update_or_create(
                    community_id=community_id,
                    defaults={"allocation_mark": allocation, "charge_mark": charge, "waiver_mark": waivers,
                              "through": as_of, "refreshed_at": now})
    return written


def last_complete_day(today: date) -> date:
    """The date the dashboard opens on: yesterday, whose payments are all in."""
    return today - timedelta(days=1)
