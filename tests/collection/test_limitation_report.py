"""Limitation deadlines per charge (民法典第188/195条) and `arrears report limitation`.

Each unit is 100 m² at ¥2.00/m²/month from March 2023, billed for March and April 2023: two
charges of ¥200.00, due 2023-03-05 and 2023-04-05, whose deadlines are 2026-03-05 and 2026-04-05
until something restarts them. A proven restart of the owner and unit moves both; a part
payment moves only the charge it paid; an unproven event moves nothing.
"""

import json
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from arrears.collection import limitation
from arrears.collection.assess import assess, charge_limitations
from arrears.collection.models import Case
from arrears.collection.reports import RESTART_BY, case_rows, limitation_report, limitation_rows
from arrears.collection.run import run_collection
from arrears.ledger import services as ledger_services
from arrears.ledger.models import Charge
from arrears.ledger.selectors import charge_lines
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH_DUE, APRIL_DUE = date(2023, 3, 5), date(2023, 4, 5)
FIELDS = ["community", "building", "unit", "room", "owner", "charge_type", "period_start", "due", "outstanding",
          "deadline", "restart_by", "last_restart"]


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=SHANGHAI)


def demand(unit, owner, day: date, *, proven=True):
    """A collection letter delivered on `day`, proven by its EMS number (or not)."""
    proof = limitation.Proof(kind="letter_delivery", reference=f"L-{day} ems EA{day:%Y%m%d}CN") if proven else None
    return limitation.record_event(community_id=unit.community_id, unit_id=unit.pk, owner_id=owner.pk,
                                   kind="written_demand", occurred_on=day, proof=proof, now=noon(day))


def promise(unit, owner, day: date):
    """A promise taken on `day` with no recording: it waits for proof (待补证据)."""
    return limitation.record_event(community_id=unit.community_id, unit_id=unit.pk, owner_id=owner.pk, kind="promise",
                                   occurred_on=day, now=noon(day))


def acknowledgement(unit, owner, day: date):
    proof = limitation.Proof(kind="written_acknowledgement", reference="signed note")
    return limitation.record_event(community_id=unit.community_id, unit_id=unit.pk, owner_id=owner.pk,
                                   kind="acknowledgement", occurred_on=day, proof=proof, now=noon(day))


def part_payment(unit, owner, due: date, amount: str, day: date):
    charge = Charge.objects.get(unit=unit, owner=owner, due_date=due)
    with time_machine.travel(noon(day), tick=False):
        ledger_services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=amount, paid_on=day, method="cash",
                                       designation=[charge.pk])
    return charge


def deadlines(as_of: date) -> dict:
    """{(room, owner, due): (deadline, restarted_on, restarted_by)} of every overdue charge."""
    lines = charge_lines(as_of)
    names = {line.charge_id: line for line in lines}
    from arrears.estate.models import Owner, Unit
    rooms = dict(Unit.objects.values_list("pk", "room"))
    owners = dict(Owner.objects.values_list("pk", "name"))
    return {(rooms[found.unit_id], owners[found.owner_id], names[pk].due): (found.deadline, found.restarted_on, found.restarted_by)
            for pk, found in charge_limitations(lines, as_of).items()}


@pytest.fixture
def sunny():
    """阳光花园 1栋101 张三, billed for March and April 2023."""
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    factories.tariff(community, effective_from=date(2023, 3, 1))
    ledger_services.bill(through=date(2023, 4, 1))
    return {"community": community, "unit": unit, "owner": owner}


def test_it_computes_each_charges_deadline_by_hand(sunny):
    unit, owner = sunny["unit"], sunny["owner"]
    # given: nothing restarts anything
    # then: three years from each due date
    assert deadlines(date(2024, 1, 9)) == {("101", "张三", MARCH_DUE): (date(2026, 3, 5), None, None),
                                           ("101", "张三", APRIL_DUE): (date(2026, 4, 5), None, None)}
    # when: an unproven promise on 2024-01-05
    promise(unit, owner, date(2024, 1, 5))
    # then: nothing moves
    assert deadlines(date(2024, 1, 9))[("101", "张三", MARCH_DUE)] == (date(2026, 3, 5), None, None)
    # when: a proven written demand on 2024-01-10
    demand(unit, owner, date(2024, 1, 10))
    # then: both charges run again from 2024-01-10, from that day on
    assert deadlines(date(2024, 1, 9))[("101", "张三", MARCH_DUE)] == (date(2026, 3, 5), None, None)
    assert deadlines(date(2024, 1, 10)) == {
        ("101", "张三", MARCH_DUE): (date(2027, 1, 10), date(2024, 1, 10), "written_demand"),
        ("101", "张三", APRIL_DUE): (date(2027, 1, 10), date(2024, 1, 10), "written_demand")}
    # when: ¥50 of the March charge is paid on 2024-06-01
    part_payment(unit, owner, MARCH_DUE, "50.00", date(2024, 6, 1))
    # then: the March charge runs from 2024-06-01, the April charge keeps the demand's deadline
    assert deadlines(date(2024, 6, 1)) == {
        ("101", "张三", MARCH_DUE): (date(2027, 6, 1), date(2024, 6, 1), "part_payment"),
        ("101", "张三", APRIL_DUE): (date(2027, 1, 10), date(2024, 1, 10), "written_demand")}
    # and the case keeps the nearest
    [entry] = assess(date(2024, 6, 1))
    assert entry.limitation_deadline == date(2027, 1, 10)


def test_a_restart_on_or_before_a_charges_due_date_changes_nothing_for_it(sunny):
    # given: the owner's written acknowledgement on 2023-03-20, between the two due dates
    acknowledgement(sunny["unit"], sunny["owner"], date(2023, 3, 20))
    # then: March runs from the acknowledgement; April still from its own due date, restarted by nothing
    assert deadlines(date(2023, 5, 1)) == {
        ("101", "张三", MARCH_DUE): (date(2026, 3, 20), date(2023, 3, 20), "acknowledgement"),
        ("101", "张三", APRIL_DUE): (date(2026, 4, 5), None, None)}


def test_the_report_lists_the_charges_whose_deadline_falls_within_90_days(sunny):
    unit, owner = sunny["unit"], sunny["owner"]
    demand(unit, owner, date(2024, 1, 10))
    part_payment(unit, owner, MARCH_DUE, "50.00", date(2024, 6, 1))
    # when: on 2026-12-01 (window to 2027-03-01): April's 2027-01-10 is in, March's 2027-06-01 is not
    rows = limitation_report(date(2026, 12, 1))
    # then
    assert rows == [{
        "community": "阳光花园", "building": "1栋", "unit": "1", "room": "101", "owner": "张三", "charge_type": "物业费",
        "period_start": "2023-04-01", "due": "2023-04-05", "outstanding": "200.00", "deadline": "2027-01-10",
        "restart_by": ["written_demand", "acknowledgement", "plan", "promise", "part_payment", "suit"],
        "last_restart": {"on": "2024-01-10", "kind": "written_demand"},
    }]
    # and on 2027-04-01 (window to 2027-06-30) only March is left, with ¥150.00 outstanding
    [row] = limitation_report(date(2027, 4, 1))
    assert (row["due"], row["outstanding"], row["deadline"], row["last_restart"]) == (
        "2023-03-05", "150.00", "2027-06-01", {"on": "2024-06-01", "kind": "part_payment"})


@pytest.mark.parametrize(("as_of", "listed"), [
    (date(2025, 12, 4), False),  # 2026-03-05 is D+91
    (date(2025, 12, 5), True),   # exactly D+90
    (date(2026, 3, 5), True),    # the deadline is today: the last day to sue
    (date(2026, 3, 6), False),   # passed: not this report's
])
def test_the_window_runs_from_the_day_to_90_days_after_it(sunny, as_of, listed):
    # given: only March's deadline, 2026-03-05, is near (April's is 2026-04-05)
    # when
    rows = [row for row in limitation_report(as_of) if row["due"] == "2023-03-05"]
    # then
    assert [row["deadline"] for row in rows] == (["2026-03-05"] if listed else [])
    assert date(2025, 12, 5) + timedelta(days=90) == date(2026, 3, 5)  # the edges are what they say


def test_the_window_of_30_days_for_pages(sunny):
    assert [row["deadline"] for row in limitation_rows(date(2026, 2, 3), days=30)] == ["2026-03-05"]
    assert [row["deadline"] for row in limitation_rows(date(2026, 2, 2), days=30)] == []


def test_restart_by_names_every_restart_with_its_proof():
    # every restart a deadline can have, each with the proof PROOFS_FOR asks (a part payment is its own)
    assert set(RESTART_BY) == {kind.value for kind in limitation.PROOFS_FOR} | {"part_payment"}


# -- agreement with `arrears report cases` --------------------------------------------------------


@pytest.fixture
def street(sunny):
    """Four owners: 张三 (proven demand, a part payment), 李四 (an unproven promise), 王五 (a proven
    acknowledgement between his two due dates), and 赵六 in another community (nothing)."""
    community = sunny["community"]
    li_unit = factories.unit(community, room="102")
    li = factories.owner(li_unit, "李四")
    wang_unit = factories.unit(community, building="2栋", room="101")
    wang = factories.owner(wang_unit, "王五")
    lake = factories.community("翠湖苑", company_obj=community.company)
    zhao_unit = factories.unit(lake, room="101")
    zhao = factories.owner(zhao_unit, "赵六")
    factories.tariff(lake, effective_from=date(2023, 3, 1))
    ledger_services.bill(through=date(2023, 4, 1))
    demand(sunny["unit"], sunny["owner"], date(2024, 1, 10))
    part_payment(sunny["unit"], sunny["owner"], MARCH_DUE, "50.00", date(2024, 6, 1))
    promise(li_unit, li, date(2024, 2, 1))
    acknowledgement(wang_unit, wang, date(2023, 3, 20))
    return {**sunny, "lake": lake, "zhao": zhao}


@pytest.mark.parametrize("as_of", [date(2023, 6, 1), date(2024, 1, 9), date(2024, 1, 10), date(2024, 6, 1),
                                   date(2026, 1, 1), date(2026, 3, 20), date(2026, 12, 1)])
def test_the_nearest_charge_deadline_of_each_case_is_the_cases_deadline(street, as_of):
    # when: every overdue charge's deadline, the report's rows (a window wide enough for all) and the cases report
    charges = deadlines(as_of)
    rows = limitation_rows(as_of, days=10_000)
    cases = {(c["room"], c["owner"]): c["limitation_deadline"] for c in case_rows(as_of)}
    # then: for every case, the nearest of its charges' deadlines is the case's
    nearest = {}
    for (room, owner, _due), (deadline, _on, _by) in charges.items():
        nearest[(room, owner)] = min(nearest.get((room, owner), deadline), deadline)
    assert {key: day.isoformat() for key, day in nearest.items()} == cases
    # and the report prints those deadlines, less the passed ones: so a case not yet passed has its deadline there
    assert sorted((row["room"], row["owner"], row["due"], row["deadline"]) for row in rows) == sorted(
        (room, owner, due.isoformat(), deadline.isoformat()) for (room, owner, due), (deadline, _, _) in charges.items()
        if deadline >= as_of)
    for key, deadline in cases.items():
        if deadline >= as_of.isoformat():
            assert min(row["deadline"] for row in rows if (row["room"], row["owner"]) == key) == deadline


def test_the_street_by_hand_on_2026_01_01(street):
    # 张三: April 2027-01-10 (the demand), March 2027-06-01 (the payment); 李四: from the due dates
    # (the promise is unproven); 王五: March 2026-03-20 (acknowledged), April 2026-04-05; 赵六 likewise.
    rows = limitation_report(date(2026, 1, 1))  # window to 2026-04-01
    assert [(row["community"], row["building"], row["room"], row["owner"], row["due"], row["deadline"]) for row in rows] == [
        ("翠湖苑", "1栋", "101", "赵六", "2023-03-05", "2026-03-05"),
        ("阳光花园", "1栋", "102", "李四", "2023-03-05", "2026-03-05"),
        ("阳光花园", "2栋", "101", "王五", "2023-03-05", "2026-03-20"),
    ]
    assert {c["owner"]: c["limitation_deadline"] for c in case_rows(date(2026, 1, 1))} == {
        "张三": "2027-01-10", "李四": "2026-03-05", "王五": "2026-03-20", "赵六": "2026-03-05"}


# -- the command ----------------------------------------------------------------------------------


def run_report(*args) -> list:
    out = StringIO()
    call_command("report", "limitation", *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_command_prints_json_objects_of_exactly_the_fields(street):
    rows = run_report("--date", "2026-01-01", "--format", "json")
    assert [list(row) for row in rows] == [FIELDS] * 3
    assert all(isinstance(row["restart_by"], list) and row["last_restart"] is None for row in rows[:2])
    assert rows[2]["last_restart"] == {"on": "2023-03-20", "kind": "acknowledgement"}


def test_the_command_keeps_to_one_community(street):
    rows = run_report("--date", "2026-01-01", "--community", "阳光花园")
    assert [row["owner"] for row in rows] == ["李四", "王五"]
    assert run_report("--date", "2020-01-01", "--community", "翠湖苑") == []


@pytest.mark.parametrize("args", [["--date", "2026-02-30"], ["--date", "soon"], ["--date", "2026-01-01", "--format", "xlsx"],
                                  ["--date", "2026-01-01", "--community", "没有这个小区"]])
def test_the_command_refuses_bad_arguments(street, args):
    with pytest.raises(CommandError):
        call_command("report", "limitation", *args, stdout=StringIO())


def test_the_cases_report_names_the_open_case_once_the_run_opened_it(street):
    # given: before the run, no case
    assert {row["case"] for row in case_rows(date(2026, 1, 6))} == {None}
    # when
    with time_machine.travel(noon(date(2026, 1, 6)), tick=False):
        run_collection(as_of=date(2026, 1, 6))
    # then: each row names its owner's open case on its unit
    cases = {(case.unit.room, case.owner.name): case.pk for case in Case.objects.filter(status="open").select_related("unit", "owner")}
    assert {(row["room"], row["owner"]): row["case"] for row in case_rows(date(2026, 1, 6))} == cases
    assert len(cases) == 4


# -- breaks ---------------------------------------------------------------------------------------


def test_on_one_day_the_owners_event_names_the_restart_over_a_part_payment(sunny):
    unit, owner = sunny["unit"], sunny["owner"]
    part_payment(unit, owner, MARCH_DUE, "50.00", date(2024, 6, 1))
    demand(unit, owner, date(2024, 6, 1))
    assert deadlines(date(2024, 6, 1))[("101", "张三", MARCH_DUE)] == (date(2027, 6, 1), date(2024, 6, 1), "written_demand")


def test_a_report_of_a_past_day_does_not_see_a_proof_added_later(sunny):
    # given: a demand of 2024-01-10 recorded without proof, its proof attached on 2026-01-05
    event = demand(sunny["unit"], sunny["owner"], date(2024, 1, 10), proven=False)
    limitation.attach_proof(event=event, proof=limitation.Proof(kind="letter_delivery", reference="L-1 ems EA1CN"),
                            staff=None, now=noon(date(2026, 1, 5)))
    # then: on 2026-01-04 March is near (April's 2026-04-05 is D+91); from 2026-01-05 the demand moved both to 2027-01-10
    assert [row["deadline"] for row in limitation_report(date(2026, 1, 4))] == ["2026-03-05"]
    assert limitation_report(date(2026, 1, 5)) == []
    assert [row["deadline"] for row in limitation_report(date(2026, 11, 1))] == ["2027-01-10", "2027-01-10"]


def test_the_new_owners_restart_leaves_the_previous_owners_charges_alone():
    # given: 张三 owned 101 through April 2023 and left two charges; 李四 owns it from May
    community = factories.community()
    unit = factories.unit(community)
    zhang = factories.owner(unit, "张三", end=date(2023, 4, 30))
    li = factories.owner(unit, "李四", start=date(2023, 5, 1))
    factories.tariff(community, effective_from=date(2023, 3, 1))
    ledger_services.bill(through=date(2023, 5, 1))
    # when: 李四 acknowledges his debt
    acknowledgement(unit, li, date(2024, 1, 10))
    # then: 李四's May charge runs from the acknowledgement, 张三's from their due dates
    assert deadlines(date(2024, 1, 10)) == {
        ("101", "张三", MARCH_DUE): (date(2026, 3, 5), None, None), ("101", "张三", APRIL_DUE): (date(2026, 4, 5), None, None),
        ("101", "李四", date(2023, 5, 5)): (date(2027, 1, 10), date(2024, 1, 10), "acknowledgement")}
    assert zhang.pk != li.pk
