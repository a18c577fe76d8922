"""The dashboard in a real Chromium on a desktop and a phone: every chart drawn (a canvas each), no
script error, nothing wider than the screen, a click on a bar opens the list behind it. Screenshots
in /tmp/dashboard-*.png and artifacts/."""

from datetime import datetime

import pytest
import time_machine
from django.utils import timezone

from arrears.core import roles
from arrears.estate.models import StaffScope
from tests import factories
from tests.insights.conftest import build_company
from tests.staff.test_browser import ARTIFACTS, browser, pytestmark  # noqa: F401  (the fixture and the marks)

VIEWPORTS = [("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})]
CHARTS = ["trend", "recovery", "aging", "tiers", "reasons", "heatmap", "collectors"]


@pytest.mark.parametrize(("name", "viewport"), VIEWPORTS)
def test_the_dashboard_draws_its_charts_on_a_desktop_and_a_phone(live_server, browser, name, viewport):  # noqa: F811
    with time_machine.travel(timezone.make_aware(datetime(2026, 6, 20, 10)), tick=True):
        company = build_company(buildings=12, units_per_building=4)
        manager = factories.user("manager", groups=[roles.MANAGER])
        StaffScope.objects.create(user=manager, community=company["sunny"])
        StaffScope.objects.create(user=manager, community=company["lake"])
        ARTIFACTS.mkdir(exist_ok=True)
        page = browser.new_page(viewport=viewport, locale="zh-CN")
        page.set_default_timeout(20_000)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "manager")
        page.fill("#id_password", "pw-manager")
        page.click(".login button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

        # today, not the opening day: the cases the run opened today are what the reasons chart draws
        page.goto(f"{live_server.url}/dashboard/?as_of=2026-06-20")
        page.wait_for_selector("[data-chart=trend] canvas")
        drawn = {chart: page.locator(f"[data-chart={chart}] canvas").count() > 0 for chart in CHARTS}
        # on a phone the heat map of 12 buildings does not fit: its coloured table stands in for it
        assert drawn == {chart: not (name == "phone" and chart == "heatmap") for chart in CHARTS}
        assert page.locator(".chart-loading:visible").count() == 0
        assert errors == []
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=f"/tmp/dashboard-{name}.png", full_page=True)
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)
        page.screenshot(path=f"/tmp/dashboard-{name}-first-screen.png")

        # a click on the aging chart's tallest bar opens the arrears list of that bucket
        box = page.locator("[data-chart=aging]").bounding_box()
        page.locator("[data-chart=aging]").scroll_into_view_if_needed()
        position = page.evaluate("""() => {
            const chart = echarts.getInstanceByDom(document.querySelector('[data-chart=aging]'));
            const data = JSON.parse(document.getElementById('dashboard-data').textContent).aging;
            let best = 0; data.forEach((row, i) => { if (parseFloat(row.principal) > parseFloat(data[best].principal)) best = i; });
            const [x, y] = chart.convertToPixel({xAxisIndex: 0, yAxisIndex: 0}, [best, parseFloat(data[best].principal) / 2]);
            return {x, y, bucket: data[best].bucket};
        }""")
        box = page.locator("[data-chart=aging]").bounding_box()
        page.mouse.click(box["x"] + position["x"], box["y"] + position["y"])
        page.wait_for_url(f"**/cases/?bucket={position['bucket'].replace('+', '%2B')}")
        assert errors == []
