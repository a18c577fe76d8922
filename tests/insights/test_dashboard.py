"""The dashboard (报表): scoped like the staff pages, equal to the live KPIs, the same in its workbook,
a constant number of queries, drill-downs to the list behind each figure, one language per page."""

import json
import re
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from arrears.core import roles
from arrears.core.models import AuditEvent
from arrears.estate.models import StaffScope
from arrears.insights import kpis, snapshots
from arrears.insights.dashboard import dashboard_data
from tests import factories
from tests.insights.conftest import TODAY, build_company

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u3400-\u9fff]")


def _page_data(response) -> dict:
    html = response.content.decode()
    blob = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    return json.loads(blob)


def _rate(value):
    return None if value is None else f"{value:.4f}"


def test_it_shows_only_the_building_the_user_is_scoped_to(client, company, one_building):
    # given the collector of 阳光花园 1栋 (scope: that building only)
    first, second = company["buildings"]
    client.force_login(one_building)
    # when
    response = client.get(reverse("staff:dashboard"))
    # then: 1栋's figures and names only; never 2栋, 翠湖苑 or their collectors
    assert response.status_code == 200
    data = _page_data(response)
    assert [cell["building_id"] for cell in data["heatmap"]["cells"]] == [first.pk]
    assert [row["id"] for row in data["collectors"]] == [one_building.pk]
    html = response.content.decode()
    for name in ("2栋", "翠湖苑", "催员2", "催员3"):
        assert name not in html, name
    mine = kpis.total(kpis.building_figures(TODAY, [first.pk]).values())
    assert {row["key"]: row["value"] for row in data["kpis"]}["arrears_rate_amount"] == _rate(mine.arrears_rate_amount)
    everyone = kpis.total(kpis.building_figures(TODAY, [first.pk, second.pk]).values())
    assert mine.year_due != everyone.year_due  # the scope made a difference
    assert sum(row["cases"] for row in data["aging"]) == 2  # 1栋's two owners in arrears


def test_it_refuses_a_community_the_user_does_not_see(client, company, manager):
    client.force_login(manager)
    data = _page_data(client.get(reverse("staff:dashboard"), {"community": company["lake"].pk}))
    # the form refuses the choice: the page falls back to the user's whole scope, 阳光花园
    assert {cell["community"] for cell in data["heatmap"]["cells"]} == {"阳光花园"}
    assert dashboard_data(manager, as_of=TODAY, community=company["lake"].pk)["heatmap"]["cells"] == []
    assert dashboard_data(manager, as_of=TODAY, community=company["lake"].pk)["kpis"][0]["value"] is None


def test_a_superuser_sees_the_whole_company(company):
    admin = factories.user("root", is_superuser=True)
    data = dashboard_data(admin, as_of=TODAY)
    assert data["heatmap"]["communities"] == ["翠湖苑", "阳光花园"]
    assert len(data["heatmap"]["cells"]) == 3
    whole = kpis.total(kpis.building_figures(TODAY).values())
    assert data["kpis"][1]["value"] == _rate(whole.arrears_rate_amount)


def test_the_numbers_are_the_live_kpis(client, company, manager):
    # given
    ids = [b.pk for b in company["buildings"]]
    live = kpis.building_figures(TODAY, ids)
    whole = kpis.total(live.values())
    client.force_login(manager)
    # when
    response = client.get(reverse("staff:dashboard"), {"as_of": TODAY.isoformat()})
    data = _page_data(response)
    # then: every headline figure, every month of the trend, every building and collector
    values = {row["key"]: row["value"] for row in data["kpis"]}
    for key in kpis.RATE_NAMES:
        assert values[key] == _rate(getattr(whole, key)), key
    assert values["recovered"] == f"{whole.recovered:.2f}"
    assert values["avg_days_to_pay"] == (None if whole.avg_days_to_pay is None else str(whole.avg_days_to_pay))
    assert len(data["trend"]) == 24
    assert (data["trend"][0]["as_of"], data["trend"][-2]["as_of"], data["trend"][-1]["as_of"]) == (
        "2024-07-31", "2026-05-31", "2026-06-20")
    for point in (data["trend"][0], data["trend"][12], data["trend"][-2], data["trend"][-1]):
        then = kpis.total(kpis.building_figures(date.fromisoformat(point["as_of"]), ids).values())
        assert point["period_collection_rate"] == _rate(then.period_collection_rate)
        assert point["arrears_rate_amount"] == _rate(then.arrears_rate_amount)
        assert point["recovered"] == f"{then.recovered:.2f}"
    assert data["trend"][-1]["recovered"] == "180.00"  # the two June payments on overdue charges
    for cell in data["heatmap"]["cells"]:
        assert cell["rate"] == _rate(live[cell["building_id"]].arrears_rate_amount)
    people = kpis.collector_figures(TODAY, ids)
    assert {row["id"]: row["recovery_7d"] for row in data["collectors"]} == {
        pk: _rate(figures.recovery_7d) for pk, figures in people.items()}
    assert data["recovery"][0]["rate"] == _rate(whole.recovery_7d) and whole.recovery_7d > 0
    assert [{key: row[key] for key in ("label", "cases", "principal")} for row in data["reasons"]] == [
        {key: row.as_dict()[key] for key in ("label", "cases", "principal")}
        for row in kpis.arrears_by_reason(TODAY, ids)]
    # and the page shows them: the headline rate as a percentage
    html = response.content.decode()
    assert f"{Decimal(values['arrears_rate_amount']) * 100:.2f}%" in html


def test_the_trend_is_read_through_the_snapshots(company, manager):
    ids = [b.pk for b in company["buildings"]]
    points = snapshots.monthly(ids, as_of=TODAY)
    data = dashboard_data(manager, as_of=TODAY)
    assert [p["as_of"] for p in data["trend"]] == [day.isoformat() for day, _ in points]
    assert [p["arrears_rate_amount"] for p in data["trend"]] == [
        _rate(kpis.total(figures.values()).arrears_rate_amount) for _, figures in points]


def test_the_workbook_holds_the_same_numbers(client, company, manager):
    client.force_login(manager)
    data = _page_data(client.get(reverse("staff:dashboard")))
    response = client.get(reverse("staff:dashboard"), {"format": "xlsx"})
    assert data["as_of"] == "2026-06-19"  # it opens on yesterday, the last complete day
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["指标", "趋势", "回收率", "账龄", "分类", "楼栋欠费率", "催收员", "欠费原因", "优惠活动", "风险模型",
                               "说明"]

    def cells(title):
        return [[Decimal(str(v)) if isinstance(v, float | int) and not isinstance(v, bool) else v for v in row]
                for row in book[title].iter_rows(min_row=2, values_only=True)]

    def dec(text):
        return None if text is None else Decimal(text)

    assert [row[:2] for row in cells("指标")] == [[row["label"], dec(row["value"])] for row in data["kpis"]]
    assert cells("趋势") == [[p["month"], p["as_of"], dec(p["period_collection_rate"]), dec(p["arrears_rate_amount"]),
                            Decimal(p["recovered"])] for p in data["trend"]]
    assert cells("账龄")[:-1] == [[row["label"], row["cases"], Decimal(row["principal"])] for row in data["aging"]]
    assert cells("分类")[:-1] == [[row["label"], row["cases"], Decimal(row["principal"])] for row in data["tiers"]]
    assert cells("楼栋欠费率") == [[c["community"], c["building"], dec(c["rate"]), Decimal(c["year_due"]),
                                Decimal(c["year_outstanding"])] for c in data["heatmap"]["cells"]]
    assert [row[0] for row in cells("催收员")] == [row["name"] for row in data["collectors"]]
    assert AuditEvent.objects.filter(action="dashboard_export", actor=manager).count() == 1


def test_the_query_count_does_not_grow_with_buildings_or_collectors(django_assert_max_num_queries, today):
    # given a company of 2 buildings, then one of 6 (each with its collector and cases)
    def run(buildings):
        company = build_company(buildings=buildings, units_per_building=2, tag=str(buildings))
        user = factories.user(f"manager{buildings}", groups=[roles.MANAGER])
        StaffScope.objects.create(user=user, community=company["sunny"])
        return user

    small = run(2)
    with CaptureQueriesContext(connection) as captured:
        two = dashboard_data(small, as_of=TODAY)
    large = run(6)
    # then: the same number of queries for three times the buildings and collectors
    with django_assert_max_num_queries(len(captured)):
        six = dashboard_data(large, as_of=TODAY)
    assert (len(two["heatmap"]["cells"]), len(six["heatmap"]["cells"])) == (2, 6)
    assert len(six["collectors"]) == 6


def _listed(client, url) -> int:
    response = client.get(url)
    assert response.status_code == 200
    return response.context["page"].paginator.count


def test_each_figure_drills_down_to_the_list_behind_it(client, company, manager):
    client.force_login(manager)
    data = _page_data(client.get(reverse("staff:dashboard")))
    total = _listed(client, reverse("staff:cases"))
    assert total == sum(row["cases"] for row in data["aging"]) == 4
    for row in data["aging"] + data["tiers"]:
        assert row["url"].startswith(reverse("staff:cases") + "?")
        assert _listed(client, row["url"]) == row["cases"], row["label"]
    for row in data["collectors"]:
        assert _listed(client, row["url"]) == row["open_cases"] == 2
    first = data["heatmap"]["cells"][0]
    assert first["url"] == f"{reverse('staff:cases')}?community={company['sunny'].pk}&building={first['building_id']}"
    assert _listed(client, first["url"]) == 2
    assert data["recovery"][0]["url"].endswith("bucket=6-10")
    # a month of the trend opens the dashboard as of its month end
    assert data["trend"][0]["url"] == f"{reverse('staff:dashboard')}?as_of=2024-07-31"
    assert _page_data(client.get(data["trend"][0]["url"]))["as_of"] == "2024-07-31"


def test_the_links_keep_the_community(client, company, manager):
    client.force_login(manager)
    community = company["sunny"].pk
    data = _page_data(client.get(reverse("staff:dashboard"), {"community": community}))
    assert data["aging"][0]["url"] == f"{reverse('staff:cases')}?community={community}&bucket=1-5"
    assert data["trend"][-1]["url"] == f"{reverse('staff:dashboard')}?as_of=2026-06-19&community={community}"


def test_the_front_desk_gets_no_dashboard(client, company, front_desk, manager):
    client.force_login(front_desk)
    assert client.get(reverse("staff:dashboard")).status_code == 403
    assert reverse("staff:dashboard") not in client.get(reverse("staff:desk")).content.decode()
    client.force_login(manager)
    assert f'href="{reverse("staff:dashboard")}"' in client.get(reverse("staff:cases")).content.decode()
    client.logout()
    assert client.get(reverse("staff:dashboard")).status_code == 302


def test_a_date_after_today_is_refused(client, company, manager):
    client.force_login(manager)
    response = client.get(reverse("staff:dashboard"), {"as_of": "2026-07-01"})
    assert _page_data(response)["as_of"] == "2026-06-19"  # refused: the page opens on yesterday
    assert "截至日期不能晚于今天" in response.content.decode()


def test_the_english_page_has_no_chinese_labels(client, company, manager):
    client.force_login(manager)
    client.cookies.load({"django_language": "en"})
    response = client.get(reverse("staff:dashboard"))
    data = _page_data(response)
    words = [*data["labels"].values(), *data["collector_columns"]]
    words += [row["label"] for section in ("kpis", "recovery", "aging", "tiers", "reasons") for row in data[section]]
    words += [row["list_label"] for row in data["recovery"]]
    assert [word for word in words if CJK.search(word)] == []
    assert "Reports" in response.content.decode()
    # the names are data, not labels: they stay as entered
    assert data["heatmap"]["communities"] == ["阳光花园"]
    book = load_workbook(BytesIO(client.get(reverse("staff:dashboard"), {"format": "xlsx"}).content))
    headers = [cell for title in book.sheetnames for cell in next(book[title].iter_rows(max_row=1, values_only=True))]
    assert [title for title in book.sheetnames if CJK.search(title)] == []
    assert [h for h in headers if isinstance(h, str) and CJK.search(h)] == []


def _assert_trend_is_live(data, ids):
    for point in data["trend"]:
        then = kpis.total(kpis.building_figures(date.fromisoformat(point["as_of"]), ids).values())
        assert (point["period_collection_rate"], point["arrears_rate_amount"], point["recovered"]) == (
            _rate(then.period_collection_rate), _rate(then.arrears_rate_amount), f"{then.recovered:.2f}"), point["as_of"]


def test_the_trend_from_stored_snapshots_is_the_live_one_even_after_a_back_dated_payment(company, manager):
    # given the snapshots the daily run stores (as of yesterday and every month end)
    from arrears.ledger import services

    ids = [b.pk for b in company["buildings"]]
    assert snapshots.refresh(as_of=date(2026, 6, 19)) > 0
    # then the dashboard's 24 points are the live figures
    _assert_trend_is_live(dashboard_data(manager, as_of=TODAY), ids)
    # when a payment is entered today with a value date in March
    unit = company["buildings"][1].units.order_by("pk").last()
    owner = unit.ownerships.get().owner
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="500.00", paid_on=date(2026, 3, 10), method="cash")
    # then every point from March on moves with it, still equal to the live computation
    data = dashboard_data(manager, as_of=TODAY)
    _assert_trend_is_live(data, ids)


def test_incentives_and_the_risk_report_have_their_tables_even_when_empty(client, company, manager):
    client.force_login(manager)
    response = client.get(reverse("staff:dashboard"))
    data = _page_data(response)
    assert data["incentives"] == [] and data["risk"] == []
    page = response.content.decode()
    assert 'data-table="incentives"' in page and "没有优惠活动" in page
    assert "尚未训练模型：运行 arrears risk train。" in page


def test_each_reason_drills_down_to_its_cases(client, company, manager):
    # given the open cases of 阳光花园, one owner judged 经济压力 · 理由借口 and the rest not judged
    from arrears.collection.models import Case
    from arrears.collection.services import set_profile

    open_cases = list(Case.objects.filter(community=company["sunny"], status="open").select_related("owner"))
    judged = open_cases[0]
    set_profile(owner=judged.owner, staff=manager, reason="economic", intent="excuse")
    client.force_login(manager)
    # when the manager opens today's dashboard and follows each reason's link
    data = client.get(reverse("staff:dashboard"), {"as_of": TODAY.isoformat()}).context["data"]
    rows = {row["label"]: row for row in data["reasons"]}
    assert set(rows) == {"经济压力 · 理由借口", "未记录原因 · 未记录性质"}
    listed = {}
    for label, row in rows.items():
        page = client.get(row["url"])
        assert page.status_code == 200
        listed[label] = {case.pk for case in page.context["page"].object_list}
    # then each list holds exactly the cases the row counts
    assert listed["经济压力 · 理由借口"] == {judged.pk}
    assert listed["未记录原因 · 未记录性质"] == {case.pk for case in open_cases[1:]}
    assert [len(listed[label]) for label in rows] == [row["cases"] for row in rows.values()]
