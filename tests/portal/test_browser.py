"""An owner opens their statement link on a phone, pays with the sandbox, gets the receipt; staff see the case closed."""

import shutil
import subprocess

import pytest

from arrears.collection.models import Case, CaseStatus
from arrears.core import roles
from arrears.demo.portal import ensure_fee_compositions
from arrears.estate.models import StaffScope
from arrears.notices.context import statement_link
from tests import factories
from tests.collection.conftest import make_case
from tests.staff.test_browser import ARTIFACTS, browser  # noqa: F401 - the Chromium fixture
from tests.staff.test_browser import pytestmark as browser_marks

pytestmark = browser_marks

PHONE = {"width": 390, "height": 844}
IPHONE_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def test_an_owner_pays_from_the_statement_link_on_a_phone(live_server, estate, browser, settings):  # noqa: F811
    # given an open case, a published fee composition and the owner's link
    settings.ARREARS_PUBLIC_URL = live_server.url
    case = make_case(estate["unit"], estate["owner"])
    ensure_fee_compositions(published_on=estate["unit"].community.tariffs.first().effective_from)
    link = statement_link(estate["owner"].pk, estate["unit"].pk)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", user_agent=IPHONE_AGENT, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)

    # when the owner opens it on a phone
    page.goto(link)
    assert page.locator("h1").inner_text() == "王小明，您好"
    assert page.locator("[data-role=selected-total]").inner_text() == "¥621.00"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "portal-statement-phone.png"), full_page=True)

    # and pays everything with the sandbox provider
    page.click("[data-testid=pay]")
    page.wait_for_selector("[data-testid=sandbox]")
    assert "¥621.00" in page.locator("[data-testid=sandbox] .amount").inner_text()
    page.screenshot(path=str(ARTIFACTS / "portal-sandbox-phone.png"), full_page=True)
    page.click("[data-testid=sandbox-pay]")

    # then the order page says paid and offers the receipt
    page.wait_for_selector("[data-testid=order][data-status=paid]")
    number = page.locator("[data-testid=receipt]").inner_text().split()[-1]
    assert number == "SJ2026-000001"
    receipt = page.request.get(live_server.url + page.locator("[data-testid=receipt]").get_attribute("href"))
    assert receipt.headers["content-type"] == "application/pdf"
    pdf = ARTIFACTS / "portal-receipt.pdf"
    pdf.write_bytes(receipt.body())
    if shutil.which("pdftoppm"):  # look at the receipt as the owner will see it
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", str(pdf), str(ARTIFACTS / "portal-receipt")],
                       check=True)
    page.check("input[name=payment_experience][value=satisfied]")
    page.check("input[name=service][value=neutral]")
    page.click("[data-testid=survey-submit]")
    page.wait_for_selector("[data-testid=survey-done]")
    page.screenshot(path=str(ARTIFACTS / "portal-paid-phone.png"), full_page=True)

    # and the statement now shows nothing owed
    page.goto(link)
    assert page.locator(".ok-box").first.is_visible()
    context.close()

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.close_reason == "paid"

    # and a collector's unit page shows the case closed
    collector = factories.user("collector", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=collector, community=estate["community"])
    staff = browser.new_page(viewport=PHONE, locale="zh-CN")
    staff.set_default_timeout(15_000)
    staff.goto(f"{live_server.url}/login/")
    staff.fill("#id_username", "collector")
    staff.fill("#id_password", "pw-collector")
    staff.click(".login button[type=submit]")
    staff.wait_for_url(f"{live_server.url}/")
    staff.goto(f"{live_server.url}/units/{estate['unit'].pk}/")
    closed = staff.locator("[data-testid=closed-case]").inner_text()
    assert "王小明" in closed and "结案" in closed and "缴清" in closed
    assert Case.objects.filter(status=CaseStatus.OPEN).count() == 0
    staff.screenshot(path=str(ARTIFACTS / "portal-staff-unit-phone.png"), full_page=True)


def test_an_owner_without_online_payment_sees_how_to_pay_on_a_phone(live_server, estate, browser, settings):  # noqa: F811
    # given production without an online provider, and the service centre and transfer account on record
    settings.ARREARS_PUBLIC_URL = live_server.url
    settings.PORTAL_PAYMENT_PROVIDERS = {}
    settings.ARREARS_BANK_ACCOUNT = {"bank": "招商银行深圳分行", "account": "7559 0000 1234 567", "name": "示例物业"}
    community = estate["unit"].community
    community.service_centre, community.service_hours = "5栋架空层物业服务中心", "每天 8:30–18:00"
    community.save(update_fields=["service_centre", "service_hours"])
    link = statement_link(estate["owner"].pk, estate["unit"].pk)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", user_agent=IPHONE_AGENT, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)
    # when the owner opens the link
    page.goto(link)
    # then the charges are listed without a way to pay online, and the page says how to pay, fitting the phone
    assert page.locator("[data-testid=pay]").count() == 0 and page.locator("input[name=charge]").count() == 0
    how = page.locator("[data-testid=how-to-pay]").inner_text()
    assert "5栋架空层物业服务中心" in how and "7559 0000 1234 567" in how and "3栋1单元1201" in how
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "portal-statement-offline-phone.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_an_owner_sees_a_useful_how_to_pay_on_a_phone_when_nothing_is_configured(live_server, estate, browser, settings,  # noqa: F811
                                                                                 locale):
    # given: no provider, no BANK_*, blank service-centre fields, address and phone (a careless setup)
    settings.ARREARS_PUBLIC_URL = live_server.url
    settings.PORTAL_PAYMENT_PROVIDERS = {}
    settings.ARREARS_BANK_ACCOUNT = {"bank": "", "account": "", "name": ""}
    community = estate["unit"].community
    type(community).objects.filter(pk=community.pk).update(service_centre="", service_hours="", address="")
    type(community.company).objects.filter(pk=community.company_id).update(phone="", address="")
    link = statement_link(estate["owner"].pk, estate["unit"].pk)
    context = browser.new_context(viewport=PHONE, locale=locale, user_agent=IPHONE_AGENT, device_scale_factor=2)
    if locale == "en-US":  # the owner chose English on the page before
        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    # when
    page.goto(link)
    # then: it still says how to pay, in one language, never "None", and fits the phone
    how = page.locator("[data-testid=how-to-pay]").inner_text()
    text = page.locator("body").inner_text()
    if locale == "zh-CN":
        assert "到物业服务中心缴纳" in how and "How to pay" not in text
    else:
        assert "service centre" in how and "如何缴费" not in text
    assert "None" not in text
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


def test_on_a_phone_the_total_and_pay_button_show_without_scrolling_and_older_years_are_folded(live_server, estate, browser,  # noqa: F811
                                                                                              settings):
    # given a year more of charges (2025 December, overdue) and June 2026 billed but not yet due
    from datetime import date

    from arrears.ledger import services
    from arrears.ledger.models import Charge

    settings.ARREARS_PUBLIC_URL = live_server.url
    january = Charge.objects.filter(unit=estate["unit"], owner=estate["owner"]).order_by("due_date").first()
    Charge.objects.create(**{field.name: getattr(january, field.name) for field in Charge._meta.concrete_fields
                             if field.name not in ("id", "period_start", "period_end", "due_date", "settled_on")},
                          period_start=date(2025, 12, 1), period_end=date(2025, 12, 31), due_date=date(2025, 12, 5))
    services.bill(through=date(2026, 6, 1))
    link = statement_link(estate["owner"].pk, estate["unit"].pk)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", user_agent=IPHONE_AGENT,
                                  device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)

    # when the owner opens the link
    page.goto(link)
    page.screenshot(path=str(ARTIFACTS / "portal-statement-first-screen-390.png"))

    # then the bar with the total and the pay button is on the first screen, inside the window
    bar = page.locator("[data-testid=paybar]")
    box = bar.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844 and box["x"] >= 0
    button = page.locator("[data-testid=pay]").bounding_box()
    assert button["y"] + button["height"] <= 844 and button["x"] + button["width"] <= 390
    # and what it asks, against the total, is explained: June (200.00) is not yet due
    assert page.locator("[data-role=selected-total]").inner_text() != ""
    assert "¥200.00" in page.locator("[data-testid=why]").inner_text()
    assert page.locator("[data-role=gap-amount]").inner_text() == "¥200.00"
    # and 2025 is folded under 2026, its December still ticked
    assert page.locator("details[data-year='2026']").get_attribute("open") is not None
    assert page.locator("details[data-year='2025']").get_attribute("open") is None
    assert page.locator("details[data-year='2025'] input[name=charge]").is_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # and the bar is still there after scrolling to the foot of the page
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    box = bar.bounding_box()
    assert box["y"] + box["height"] <= 844 + 1
    # ticking June adds it to the button and empties the gap
    page.locator("details[data-year='2026'] input[name=charge]").last.check()
    assert page.locator("[data-role=gap]").is_hidden()
    page.screenshot(path=str(ARTIFACTS / "portal-statement-all-ticked-390.png"))
    context.close()
