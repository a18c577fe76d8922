"""The front desk reminds only the cases the ladder flagged for ⑦, while the guard allows it; it
sees no amount anywhere on the staff site."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from arrears.collection.models import ChargeDispute
from arrears.ledger import services
from arrears.ledger.models import Charge
from tests.collection.conftest import make_case

# What 王小明 of 3栋1单元1201 owes on 2026-05-10 (tests/staff/conftest.py): 600.00 + 21.00 late fee.
AMOUNTS = ("621.00", "621", "600.00", "21.00")


def _desk(client, user, query="3栋1201"):
    client.force_login(user)
    response = client.get(reverse("staff:desk"), {"q": query})
    assert response.status_code == 200
    return response.content.decode()


def _flag(case):
    case.front_desk_flag = True
    case.save()
    return case


def test_it_reminds_a_case_the_ladder_flagged(client, front_desk, case, scripts, today):
    # given the ladder flagged the case for ⑦ 全民总动员
    _flag(case)
    # when
    html = _desk(client, front_desk)
    # then
    assert "欠费，请礼貌提醒" in html and "全民总动员" in html and "【怎么说】<br>您好！" in html
    # the masked name tells the desk who it is; the words said aloud never read a masked name out
    assert "王**" in html and "王**您好" not in html
    assert "¥" not in html and not [amount for amount in AMOUNTS if amount in html]


def test_it_says_nothing_of_arrears_for_an_owner_in_arrears_not_flagged(client, front_desk, case, scripts, today):
    # given an open case with ¥621.00 overdue that the ladder did not flag
    # when
    html = _desk(client, front_desk)
    # then the desk learns only the unit and the masked owner
    assert "3栋1单元1201" in html and "王**" in html and "王小明" not in html
    assert "无需提醒" in html and "欠费" not in html and "王**您好" not in html


def test_it_says_nothing_of_arrears_while_every_overdue_charge_is_disputed(client, front_desk, case, estate, today):
    # given a flagged case whose overdue charges are all disputed: the guard pauses collection
    _flag(case)
    for charge in Charge.objects.filter(unit=estate["unit"], due_date__lt=today):
        ChargeDispute.objects.create(community=charge.community, charge=charge, reason="面积有误", opened_on=today)
    # when
    html = _desk(client, front_desk)
    # then
    assert "无需提醒" in html and "欠费" not in html


def test_it_stops_reminding_once_the_ledger_shows_nothing_owed(client, front_desk, case, estate, today):
    # given a flagged case whose owner paid everything at the cashier this morning
    _flag(case)
    services.record_payment(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount="621.00", paid_on=today,
                            method="cash")
    # when
    html = _desk(client, front_desk)
    # then
    assert "无需提醒" in html and "欠费" not in html


def test_it_does_not_remind_of_a_former_owners_flagged_case(client, front_desk, estate, today):
    # given a flagged case of the unit's previous owner (sold in 2023)
    _flag(make_case(estate["unit"], estate["previous"]))
    # when
    html = _desk(client, front_desk)
    # then
    assert "无需提醒" in html and "欠费" not in html


def test_the_desk_reads_no_ledger_when_nothing_is_flagged(client, front_desk, case, today):
    # given a case that is not flagged
    client.force_login(front_desk)
    # when / then: no charge is read for a desk that shows none
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("staff:desk"), {"q": "3栋1201"})
    assert not [q["sql"] for q in queries.captured_queries if "ledger_charge" in q["sql"]]


@pytest.mark.parametrize("name", ["home", "search", "unit", "desk", "import", "workbench", "cases", "letters",
                                  "outbox", "templates", "owner_requests", "reversals", "cashier"])
def test_the_front_desk_sees_no_amount_on_any_page(client, front_desk, case, scripts, estate, name, today):
    # given an owner in arrears (¥621.00) whose case the ladder flagged for the desk
    _flag(case)
    client.force_login(front_desk)
    args = [estate["unit"].pk] if name in ("unit", "cashier") else []
    query = {"q": "3栋1201"} if name in ("search", "desk") else {}
    # when
    response = client.get(reverse(f"staff:{name}", args=args), query)
    # then: a page the front desk may open shows no amount; the others are refused
    assert response.status_code in (200, 403)
    if name in ("home", "search", "unit", "desk"):
        assert response.status_code == 200
    html = response.content.decode()
    assert "¥" not in html and not [amount for amount in AMOUNTS if amount in html]


def test_the_front_desk_home_page_shows_no_arrears_totals(client, front_desk, estate, today):
    client.force_login(front_desk)
    response = client.get(reverse("staff:home"))
    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary.units, summary.owners, summary.units_in_arrears, summary.overdue_total) == (2, 2, None, None)
    assert 'data-stat="overdue_total"' not in response.content.decode()


def test_the_front_desk_search_shows_no_arrears_column(client, front_desk, insider, estate, today):
    # when
    client.force_login(front_desk)
    desk_html = client.get(reverse("staff:search"), {"q": "3栋1201"}).content.decode()
    client.force_login(insider)
    collector_html = client.get(reverse("staff:search"), {"q": "3栋1201"}).content.decode()
    # then
    assert "3栋1单元1201" in desk_html and "逾期欠费" not in desk_html and "无欠费" not in desk_html
    assert "¥621.00" in collector_html


def test_a_script_under_one_month_says_less_than_one_month(case, today):
    # given a case 12 days overdue, whose snapshot says 0 whole months
    from arrears.collection.selectors import script_context

    case.oldest_due, case.months_overdue = date(2026, 4, 28), 0
    # when
    context = script_context(case, collector=None, today=today)
    # then "{months}个月" in a script reads "不足1个月"
    assert context["months"] == "不足1"
