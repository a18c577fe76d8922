"""目标考核 in a real Chromium at phone width: the table scrolls inside its box, never the page; screenshots in artifacts/."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from arrears.collection.models import CollectorAssignment
from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.insights import targets
from arrears.ledger import services
from arrears.ledger.models import ChargeType
from tests import factories
from tests.staff.test_browser import ARTIFACTS, browser, pytestmark  # noqa: F401  (the fixture and the marks)

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def team(db):
    today = timezone.localdate()
    community = factories.community()
    manager = factories.user("manager", groups=[roles.MANAGER])
    StaffScope.objects.create(user=manager, community=community)
    for n, name in enumerate(["李", "王", "张"], start=1):
        unit = factories.unit(community, building=f"{n}栋", room="101")
        owner = factories.owner(unit, name=f"业主{n}")
        collector = factories.user(f"c{n}", groups=[roles.COLLECTOR], last_name=name, first_name="管家")
        StaffScope.objects.create(user=collector, community=community)
        CollectorAssignment.objects.create(community=community, building=unit.building, user=collector)
        services.create_charge(unit_id=unit.pk, owner_id=owner.pk, charge_type_id=ChargeType.objects.get(code="property_fee").pk,
                               period_start=date(2025, 1, 1), period_end=date(2025, 1, 31), amount=Decimal("2000.00"),
                               due_date=today - timedelta(days=60))
        services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=Decimal(300 * n), paid_on=today.replace(day=1),
                                method="cash")
        targets.set_target(staff=manager, community=community, collector=collector, kind="month",
                           period_start=today.replace(day=1), amount="600.00")
    targets.set_target(staff=manager, community=community, kind="month", period_start=today.replace(day=1),
                       amount="2000.00")
    return community


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_the_targets_page_fits_a_phone(live_server, team, browser):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    page.set_default_timeout(15_000)
    _login(page, live_server, "manager")
    response = page.goto(f"{live_server.url}/targets/")
    assert response.status == 200
    page.screenshot(path=str(ARTIFACTS / "targets-manager-phone.png"), full_page=True)
    # the page never scrolls sideways: the table scrolls inside its own box
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    box = page.locator(".table-scroll")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")
    box.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    box.screenshot(path=str(ARTIFACTS / "targets-manager-table-scrolled-phone.png"))
    # each bar has its percentage beside it as text
    assert page.locator("[data-testid=percent]").all_inner_texts() == ["90.0%", "150.0%", "50.0%", "100.0%"]
    # a collector's day page carries their own card
    other = browser.new_page(viewport=PHONE, locale="zh-CN")
    other.set_default_timeout(15_000)
    _login(other, live_server, "c3")
    card = other.locator("[data-testid=target-card]")
    assert "150.0%" in card.inner_text()
    other.screenshot(path=str(ARTIFACTS / "targets-collector-home-phone.png"), full_page=False)
    assert other.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
