"""A real Chromium: the API token page on a desk and on a phone, and the API docs page served
from the project's own static files (no request leaves the server)."""

import pytest

from arrears.api.models import ApiToken
from arrears.core import roles
from tests import factories
from tests.staff.test_browser import ARTIFACTS, browser, pytestmark  # noqa: F401 - the fixture and the marks

VIEWPORTS = [("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 375, "height": 812})]


def _log_in(page, url, username):
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{url}/")


@pytest.mark.parametrize(("name", "viewport"), VIEWPORTS)
def test_a_collector_creates_and_revokes_a_token(live_server, browser, name, viewport):  # noqa: F811
    factories.user("ann", groups=[roles.COLLECTOR], first_name="安", last_name="李")
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    page.set_default_timeout(15_000)
    _log_in(page, live_server.url, "ann")
    page.goto(f"{live_server.url}/me/")
    page.click("a[href='/api-tokens/']")
    page.wait_for_selector("[data-testid=token-form]")
    page.fill("input[name=name]", "金蝶财务对接")
    page.click("[data-testid=token-form] button[type=submit]")
    page.wait_for_selector("[data-testid=token-text]")
    shown = page.inner_text("[data-testid=token-text]")
    assert shown.startswith("arr_") and ApiToken.objects.get(user__username="ann").prefix == shown[:12]
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(ARTIFACTS / f"api-tokens-{name}.png"), full_page=True)
    page.reload()
    assert page.locator("[data-testid=token-text]").count() == 0  # shown once
    page.click("[data-testid=tokens] button[type=submit]")
    page.wait_for_selector("text=已吊销")
    assert ApiToken.objects.get(user__username="ann").revoked_at is not None
    page.screenshot(path=str(ARTIFACTS / f"api-tokens-revoked-{name}.png"), full_page=True)


def test_the_docs_page_renders_from_local_files_only(live_server, browser):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "Arrears API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector("[data-path=\"/api/v1/payments\"]")
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"), full_page=False)
    outside = [url for url in requested if not url.startswith(live_server.url) and not url.startswith("data:")]
    assert outside == []
