"""Targets and attainment, computed by hand on a small ledger.

D = 2026-05-20, in the second quarter (April to June). No tariff, so no late fees: every payment
is principal. 阳光花园: 1栋 (U1, U2) worked by 李催 (c1), 2栋 (U3) by 王催 (c2). 翠湖苑 is another
manager's community, with its own collector.

  U1  1,000.00 due 03-05; 300.00 paid 04-10 (overdue: April's recovery), 200.00 paid 05-08 (May's)
  U2    500.00 due 05-05; paid on the due date (not overdue: no recovery)
  U3    800.00 due 02-05; 400.00 paid 05-15 (May's)
  Cases closed in the 90 days to D: c1 one paid (U1's building) and one waived, c2 one paid.

  May, as of 05-20: recovered 1栋 200.00, 2栋 400.00, community 600.00
     arrears (12 months): due 2,300.00, left 500 + 400 = 900.00 → 0.3913; 1栋 500/1,500 = 0.3333; 2栋 400/800 = 0.5000
     success: community 2/3 = 0.6667; c1 1/2 = 0.5000; c2 1/1 = 1.0000
  April, as of 04-30: recovered 1栋 300.00; arrears due 1,800.00 (U2 not yet due), left 700 + 800 = 1,500.00 → 0.8333
  Q2, as of 05-20: recovered community 900.00, c1 500.00, c2 400.00
"""

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from arrears.collection.models import Case, CollectorAssignment
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.estate.models import Building, StaffScope
from arrears.insights import targets
from arrears.insights.models import Target
from arrears.ledger import services
from arrears.ledger.models import ChargeType
from tests import factories

D = date(2026, 5, 20)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(timezone.make_aware(datetime(2026, 5, 20, 12)), tick=False):
        yield


def _charge(unit, owner, amount, due):
    return services.create_charge(unit_id=unit.pk, owner_id=owner.pk, charge_type_id=ChargeType.objects.get(code="property_fee").pk,
                                  period_start=due.replace(day=1), period_end=due.replace(day=28), amount=Decimal(amount),
                                  due_date=due)


def _pay(unit, owner, amount, on):
    return services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=Decimal(amount), paid_on=on, method="cash")


def _closed(unit, owner, collector, on, reason):
    return Case.objects.create(
        community=unit.community, unit=unit, owner=owner, opened_on=date(2026, 3, 1), collector=collector,
        status="closed", closed_on=on, close_reason=reason, as_of=on, principal=Decimal("1.00"), late_fee=Decimal("0.00"),
        oldest_due=date(2026, 3, 1), days_overdue=1, months_overdue=1, bucket="1-5", tier="A")


def _staff(username, role, community, **names):
    user = factories.user(username, groups=[role], **names)
    StaffScope.objects.create(user=user, community=community)
    return user


@pytest.fixture
def team():
    community = factories.community()
    u1 = factories.unit(community, building="1栋", room="101")
    u2 = factories.unit(community, building="1栋", room="102")
    u3 = factories.unit(community, building="2栋", room="201")
    o1, o2, o3 = (factories.owner(unit, name=f"业主{n}") for n, unit in enumerate((u1, u2, u3), start=1))
    manager = _staff("manager", roles.MANAGER, community)
    c1 = _staff("c1", roles.COLLECTOR, community, last_name="李", first_name="催")
    c2 = _staff("c2", roles.COLLECTOR, community, last_name="王", first_name="催")
    CollectorAssignment.objects.create(community=community, building=u1.building, user=c1)
    CollectorAssignment.objects.create(community=community, building=u3.building, user=c2)
    _charge(u1, o1, "1000.00", date(2026, 3, 5))
    _charge(u2, o2, "500.00", date(2026, 5, 5))
    _charge(u3, o3, "800.00", date(2026, 2, 5))
    _pay(u1, o1, "300.00", date(2026, 4, 10))
    _pay(u1, o1, "200.00", date(2026, 5, 8))
    _pay(u2, o2, "500.00", date(2026, 5, 5))
    _pay(u3, o3, "400.00", date(2026, 5, 15))
    _closed(u1, o1, c1, date(2026, 5, 6), "paid")
    _closed(u2, o2, c1, date(2026, 4, 20), "waived")
    _closed(u3, o3, c2, date(2026, 5, 16), "paid")
    elsewhere = factories.community("翠湖苑", company_obj=community.company)
    far = factories.unit(elsewhere, building="9栋", room="901")
    factories.owner(far, name="远方")
    other_manager = _staff("other", roles.MANAGER, elsewhere)
    far_collector = _staff("far", roles.COLLECTOR, elsewhere)
    CollectorAssignment.objects.create(community=elsewhere, building=far.building, user=far_collector)
    return {"community": community, "manager": manager, "c1": c1, "c2": c2, "elsewhere": elsewhere,
            "other_manager": other_manager, "far_collector": far_collector}


def _by(rows):
    return {(row.community_id, row.collector_id): row for row in rows}


# -- attainment -------------------------------------------------------------------------------------


def test_it_computes_the_month_by_hand(team):
    # given
    community, c1, c2 = team["community"], team["c1"], team["c2"]
    targets.set_target(staff=team["manager"], community=community, kind="month", period_start=date(2026, 5, 1),
                       amount="1000.00")
    targets.set_target(staff=team["manager"], community=community, collector=c2, kind="month",
                       period_start=date(2026, 5, 1), amount="400.00", arrears_rate_max="0.5", success_rate_min="0.9")
    # when
    rows = targets.attainment(team["manager"], as_of=D)
    # then: the community first, then its collectors by name
    assert [(row.community_id, row.collector) for row in rows] == [(community.pk, ""), (community.pk, "李催"),
                                                                  (community.pk, "王催")]
    whole, mine, theirs = _by(rows)[(community.pk, None)], _by(rows)[(community.pk, c1.pk)], _by(rows)[(community.pk, c2.pk)]
    assert (whole.recovered, whole.amount, whole.share, whole.percent, whole.bar) == (
        Decimal("600.00"), Decimal("1000.00"), Decimal("0.6000"), Decimal("60.0"), 60)
    assert (whole.arrears_rate, whole.success_rate) == (Decimal("0.3913"), Decimal("0.6667"))
    assert (whole.amount_met, whole.arrears_met, whole.success_met) == (False, False, False)
    # a target met on all three counts
    assert (theirs.recovered, theirs.percent, theirs.arrears_rate, theirs.success_rate) == (
        Decimal("400.00"), Decimal("100.0"), Decimal("0.5000"), Decimal("1.0000"))
    assert (theirs.amount_met, theirs.arrears_met, theirs.success_met) == (True, True, True)
    # no target: the amount is not set, the seed's rates apply
    assert mine.target is None and mine.amount is None and mine.amount_met is None and mine.percent is None
    assert (mine.arrears_rate_max, mine.success_rate_min) == (Decimal("0.0500"), Decimal("0.9000"))
    assert (mine.recovered, mine.arrears_rate, mine.success_rate) == (Decimal("200.00"), Decimal("0.3333"), Decimal("0.5000"))
    assert (mine.arrears_met, mine.success_met) == (False, False)


def test_it_computes_the_quarter_as_the_sum_of_its_months(team):
    # given: c1 aims at 450.00 for the quarter and gets 300 in April and 200 in May
    community, c1 = team["community"], team["c1"]
    targets.set_target(staff=team["manager"], community=community, collector=c1, kind="quarter",
                       period_start=date(2026, 4, 1), amount="450.00")
    # when
    rows = _by(targets.attainment(team["manager"], as_of=D, kind="quarter"))
    # then
    mine = rows[(community.pk, c1.pk)]
    assert (mine.recovered, mine.percent, mine.bar, mine.amount_met) == (Decimal("500.00"), Decimal("111.1"), 100, True)
    assert rows[(community.pk, None)].recovered == Decimal("900.00")
    assert rows[(community.pk, None)].amount is None  # no community target for the quarter
    assert rows[(community.pk, team["c2"].pk)].recovered == Decimal("400.00")
    assert mine.measured_on == D and mine.period.end == date(2026, 6, 30)


def test_a_past_month_is_read_as_of_its_end(team):
    rows = _by(targets.attainment(team["manager"], as_of=D, period_start=date(2026, 4, 1)))
    whole = rows[(team["community"].pk, None)]
    assert whole.measured_on == date(2026, 4, 30)
    assert (whole.recovered, whole.arrears_rate) == (Decimal("300.00"), Decimal("0.8333"))
    with pytest.raises(DomainError):
        targets.attainment(team["manager"], as_of=D, period_start=date(2026, 6, 1))


def test_a_collector_sees_only_their_own_rows(team):
    rows = targets.attainment(team["c1"], as_of=D)
    assert [(row.collector_id, row.recovered) for row in rows] == [(team["c1"].pk, Decimal("200.00"))]


def test_it_reads_in_a_constant_number_of_queries(client, team, django_assert_num_queries):
    # given: the quarter's table and page with two collectors
    community, manager = team["community"], team["manager"]
    client.force_login(manager)
    url = reverse("staff:targets") + "?kind=quarter"
    targets.attainment(manager, as_of=D, kind="quarter")  # the user's permissions, read once and kept on the user
    with CaptureQueriesContext(connection) as read:
        assert len(targets.attainment(manager, as_of=D, kind="quarter")) == 3
    with CaptureQueriesContext(connection) as page:
        assert client.get(url).status_code == 200
    # when: six more collectors, each on a building of their own, each with a target
    for n in range(3, 9):
        collector = _staff(f"c{n}", roles.COLLECTOR, community)
        building = Building.objects.create(community=community, name=f"{n}栋")
        CollectorAssignment.objects.create(community=community, building=building, user=collector)
        targets.set_target(staff=manager, community=community, collector=collector, kind="quarter",
                           period_start=date(2026, 4, 1), amount="100.00")
    # then
    with django_assert_num_queries(len(read)):
        assert len(targets.attainment(manager, as_of=D, kind="quarter")) == 9
    with django_assert_num_queries(len(page)):
        assert client.get(url).status_code == 200


# -- setting targets --------------------------------------------------------------------------------


def test_a_change_is_audited_with_the_old_and_new_values(team):
    manager, community = team["manager"], team["community"]
    first = targets.set_target(staff=manager, community=community, kind="month", period_start=date(2026, 5, 1),
                               amount="1000.00")
    changed = targets.set_target(staff=manager, community=community, kind="month", period_start=date(2026, 5, 1),
                                 amount="1200.00", arrears_rate_max="0.08")
    targets.set_target(staff=manager, community=community, kind="month", period_start=date(2026, 5, 1),
                       amount="1200.00", arrears_rate_max="0.08")  # the same again: nothing changes, nothing logged
    assert changed.pk == first.pk and Target.objects.count() == 1
    events = list(AuditEvent.objects.filter(action="insights.target_set").order_by("pk"))
    assert len(events) == 2
    assert events[0].detail["old"] is None
    assert events[1].actor == manager and events[1].community_id == community.pk
    assert events[1].detail["old"] == {"amount": "1000.00", "arrears_rate_max": "0.0500", "success_rate_min": "0.9000"}
    assert events[1].detail["new"] == {"amount": "1200.00", "arrears_rate_max": "0.0800", "success_rate_min": "0.9000"}


@pytest.mark.parametrize(("values", "code"), [
    ({"kind": "month", "period_start": date(2026, 5, 2)}, "period_start"),
    ({"kind": "quarter", "period_start": date(2026, 5, 1)}, "period_start"),
    ({"amount": "-1.00"}, "amount"),
    ({"amount": "1.005"}, "amount"),
    ({"arrears_rate_max": "1.5"}, "rate"),
    ({"success_rate_min": "-0.1"}, "rate"),
    ({"kind": "year"}, "kind"),
])
def test_it_refuses_what_is_not_a_target(team, values, code):
    arguments = {"staff": team["manager"], "community": team["community"], "kind": "month",
                 "period_start": date(2026, 5, 1), "amount": "100.00", **values}
    with pytest.raises(DomainError) as refused:
        targets.set_target(**arguments)
    assert refused.value.code == code
    assert Target.objects.count() == 0 and not AuditEvent.objects.filter(action="insights.target_set").exists()


def test_it_refuses_another_community_a_collector_and_a_collector_of_elsewhere(team):
    start = {"kind": "month", "period_start": date(2026, 5, 1), "amount": "1.00"}
    with pytest.raises(DomainError) as scope:
        targets.set_target(staff=team["other_manager"], community=team["community"], **start)
    with pytest.raises(DomainError) as role:
        targets.set_target(staff=team["c1"], community=team["community"], **start)
    with pytest.raises(DomainError) as stranger:
        targets.set_target(staff=team["manager"], community=team["community"], collector=team["far_collector"], **start)
    assert (scope.value.code, role.value.code, stranger.value.code) == ("scope", "permission", "collector")
    assert Target.objects.count() == 0


# -- the page -------------------------------------------------------------------------------------


def test_the_manager_sees_the_team_table_and_sets_a_target(client, team):
    client.force_login(team["manager"])
    response = client.post(reverse("staff:targets_set"), {
        "community": team["community"].pk, "collector": team["c2"].pk, "kind": "month", "period_start": "2026-05-01",
        "amount": "400.00", "arrears_rate_max": "50", "success_rate_min": "90"})
    assert response.status_code == 302
    target = Target.objects.get()
    assert (target.collector, target.amount, target.arrears_rate_max, target.success_rate_min) == (
        team["c2"], Decimal("400.00"), Decimal("0.5000"), Decimal("0.9000"))
    page = client.get(reverse("staff:targets")).content.decode()
    assert "阳光花园" in page and "李催" in page and "王催" in page and "翠湖苑" not in page
    assert "100.00%" in page and 'aria-valuenow="100"' in page and "未设定" in page
    assert "目标考核" in page and "导出月度绩效考核表" in page


def test_the_page_refuses_out_of_scope_rates_with_a_message(client, team):
    client.force_login(team["manager"])
    response = client.post(reverse("staff:targets_set"), {
        "community": team["community"].pk, "kind": "month", "period_start": "2026-05-01", "amount": "1",
        "arrears_rate_max": "150"}, follow=True)
    assert "欠费率上限必须在 0 到 1 之间" in response.content.decode()
    assert Target.objects.count() == 0


def test_another_communitys_manager_gets_not_found_and_writes_nothing(client, team):
    client.force_login(team["other_manager"])
    assert client.get(reverse("staff:targets") + f"?community={team['community'].pk}").status_code == 404
    assert client.get(reverse("staff:targets_export") + f"?community={team['community'].pk}").status_code == 404
    response = client.post(reverse("staff:targets_set"), {"community": team["community"].pk, "kind": "month",
                                                          "period_start": "2026-05-01", "amount": "1.00"})
    assert response.status_code == 404
    page = client.get(reverse("staff:targets")).content.decode()
    assert "翠湖苑" in page and "阳光花园" not in page
    assert Target.objects.count() == 0


def test_a_manager_cannot_give_a_target_to_a_collector_of_elsewhere(client, team):
    client.force_login(team["manager"])
    response = client.post(reverse("staff:targets_set"), {
        "community": team["community"].pk, "collector": team["far_collector"].pk, "kind": "month",
        "period_start": "2026-05-01", "amount": "1.00"}, follow=True)
    assert "所选员工不是本小区的催收员" in response.content.decode()
    assert Target.objects.count() == 0


def test_a_collector_sees_their_own_row_and_may_set_nothing(client, team):
    targets.set_target(staff=team["manager"], community=team["community"], collector=team["c2"], kind="month",
                       period_start=date(2026, 5, 1), amount="400.00")
    client.force_login(team["c1"])
    page = client.get(reverse("staff:targets")).content.decode()
    assert "李催" in page and "王催" not in page and "全小区" not in page and 'id="set-target"' not in page
    assert page.count('data-testid="target-row"') == 1
    # another collector's id in a form, or the export: refused, nothing written
    response = client.post(reverse("staff:targets_set"), {"community": team["community"].pk, "collector": team["c1"].pk,
                                                          "kind": "month", "period_start": "2026-05-01", "amount": "0"})
    assert response.status_code == 403
    assert client.get(reverse("staff:targets_export")).status_code == 403
    assert Target.objects.count() == 1
    # the card on the collector's day page
    home = client.get(reverse("staff:home")).content.decode()
    assert 'data-testid="target-card"' in home and "200.00" in home


def test_front_desk_has_no_targets_page(client, team):
    client.force_login(_staff("gate", roles.FRONT_DESK, team["community"]))
    assert client.get(reverse("staff:targets")).status_code == 403


def test_the_export_holds_the_pages_numbers(client, team):
    targets.set_target(staff=team["manager"], community=team["community"], kind="month",
                       period_start=date(2026, 5, 1), amount="1000.00")
    client.force_login(team["manager"])
    shown = client.get(reverse("staff:targets")).context["rows"]
    response = client.get(reverse("staff:targets_export") + "?kind=month&period=2026-05")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content))["月度绩效考核表"]
    cells = [row for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(cells) == len(shown) == 3
    for row, line in zip(shown, cells, strict=True):
        assert line[0] == row.community and line[1] == (row.collector or "（小区）")
        assert (None if line[3] is None else Decimal(str(line[3]))) == row.amount
        assert Decimal(str(line[4])) == row.recovered
        assert (None if line[5] is None else Decimal(str(line[5]))) == row.share
        assert Decimal(str(line[7])) == row.arrears_rate and Decimal(str(line[10])) == row.success_rate
    assert cells[0][3:7] == (1000, 600, 0.6, "未达标")
    assert AuditEvent.objects.filter(action="insights.review_export", actor=team["manager"]).exists()


def test_the_page_reads_in_english(client, team):
    # the site's English is the visitor's choice (the language cookie set by the switch in the header)
    client.force_login(team["manager"])
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    page = client.get(reverse("staff:targets") + "?kind=quarter").content.decode()
    assert '<html lang="en">' in page
    assert "Targets" in page and "Export the quarterly performance review" in page and "Not set" in page
    for chinese in ("目标考核", "回款目标", "未设定", "全小区", "设定目标", "达标", "（"):
        assert chinese not in page


def test_the_admin_writes_a_target_through_the_service(client, team):
    # given: a manager allowed into the admin
    manager = team["manager"]
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    client.force_login(manager)
    url = reverse("admin:insights_target_add")
    form = client.get(url).content.decode()
    assert "阳光花园" in form and "翠湖苑" not in form  # only the communities of their scope to choose from
    values = {"community": team["community"].pk, "collector": "", "kind": "month", "amount": "100.00",
              "arrears_rate_max": "0.05", "success_rate_min": "0.9"}
    # when: a start that is not the 1st, then a good one
    refused = client.post(url, {**values, "period_start": "2026-05-02"})
    saved = client.post(url, {**values, "period_start": "2026-05-01"})
    # then
    assert refused.status_code == 200 and "周期开始日必须是某月 1 日" in refused.content.decode()
    assert saved.status_code == 302
    target = Target.objects.get()
    assert (target.set_by, target.amount) == (manager, Decimal("100.00"))
    assert AuditEvent.objects.filter(action="insights.target_set", actor=manager).count() == 1
