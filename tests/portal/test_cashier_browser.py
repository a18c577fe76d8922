"""A real Chromium at the cashier desk on a 390 px phone: unit → 收银 → 预览冲抵 → 确认收款 → 申请冲正,
then a second person approves it; no page scrolls sideways."""

import os

from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.ledger.models import Payment
from arrears.portal.models import RequestStatus, ReversalRequest
from tests import factories
from tests.staff import conftest as staff
from tests.staff import test_browser as staff_browser

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
ARTIFACTS = staff_browser.ARTIFACTS
pytestmark = staff_browser.pytestmark  # live server with real commits; skipped without chromium
# The shared fixtures, bound here under the names pytest finds them by.
today, estate, chromium = staff.today, staff.estate, staff_browser.browser
PHONE = {"width": 390, "height": 844}


def _login(chromium, live_server, username):
    page = chromium.new_page(viewport=PHONE, locale="zh-CN")
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_cashier_takes_money_on_a_phone_and_a_manager_approves_the_reversal(live_server, estate, chromium):
    for username, role in (("desk", roles.FINANCE), ("boss", roles.MANAGER)):
        StaffScope.objects.create(user=factories.user(username, groups=[role]), community=estate["community"])
    ARTIFACTS.mkdir(exist_ok=True)
    page = _login(chromium, live_server, "desk")

    page.goto(f"{live_server.url}/units/{estate['unit'].pk}/")
    page.click("[data-testid=cashier-link]")
    page.wait_for_selector("[data-testid=cashier-form]")
    assert page.input_value("#id_amount") == "621.00"
    page.fill("#id_amount", "300.00")
    page.click("[data-testid=preview]")
    page.wait_for_selector("[data-testid=cashier-preview]")
    assert "叁佰元整" in page.inner_text("[data-testid=cashier-preview]")
    _fits(page)
    page.screenshot(path=str(ARTIFACTS / "cashier-preview-phone.png"), full_page=True)

    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=cashier-result]")
    assert page.inner_text("[data-testid=receipt-number]") == "SJ2026-000001"
    _fits(page)
    page.screenshot(path=str(ARTIFACTS / "cashier-result-phone.png"), full_page=True)

    payment = Payment.objects.get(receipt_number="SJ2026-000001")
    row = page.locator(f"[data-testid=payment-{payment.pk}]")
    row.locator("summary").click()
    row.locator("input[name=reason]").fill("金额录错")
    row.locator("button[value=request_reversal]").click()
    page.wait_for_selector(".messages li.success")
    page.goto(f"{live_server.url}/cashier/reversals/")
    assert "不能由您审批" in page.inner_text("[data-testid=open-reversals]")
    _fits(page)

    boss = _login(chromium, live_server, "boss")
    boss.goto(f"{live_server.url}/cashier/reversals/")
    request = ReversalRequest.objects.get(payment=payment)
    _fits(boss)
    boss.screenshot(path=str(ARTIFACTS / "cashier-reversals-phone.png"), full_page=True)
    boss.click(f"[data-testid=approve-{request.pk}]")
    boss.wait_for_selector(".messages li.success")
    request.refresh_from_db()
    assert request.status == RequestStatus.ACCEPTED

