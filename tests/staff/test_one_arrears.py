"""One definition of "in arrears" (issue 14): overdue principal > 0 on the day, read by one ledger
selector; the home cards, the arrears list and its rates, unit search, the desk and the cases
report agree on the number and on the set of households."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from arrears.collection.assess import assess
from arrears.collection.models import Case, CaseStatus
from arrears.collection.scripts import ensure_scripts
from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.ledger import selectors, services
from arrears.ledger.models import Allocation, Charge, ChargeType, Payment
from tests import factories
from tests.collection.conftest import make_case
from tests.staff.conftest import TODAY  # 2026-05-10

pytestmark = pytest.mark.django_db


def _charge(unit, owner, amount, due, *, code="property_fee", rate="0"):
    return Charge.objects.create(
        community=unit.community, unit=unit, owner=owner, charge_type=ChargeType.objects.get(code=code),
        period_start=due.replace(day=1), period_end=due.replace(day=28), amount=D(amount), due_date=due,
        late_fee_daily_rate=D(rate),
    )


@pytest.fixture
def portfolio(today):
    """锦绣华庭, one unit per case the issue names; expected in arrears: owes, closed_owes, reversed."""
    community = factories.community("锦绣华庭")
    units, owners = {}, {}
    for n, name in enumerate(["owes", "parking_not_due", "closed_owes", "paid_open_case", "late_fee_only", "reversed",
                              "waived"]):
        units[name] = factories.unit(community, building="10栋", entrance="", room=f"25{n:02d}")
        owners[name] = factories.owner(units[name], f"周{n}号", start=date(2024, 1, 1))
    # owes: ¥300.00 due 04-05, nothing paid (and a case the ladder flagged for the desk)
    _charge(units["owes"], owners["owes"], "300.00", date(2026, 4, 5))
    # parking_not_due: only a ¥200 parking fee due 05-15, after today, with a stale flagged open case
    _charge(units["parking_not_due"], owners["parking_not_due"], "200.00", date(2026, 5, 15), code="parking_fee")
    # closed_owes: the case was closed, but ¥150.00 due 05-05 is unpaid
    _charge(units["closed_owes"], owners["closed_owes"], "150.00", date(2026, 5, 5))
    # paid_open_case: its open case predates the payment that cleared it
    _charge(units["paid_open_case"], owners["paid_open_case"], "300.00", date(2026, 3, 5))
    services.record_payment(unit_id=units["paid_open_case"].pk, owner_id=owners["paid_open_case"].pk, amount="300.00",
                            paid_on=date(2026, 5, 1), method="cash")
    # late_fee_only: principal paid late by a principal-only allocation: the late fee stays, the principal is 0
    late = _charge(units["late_fee_only"], owners["late_fee_only"], "100.00", date(2026, 2, 5), rate="0.001")
    payment = Payment.objects.create(company=community.company, community=community, unit=units["late_fee_only"],
                                     owner=owners["late_fee_only"], amount=D("100.00"), unallocated=D("0.00"),
                                     paid_on=date(2026, 4, 1), method="cash")
    Allocation.objects.create(community=community, payment=payment, charge=late, component="principal", amount=D("100.00"),
                              value_date=date(2026, 4, 1))
    # reversed: paid, then the payment bounced: the principal is owed again
    _charge(units["reversed"], owners["reversed"], "80.00", date(2026, 4, 5))
    bounced = services.record_payment(unit_id=units["reversed"].pk, owner_id=owners["reversed"].pk, amount="80.00",
                                      paid_on=date(2026, 4, 6), method="cash")
    services.reverse_payment(payment_id=bounced.pk, reversed_on=date(2026, 4, 20), reason="退票")
    # waived: the whole principal waived
    waived = _charge(units["waived"], owners["waived"], "120.00", date(2026, 3, 5))
    manager = factories.user("jx-manager", groups=[roles.MANAGER])
    StaffScope.objects.create(user=manager, community=community)
    waiver = services.request_waiver(charge_id=waived.pk, component="principal", amount="120.00", reason="维修补偿",
                                     requested_by=manager, requested_on=date(2026, 4, 1))
    services.approve_waiver(waiver_id=waiver.pk, approved_by=factories.user("approver", is_superuser=True),
                            decided_on=date(2026, 4, 2))
    for name in ("owes", "parking_not_due", "paid_open_case"):
        make_case(units[name], owners[name], front_desk_flag=True)
    make_case(units["closed_owes"], owners["closed_owes"], status=CaseStatus.CLOSED, closed_on=date(2026, 5, 1))
    desk = factories.user("jx-desk", groups=[roles.FRONT_DESK])
    StaffScope.objects.create(user=desk, community=community)
    ensure_scripts()
    return {"community": community, "units": units, "owners": owners, "manager": manager, "desk": desk}


EXPECTED = {"owes", "closed_owes", "reversed"}


def _ids(portfolio, names):
    return {portfolio["units"][name].pk for name in names}


def test_the_selector_reads_overdue_principal_only(portfolio):
    owed = selectors.arrears_by_owner_unit(TODAY, community_ids=[portfolio["community"].pk])
    units, owners = portfolio["units"], portfolio["owners"]
    assert owed == {
        (units["owes"].pk, owners["owes"].pk): D("300.00"),
        (units["closed_owes"].pk, owners["closed_owes"].pk): D("150.00"),
        (units["reversed"].pk, owners["reversed"].pk): D("80.00"),
    }


def test_every_page_count_and_report_gives_the_same_households(client, portfolio, today):
    expected = _ids(portfolio, EXPECTED)
    client.force_login(portfolio["manager"])
    # home cards: 3 households, ¥300 + ¥150 + ¥80 overdue principal
    summary = client.get(reverse("staff:home")).context["summary"]
    assert (summary.units_in_arrears, summary.overdue_total) == (3, D("530.00"))
    # the arrears list's rate by households, and its amount
    rates = client.get(reverse("staff:cases")).context["rates"]
    assert (rates.units_owing, rates.units_owned, rates.overdue_principal) == (3, 7, D("530.00"))
    # unit search by the owners' surname: the 欠费 column is set for exactly these units
    rows = client.get(reverse("staff:search"), {"q": "周"}).context["rows"]
    assert len(rows) == 7
    assert {unit.pk for unit, _, owed in rows if owed} == expected
    # the selector the counts read, and the `arrears report cases` assessment
    assert set(selectors.units_in_arrears(TODAY).values_list("unit_id", flat=True)) == expected
    assert {a.unit_id for a in assess(TODAY)} == expected
    # the arrears list lists open cases only where the owner is in arrears today (the closed
    # case's unit waits for the daily run to open a new case; the paid-up case is not listed)
    listed = {case.unit_id for case in client.get(reverse("staff:cases")).context["page"]}
    assert listed == _ids(portfolio, {"owes"})
    assert Case.objects.filter(status=CaseStatus.OPEN).count() == 3


def test_the_search_amount_includes_the_late_fee_of_a_unit_in_arrears(client, portfolio, today):
    client.force_login(portfolio["manager"])
    rows = client.get(reverse("staff:search"), {"q": "周"}).context["rows"]
    owed = {unit.pk: amount for unit, _, amount in rows if amount}
    assert owed[portfolio["units"]["owes"].pk] == D("300.00")  # no late-fee rate on it


def test_a_parking_fee_not_yet_due_is_no_arrears_at_the_desk_or_in_search(client, portfolio, today):
    client.force_login(portfolio["manager"])
    html = client.get(reverse("staff:search"), {"q": "10栋2501"}).content.decode()
    assert "无欠费" in html and "¥200" not in html
    client.force_login(portfolio["desk"])
    html = client.get(reverse("staff:desk"), {"q": "10栋2501"}).content.decode()
    assert "无需提醒" in html and "欠费" not in html


@pytest.mark.parametrize(("name", "reminded"), [("owes", True), ("paid_open_case", False), ("parking_not_due", False)])
def test_the_desk_reminds_only_a_flagged_household_in_arrears(client, portfolio, today, name, reminded):
    client.force_login(portfolio["desk"])
    room = portfolio["units"][name].room
    html = client.get(reverse("staff:desk"), {"q": f"10栋{room}"}).content.decode()
    assert ("欠费，请礼貌提醒" in html) is reminded
