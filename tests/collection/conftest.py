"""The staff fixtures (one unit with history, insider / neighbour / outsider …) plus an open case on it."""

from datetime import date
from decimal import Decimal

import pytest

from arrears.collection.models import Case, Script
from arrears.collection.scripts import ensure_scripts
from tests.staff import conftest as staff

TODAY = staff.TODAY
# The staff fixtures, shared: pytest finds fixtures by the names they are bound to here.
today, estate, insider, neighbour, outsider = staff.today, staff.estate, staff.insider, staff.neighbour, staff.outsider
front_desk, finance, superuser = staff.front_desk, staff.finance, staff.superuser


def make_case(unit, owner, *, collector=None, principal="600.00", late_fee="21.00", **extra) -> Case:
    values = {
        "community": unit.community, "unit": unit, "owner": owner, "opened_on": date(2026, 2, 6), "collector": collector,
        "as_of": TODAY, "principal": Decimal(principal), "late_fee": Decimal(late_fee), "oldest_due": date(2026, 2, 5),
        "days_overdue": 94, "months_overdue": 3, "bucket": "91-180", "tier": "B", "situations": "1,2,7",
        "techniques": "1,2,3,7", "suggested_persona": "neglectful",
    }
    values.update(extra)
    return Case.objects.create(**values)


@pytest.fixture
def case(estate, insider):
    return make_case(estate["unit"], estate["owner"], collector=insider)


@pytest.fixture
def scripts(db):
    """The default scripts (the scripts migration seeds them; ensure_scripts puts back any missing)."""
    ensure_scripts()
    return {script.code: script for script in Script.objects.filter(code__in=["promise_call", "front_desk_polite"])}
