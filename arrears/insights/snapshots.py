"""Per-building Figures by month end (TEMPORARY: computed live until the stored snapshots land on main)."""

from __future__ import annotations

from datetime import date

from arrears.insights import kpis
from arrears.ledger.rules import add_months


def month_ends(as_of: date, months: int) -> list[date]:
    """The `months - 1` month ends before as_of's month, oldest first, then as_of itself."""
    ends = []
    for back in range(months - 1, 0, -1):
        first = add_months(as_of.replace(day=1), -back)
        ends.append(kpis.month_end(first.year, first.month))
    return ends + [as_of]


def monthly(building_ids, *, as_of: date, months: int = 24) -> list[tuple[date, dict[int, kpis.Figures]]]:
    """One entry per month end, oldest first, the last being as_of: each building's Figures then."""
    return [(end, kpis.building_figures(end, building_ids)) for end in month_ends(as_of, months)]


def current(building_ids, *, as_of: date) -> dict[int, kpis.Figures]:
    """Each building's Figures as of as_of."""
    return kpis.building_figures(as_of, building_ids)
