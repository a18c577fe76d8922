"""Break-it (helper I): tricky ledgers against the one definition of "in arrears" — a unit whose
previous owner still owes, a charge due today, grace days, an owner with two units, a payment in
three parts — every page, count, desk answer and report must agree."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from arrears.collection.assess import assess
from arrears.collection.scripts import ensure_scripts
from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.ledger import selectors, services
from arrears.ledger.models import Charge, ChargeType
from tests import factories
from tests.collection.conftest import make_case
from tests.staff.conftest import TODAY  # 2026-05-10

pytestmark = pytest.mark.django_db


def _charge(unit, owner, amount, due, *, code="property_fee", rate="0", grace=0):
    return Charge.objects.create(
        community=unit.community, unit=unit, owner=owner, charge_type=ChargeType.objects.get(code=code),
        period_start=due.replace(day=1), period_end=due.replace(day=28), amount=D(amount), due_date=due,
        late_fee_daily_rate=D(rate), grace_days=grace,
    )


@pytest.fixture
def ledger(today):
    """锦绣华庭 10栋: sold (the seller still owes), due today, in grace, two units of one owner, paid in parts."""
    community = factories.community("锦绣华庭")
    units = {name: factories.unit(community, building="10栋", entrance="", room=f"26{n:02d}")
             for n, name in enumerate(["sold", "due_today", "grace", "twin_a", "twin_b", "parts"])}
    seller = factories.owner(units["sold"], "吴卖方", start=date(2020, 1, 1), end=date(2026, 3, 31))
    buyer = factories.owner(units["sold"], "郑买方", start=date(2026, 4, 1))
    owners = {"seller": seller, "buyer": buyer}
    # sold: the seller's ¥500.00 due 03-05 is unpaid; the buyer's ¥100.00 due 05-05 is paid in full
    _charge(units["sold"], seller, "500.00", date(2026, 3, 5))
    _charge(units["sold"], buyer, "100.00", date(2026, 5, 5), rate="0.001")
    services.record_payment(unit_id=units["sold"].pk, owner_id=buyer.pk, amount="100.00", paid_on=date(2026, 5, 5),
                            method="cash")
    # due_today: ¥90.00 due 05-10 (today) is not yet arrears
    owners["due_today"] = factories.owner(units["due_today"], "冯今日", start=date(2024, 1, 1))
    _charge(units["due_today"], owners["due_today"], "90.00", TODAY)
    # grace: ¥70.00 due 05-05 with 10 grace days: overdue (grace only delays the late fee)
    owners["grace"] = factories.owner(units["grace"], "陈宽限", start=date(2024, 1, 1))
    _charge(units["grace"], owners["grace"], "70.00", date(2026, 5, 5), rate="0.001", grace=10)
    # twin: one owner, two units, ¥60.00 each
    owners["twin"] = factories.owner(units["twin_a"], "褚两套", start=date(2024, 1, 1))
    from arrears.estate.models import Ownership
    Ownership.objects.create(community=community, unit=units["twin_b"], owner=owners["twin"], start=date(2024, 1, 1))
    _charge(units["twin_a"], owners["twin"], "60.00", date(2026, 4, 5))
    _charge(units["twin_b"], owners["twin"], "60.00", date(2026, 4, 5))
    # parts: ¥0.30 paid as 0.10 + 0.10 + 0.10 (binary floats sum to 0.30000000000000004)
    owners["parts"] = factories.owner(units["parts"], "卫三次", start=date(2024, 1, 1))
    _charge(units["parts"], owners["parts"], "0.30", date(2026, 4, 5))
    for day in (6, 7, 8):
        services.record_payment(unit_id=units["parts"].pk, owner_id=owners["parts"].pk, amount="0.10",
                                paid_on=date(2026, 4, day), method="cash")
    manager = factories.user("jx-manager", groups=[roles.MANAGER])
    StaffScope.objects.create(user=manager, community=community)
    desk = factories.user("jx-desk", groups=[roles.FRONT_DESK])
    StaffScope.objects.create(user=desk, community=community)
    collector = factories.user("jx-collector", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=collector, community=community)
    ensure_scripts()
    return {"community": community, "units": units, "owners": owners, "manager": manager, "desk": desk,
            "collector": collector}


EXPECTED = {"sold", "grace", "twin_a", "twin_b"}


def test_every_count_agrees_on_a_tricky_ledger(client, ledger, today):
    expected = {ledger["units"][name].pk for name in EXPECTED}
    assert set(selectors.units_in_arrears(TODAY).values_list("unit_id", flat=True)) == expected
    assert {a.unit_id for a in assess(TODAY)} == expected
    client.force_login(ledger["manager"])
    summary = client.get(reverse("staff:home")).context["summary"]
    assert (summary.units_in_arrears, summary.overdue_total) == (4, D("690.00"))  # 500 + 70 + 60 + 60
    rates = client.get(reverse("staff:cases")).context["rates"]
    assert (rates.units_owing, rates.overdue_principal) == (4, D("690.00"))
    owing = set()
    for unit in ledger["units"].values():
        rows = client.get(reverse("staff:search"), {"q": f"锦绣华庭 10栋{unit.room}"}).context["rows"]
        assert [row[0].pk for row in rows] == [unit.pk]
        owing |= {found.pk for found, _, owed in rows if owed}
    assert owing == expected


def test_the_desk_does_not_remind_the_buyer_of_the_sellers_debt(client, ledger, today):
    """The buyer paid all of his; the seller's ¥500 is not his to be reminded of at the gate (个人信息保护法)."""
    make_case(ledger["units"]["sold"], ledger["owners"]["buyer"], front_desk_flag=True)  # not yet closed by the run
    client.force_login(ledger["desk"])
    html = client.get(reverse("staff:desk"), {"q": "锦绣华庭 10栋2600"}).content.decode()
    assert "无需提醒" in html and "欠费，请礼貌提醒" not in html


def test_a_collector_at_the_desk_sees_the_case_owners_amount_not_the_units(client, ledger, today):
    """The buyer owes ¥40.00 of his own; the desk's amount is his, not his plus the seller's ¥500."""
    unit, buyer = ledger["units"]["sold"], ledger["owners"]["buyer"]
    _charge(unit, buyer, "40.00", date(2026, 4, 20))
    make_case(unit, buyer, front_desk_flag=True)
    client.force_login(ledger["collector"])
    rows = client.get(reverse("staff:desk"), {"q": "10栋2600"}).context["rows"]
    assert [(row.remind, row.amount) for row in rows] == [(True, D("40.00"))]


def test_the_desk_reminds_nobody_for_a_charge_due_today(client, ledger, today):
    make_case(ledger["units"]["due_today"], ledger["owners"]["due_today"], front_desk_flag=True)
    client.force_login(ledger["desk"])
    html = client.get(reverse("staff:desk"), {"q": "10栋2601"}).content.decode()
    assert "无需提醒" in html and "欠费" not in html and "¥" not in html
