"""A manager assigns a collector to a building and rebalances it, on a phone and a desktop (real Chromium)."""

import pytest

from arrears.collection.models import Case
from arrears.core import roles
from arrears.estate.models import StaffScope
from tests import factories
from tests.collection.conftest import make_case
from tests.staff.test_browser import ARTIFACTS, browser  # noqa: F401 - the Chromium fixture
from tests.staff.test_browser import pytestmark as browser_marks

pytestmark = browser_marks

VIEWPORTS = [("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})]


@pytest.fixture
def building_without_collector(estate):
    manager = factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=manager, community=estate["community"])
    collector = factories.user("ann", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=collector, community=estate["community"])
    return make_case(estate["unit"], estate["owner"])


@pytest.mark.parametrize(("name", "viewport"), VIEWPORTS)
def test_a_manager_assigns_a_building(live_server, building_without_collector, browser, name, viewport):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.click("nav.mainnav >> text=楼栋催收员")
    row = page.locator(f"tr[data-building='{building_without_collector.unit.building_id}']")
    assert "1 个未分配" in row.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(ARTIFACTS / f"collectors-{name}.png"), full_page=True)
    row.get_by_label("ann").check()
    row.get_by_role("button", name="分配").click()
    page.wait_for_selector(".messages li.success")
    page.locator(f"tr[data-building='{building_without_collector.unit.building_id}'] [data-testid=rebalance]").click()
    page.wait_for_selector(".messages li.success")
    assert "改派 1 个案件" in page.locator(".messages").inner_text()
    assert Case.objects.get().collector.username == "ann"
    page.close()
