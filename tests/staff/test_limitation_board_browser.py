"""The limitation board and a legal user's home page in a real Chromium on a phone: no sideways scrolling."""

import os
from datetime import date

import time_machine

from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.ledger import services as ledger_services
from tests import factories
from tests.staff.test_browser import ARTIFACTS, browser  # noqa: F401  (the fixture)
from tests.staff.test_browser import pytestmark as browser_marks

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = browser_marks
PHONE = {"width": 375, "height": 812}


def test_the_board_and_the_legal_home_fit_a_phone(live_server, browser):  # noqa: F811
    # given: 阳光花园 3栋1单元1201 with two charges near their deadlines, a legal user of the community
    community = factories.community()
    unit = factories.unit(community, building="3栋", room="1201")
    factories.owner(unit, "王小明")
    factories.tariff(community, effective_from=date(2023, 3, 1))
    ledger_services.bill(through=date(2023, 4, 1))
    user = factories.user("fa", groups=[roles.LEGAL])
    StaffScope.objects.create(user=user, community=community)
    ARTIFACTS.mkdir(exist_ok=True)
    with time_machine.travel(date(2026, 2, 10)):
        page = browser.new_page(viewport=PHONE, locale="zh-CN")
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "fa")
        page.fill("#id_password", "pw-fa")
        page.click(".login button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        # when / then: the home page leads with the deadlines
        page.wait_for_selector("[data-testid=limitation-top]")
        assert page.locator("[data-testid=limitation-top-row]").count() == 2
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(ARTIFACTS / "limitation-home-phone.png"), full_page=True)
        page.click("[data-testid=limitation-board-link]")
        page.wait_for_selector("[data-testid=board-row]")
        assert page.locator("[data-testid=board-row]").count() == 2
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(ARTIFACTS / "limitation-board-phone.png"), full_page=True)
