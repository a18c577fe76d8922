"""A real Chromium against a live server: log in, search, open a unit, read its statement."""

import os
import shutil
from pathlib import Path

import pytest
from django.db import connections

from arrears.core import roles
from arrears.estate.models import StaffScope
from tests import factories

# Playwright's sync API runs an event loop in this thread; the ORM calls here are plain and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

pytestmark = [
    pytest.mark.browser,
    # live_server needs real commits; the serialized rollback brings back the roles and charge
    # types that migrations create, which the flush after each test would otherwise wipe.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                       reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield chromium
        # The ORM calls made while Playwright's loop ran kept their own connection (Django keeps one
        # per async context): closed here, inside that context, it does not outlive the test.
        connections.close_all()
        chromium.close()


@pytest.mark.parametrize(("name", "viewport"), [("desktop", {"width": 1280, "height": 900}),
                                                ("phone", {"width": 375, "height": 812})])
def test_it_logs_in_searches_and_shows_the_statement(live_server, estate, browser, name, viewport):
    user = factories.user("cashier", groups=[roles.FINANCE])
    StaffScope.objects.create(user=user, community=estate["community"])
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    page.set_default_timeout(15_000)

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "cashier")
    page.fill("#id_password", "pw-cashier")
    page.screenshot(path=str(ARTIFACTS / f"login-{name}.png"), full_page=True)
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.screenshot(path=str(ARTIFACTS / f"home-{name}.png"), full_page=True)

    page.fill("input[name=q]", "3栋1201")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("a.unit-link")
    page.screenshot(path=str(ARTIFACTS / f"search-{name}.png"), full_page=True)
    page.click("a.unit-link")
    page.wait_for_selector("[data-testid=statement-total]")
    assert page.inner_text("[data-testid=statement-total]") == "¥621.00"
    assert page.locator("h1").inner_text() == "阳光花园 3栋1单元1201"
    # nothing wider than the screen: no sideways scrolling on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(ARTIFACTS / f"unit-{name}.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / f"unit-{name}-first-screen.png"))

    page.click("button[value=en]")
    page.wait_for_selector("html[lang=en]")
    assert "Statement" in page.inner_text("#statement h2")
    page.screenshot(path=str(ARTIFACTS / f"unit-en-{name}.png"), full_page=True)
