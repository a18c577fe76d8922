"""What the first attacker pass on insights broke, each kept as a test: oversized money, dates before
the figures mean anything, a building-scoped user's incentive figures, the dashboard workbook's
missing sheets, and waivers that could be edited after the fact."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from openpyxl import load_workbook

from arrears.core.errors import DomainError
from arrears.core.money import MoneyError, format_yuan, to_money
from arrears.insights import targets
from arrears.insights.models import Target
from arrears.ledger import grants, incentives, selectors, services
from arrears.ledger.models import Charge, IncentiveProgramme, Waiver, WaiverStatus
from tests import factories

from .conftest import TODAY

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", ["999999999999999", "1000000000000", "-1000000000000", "1e30", "9" * 40, "1E+12"])
def test_money_longer_than_the_column_is_refused(text):
    with pytest.raises(MoneyError, match="12"):
        to_money(text)


def test_the_largest_storable_amount_is_money():
    assert to_money("999999999999.99") == Decimal("999999999999.99")
    assert format_yuan(Decimal("12345678901234.5")) == "¥12,345,678,901,234.50"  # a computed total is still shown


@pytest.mark.parametrize("amount", ["999999999999999", "1e30", "9" * 40])
def test_a_target_amount_longer_than_the_column_is_refused(company, manager, amount):
    with pytest.raises(DomainError) as error:
        targets.set_target(staff=manager, community=company["sunny"], kind="month", period_start=date(2026, 6, 1),
                           amount=amount)
    assert error.value.code == "amount"
    assert not Target.objects.exists()


def test_the_incentives_page_refuses_an_oversized_amount_and_payments_go_on(client, company, manager):
    # given a manager on the incentives page
    client.force_login(manager)
    sunny = company["sunny"]
    # when they send an amount longer than the money column
    response = client.post(reverse("staff:incentives"), {
        "community": sunny.pk, "kind": "early_payment", "name": "大额", "valid_from": "2026-07-01", "days": "10",
        "amount": "999999999999999"})
    # then it is refused on the form, nothing is stored, and the page and payments still work
    assert response.status_code == 200
    assert "12" in response.content.decode()
    assert not IncentiveProgramme.objects.exists()
    assert client.get(reverse("staff:incentives")).status_code == 200
    unit = sunny.units.first()
    services.record_payment(unit_id=unit.pk, owner_id=unit.ownerships.first().owner_id, amount="10.00",
                            paid_on=TODAY, method="cash")


@pytest.mark.parametrize("query", [{"period": "0001-01"}, {"period": "0002-06", "kind": "quarter"}, {"period": "1999-12"}])
def test_targets_before_the_figures_begin_show_the_earliest_period(client, company, manager, query):
    client.force_login(manager)
    assert client.get(reverse("staff:targets"), query).status_code == 200
    assert client.get(reverse("staff:targets_export"), query).status_code == 200


@pytest.mark.parametrize("as_of", ["0001-01-01", "0002-06-30", "1999-12-31"])
def test_the_dashboard_refuses_a_date_before_the_figures_begin(client, company, manager, as_of):
    client.force_login(manager)
    for query in ({"as_of": as_of}, {"as_of": as_of, "format": "xlsx"}):
        response = client.get(reverse("staff:dashboard"), query)
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
        assert "不能早于 2000-01-01" in response.content.decode()


def test_the_kpi_report_refuses_a_date_before_the_figures_begin(company):
    with pytest.raises(CommandError, match="2000-01-01"):
        call_command("report", "kpis", "--date", "0001-01-01")


def _late_pairs(buildings) -> int:
    """Owner-units billed a recurring charge due this year to yesterday and not settled by its due date."""
    return len(set(Charge.objects.filter(
        Q(settled_on__isnull=True) | Q(settled_on__gt=F("due_date")), unit__building__in=buildings,
        origin__in=grants.RECURRING_ORIGINS, due_date__gte=date(2026, 1, 1), due_date__lte=date(2026, 6, 19),
    ).values_list("unit_id", "owner_id")))


def test_a_building_scoped_user_sees_their_buildings_incentive_figures(client, company, manager, one_building):
    # given a late-fee waiver programme in 阳光花园 (two buildings, owners in arrears in each)
    sunny, (first, second) = company["sunny"], company["buildings"]
    incentives.create_programme(community_id=sunny.pk, kind="late_fee_waiver", name="主动缴清免滞纳金",
                                valid_from=date(2026, 1, 1), days=15, created_by=manager)
    # when the collector of 1栋 only and the community's manager open the dashboard
    client.force_login(one_building)
    mine = client.get(reverse("staff:dashboard")).context["data"]["incentives"]
    client.force_login(manager)
    whole = client.get(reverse("staff:dashboard")).context["data"]["incentives"]
    # then each sees the owners of what they may see: 1栋's for the collector, both buildings' for the manager
    assert [row["eligible_units"] for row in mine] == [_late_pairs([first])]
    assert [row["eligible_units"] for row in whole] == [_late_pairs([first, second])]
    assert _late_pairs([first]) < _late_pairs([first, second])
    assert selectors.incentive_figures(start=date(2026, 1, 1), end=date(2026, 6, 19), community_ids=[sunny.pk],
                                       building_ids=[second.pk])[0]["eligible_units"] == _late_pairs([second])


def test_the_workbook_holds_the_incentives_and_the_risk_report(client, company, manager):
    sunny = company["sunny"]
    incentives.create_programme(community_id=sunny.pk, kind="late_fee_waiver", name="主动缴清免滞纳金",
                                valid_from=date(2026, 1, 1), days=15, created_by=manager)
    client.force_login(manager)
    data = client.get(reverse("staff:dashboard")).context["data"]
    book = load_workbook(BytesIO(client.get(reverse("staff:dashboard"), {"format": "xlsx"}).content))
    rows = list(book["优惠活动"].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[3]) for row in rows] == [("主动缴清免滞纳金", data["incentives"][0]["eligible_units"])]
    assert "风险模型" in book.sheetnames


# -- waivers are evidence -----------------------------------------------------------------------------------


@pytest.fixture
def approved():
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    charge = services.create_charge(unit_id=unit.pk, owner_id=owner.pk, charge_type_id=factories.charge_type().pk,
                                    period_start=date(2026, 1, 1), period_end=date(2026, 1, 31), amount=Decimal("200.00"),
                                    due_date=date(2026, 1, 25))
    clerk, boss = factories.user("clerk"), factories.user("boss")
    waiver = services.request_waiver(charge_id=charge.pk, component="principal", amount=Decimal("50.00"), reason="漏水",
                                     requested_by=clerk, requested_on=date(2026, 2, 1))
    services.approve_waiver(waiver_id=waiver.pk, approved_by=boss, decided_on=date(2026, 2, 2))
    return Waiver.objects.get(pk=waiver.pk)


def test_an_approved_waiver_cannot_be_changed_through_the_orm(approved):
    with pytest.raises(DomainError):
        Waiver.objects.filter(pk=approved.pk).update(amount=Decimal("200.00"))
    with pytest.raises(DomainError):
        approved.delete()
    with pytest.raises(DomainError):
        Waiver.objects.filter(pk=approved.pk).delete()


@pytest.mark.parametrize("sql", [
    "UPDATE ledger_waiver SET amount = 200 WHERE id = %s",
    "UPDATE ledger_waiver SET status = 'rejected' WHERE id = %s",
    "UPDATE ledger_waiver SET decided_on = '2026-01-01' WHERE id = %s",
])
def test_an_approved_waiver_cannot_be_changed_in_the_database(approved, sql):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [approved.pk])
    assert Waiver.objects.get(pk=approved.pk).amount == Decimal("50.00")


def test_a_requested_waiver_can_still_be_decided(approved):
    assert approved.status == WaiverStatus.APPROVED and approved.decided_on == date(2026, 2, 2)
