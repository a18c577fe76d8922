"""Per-building figures as of a date (temporary: computed live until the stored snapshots land)."""

from __future__ import annotations

from datetime import date

from arrears.insights import kpis
from arrears.insights.kpis import Figures


def current(building_ids, *, as_of: date) -> dict[int, Figures]:
    """Every building's full figures as of `as_of`."""
    return kpis.building_figures(as_of, building_ids)
