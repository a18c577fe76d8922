"""A manager prints a batch of collection letters in a real Chromium, then records a delivery."""

import shutil
import subprocess

import pytest

from arrears.collection.models import Task
from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.notices.models import Letter
from tests import factories
from tests.collection.conftest import make_case
from tests.staff.test_browser import ARTIFACTS, browser  # noqa: F401 - the Chromium fixture
from tests.staff.test_browser import pytestmark as browser_marks

pytestmark = browser_marks

VIEWPORTS = [("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})]


@pytest.fixture
def due_letters(estate, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    manager = factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=manager, community=estate["community"])
    cases = [make_case(estate["unit"], estate["owner"]),
             make_case(estate["other_unit"], estate["neighbour_owner"], principal="480.00", late_fee="12.50")]
    for case in cases:
        Task.objects.create(community=case.community, case=case, key="step:letter_1", kind="ladder", channel="letter",
                            title="催费函（第一次）", due_on=case.as_of, created_on=case.as_of)
    return cases


@pytest.mark.parametrize(("name", "viewport"), VIEWPORTS)
def test_a_manager_prints_a_batch_of_collection_letters(live_server, due_letters, browser, name, viewport):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/letters/")
    # one community in scope: it is chosen; nothing is ticked until the user ticks
    assert page.locator("[data-testid=collection-letters] input[name=case]").count() == 2
    assert page.locator("[data-testid=collection-letters] input[name=case]:checked").count() == 0
    page.check("[data-check-all]")
    assert page.locator("[data-testid=collection-letters] input[name=case]:checked").count() == 2
    assert page.locator("[data-ticked] b").inner_text() == "2"
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(ARTIFACTS / f"letters-{name}.png"), full_page=True)
    page.click("[data-testid=issue-collection]")
    page.wait_for_selector("[data-testid=print]")
    page.screenshot(path=str(ARTIFACTS / f"letter-batch-{name}.png"), full_page=True)
    assert page.locator("table tbody tr").count() == 2

    printed = page.request.get(live_server.url + page.locator("[data-testid=print]").get_attribute("href"))
    assert printed.headers["content-type"] == "application/pdf"
    merged = ARTIFACTS / f"letters-batch-{name}.pdf"
    merged.write_bytes(printed.body())
    if shutil.which("pdftoppm"):  # look at the first page as the printer will print it
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(merged),
                        str(ARTIFACTS / f"letters-batch-{name}")], check=True)

    page.locator("table tbody tr a").first.click()
    page.select_option("select[name=method]", "registered_mail")
    page.fill("input[name=tracking_no]", "XA123456789CN")
    page.click("[data-testid=deliver-form] button[type=submit]")
    page.wait_for_selector(".messages li")
    assert page.locator(".messages li.success").count() == 1, page.locator(".messages").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"letter-delivered-{name}.png"), full_page=True)
    assert Letter.objects.filter(status="delivered").count() == 1
    page.close()
