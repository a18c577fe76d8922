"""No owner contact on a holiday, on every path that shows or makes one: the cases report, the
workbench and the unit page (the outbox has its own test in tests/notices)."""

import json
from datetime import date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from arrears.collection import selectors
from arrears.collection.models import Task
from arrears.core import roles
from arrears.estate.models import Contact, StaffScope
from arrears.ledger import services
from tests import factories
from tests.collection.conftest import make_case

SH = ZoneInfo("Asia/Shanghai")
HOLIDAYS = [date(2026, 10, 1), date(2027, 1, 1), *[date(2027, 2, 5) + timedelta(days=n) for n in range(4)],
            date(2027, 10, 1)]
TUESDAY = date(2027, 3, 9)


def ten_am(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=SH)


@pytest.fixture
def debtor(db):
    """One unit of 100 m² billed ¥200.00 a month from January 2026, never paid."""
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    Contact.objects.create(community=community, owner=owner, kind="mobile", value="13800001234")
    factories.tariff(community)
    services.bill(through=date(2027, 9, 1))
    return community, unit, owner


@pytest.mark.parametrize("day", [*HOLIDAYS, TUESDAY])
def test_the_cases_report_allows_no_contact_on_a_holiday(debtor, day):
    # given an open case whose ladder has a call due on the day
    with time_machine.travel(ten_am(day), tick=False):
        out = StringIO()
        # when
        call_command("report", "cases", "--date", day.isoformat(), "--format", "json", stdout=out)
    [row] = json.loads(out.getvalue())
    # then
    calls = [step for step in row["next_steps"] if step["channel"] == "call" and step["due"] == day.isoformat()]
    assert calls, row["next_steps"]
    expected = ({"allowed": True, "blocked_by": None} if day == TUESDAY else {"allowed": False, "blocked_by": "holiday"})
    assert [{"allowed": s["allowed"], "blocked_by": s["blocked_by"]} for s in calls] == [expected]


@pytest.mark.parametrize("day", [*HOLIDAYS, TUESDAY])
def test_the_workbench_and_the_unit_page_show_contact_blocked_on_a_holiday(client, debtor, day):
    # given a collector of the community with a call task due today on an open case
    community, unit, owner = debtor
    collector = factories.user("collector", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=collector, community=community)
    case = make_case(unit, owner, collector=collector, as_of=day)
    task = Task.objects.create(community=community, case=case, key="call", kind="ladder", channel="call", title="电话提醒",
                               due_on=day, created_on=day, priority=10)
    # when
    with time_machine.travel(ten_am(day), tick=False):
        client.force_login(collector)
        [row] = selectors.workbench_rows(collector, Task.objects.filter(pk=task.pk), today=day, now=ten_am(day))
        section = selectors.unit_collection(unit, user=collector, today=day, now=ten_am(day))["cases"][0]
        workbench = client.get(reverse("staff:workbench")).content.decode()
        unit_page = client.get(reverse("staff:unit", args=[unit.pk])).content.decode()
    # then
    if day == TUESDAY:
        assert row.decision.allowed and section["call_decision"].allowed
        assert '<span class="badge clear">可联系</span>' in workbench and '<span class="badge clear">可联系</span>' in unit_page
        return
    assert (row.decision.allowed, row.decision.rule) == (False, "holiday")
    assert (section["call_decision"].allowed, section["call_decision"].rule) == (False, "holiday")
    assert all(not step["allowed"] for step in section["next_steps"] if step["due"] == day and step["channel"] == "电话")
    reason = row.decision.reason_zh
    assert f"{day:%Y-%m-%d} 是法定节假日" in reason
    assert reason in workbench and reason in unit_page
    assert ("2027 年放假安排尚未确认" in reason) is (day.year == 2027)
