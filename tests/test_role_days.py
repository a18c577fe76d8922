"""Each role's working day in a real Chromium, on a phone (390×844) and a desktop (1280×900) window.

The demo company at small size (its logins, named collectors, three years of history), the day's run,
and two units the demo lacks: 锦绣华庭 2栋0301 and 10栋2504, owing since 2024, in buildings no
collector works yet. Time stands on a Monday morning in Shanghai, inside the contact window.

- manager: the arrears list (¥1,234.56 amounts, 2栋 before 10栋), then 楼栋催收员: assign and rebalance;
- legal: 函件, one community, all ticked, a batch rendered in the background behind a progress bar;
- front desk: "锦绣华庭 10栋2504" and "2504" find the unit; one tap records the reminder at the gate;
- owner: the statement link on the phone, the pay bar on the first screen, the sandbox, the receipt;
- collector (its own test, the home page is being rebuilt): a call made earlier today, with a promise,
  logged from the workbench, and its recording uploaded on the unit page.

Each role's main page is saved as artifacts/role-<role>-<size>.png.
"""

import re
from datetime import date, datetime, timedelta
from io import StringIO
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from arrears.collection.models import (
    AttemptAttachment,
    Case,
    CaseStatus,
    ContactAttempt,
    Promise,
    Task,
)
from arrears.collection.run import run_collection
from arrears.demo.portal import ensure_fee_compositions
from arrears.demo.staff import DEMO_PASSWORD
from arrears.estate.models import Building, Community, Unit
from arrears.ledger import services as ledger
from arrears.ledger.models import Payment
from arrears.notices import letter_jobs
from arrears.notices.context import statement_link
from arrears.notices.models import Letter, LetterBatch
from arrears.portal.providers import reset_cache
from tests import factories
from tests.staff.test_browser import ARTIFACTS, browser  # noqa: F401 - the Chromium fixture
from tests.staff.test_browser import pytestmark as browser_marks

pytestmark = browser_marks

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 11, 10, 30, tzinfo=SHANGHAI)  # a Monday morning, inside the contact window
SIZES = [("phone", {"width": 390, "height": 844}), ("desktop", {"width": 1280, "height": 900})]
IPHONE_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
AMOUNT = re.compile(r"^¥\d{1,3}(,\d{3})*\.\d{2}$")
COMMUNITY = "锦绣华庭"


@pytest.fixture
def company(db, settings, tmp_path):
    """The demo company (40 units), two more units owing since 2024, and today's run, at NOW."""
    settings.NOTICES_CHANNELS = {"sms": {"BACKEND": "arrears.notices.channels.console.ConsoleBackend"},
                                 "email": {"BACKEND": "arrears.notices.channels.console.ConsoleBackend"}}
    settings.PORTAL_PAYMENT_PROVIDERS = {"sandbox": {"BACKEND": "arrears.portal.providers.sandbox.SandboxProvider"}}
    settings.MEDIA_ROOT = tmp_path
    reset_cache()
    with time_machine.travel(NOW, tick=False):
        call_command("demo-data", units=40, seed=2026, stdout=StringIO())  # also makes the demo logins
        ensure_fee_compositions(published_on=date(2026, 1, 1))
        community = Community.objects.get(name=COMMUNITY)
        added = {}
        for building, room, name in (("2栋", "0301", "彭建国"), ("10栋", "2504", "邓志强")):
            unit = factories.unit(community, building=building, entrance="", room=room, area="120.00")
            added[building] = (unit, factories.owner(unit, name, start=date(2024, 1, 1)))
        ledger.bill(through=NOW.date(), community_ids=[community.pk])
        run_collection(as_of=NOW.date())
        yield SimpleNamespace(community=community, new=added, users={u.username: u for u in get_user_model().objects.all()})
    reset_cache()


def _page(browser, viewport, **extra):  # noqa: F811
    context = browser.new_context(viewport=viewport, locale="zh-CN", **extra)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _login(browser, live_server, viewport, username):  # noqa: F811
    page = _page(browser, viewport)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def _fits(page, viewport):
    """Nothing wider than the window: no sideways scrolling on a phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], page.url


def _said(page, kind="success"):
    """The page's message after a post: the expected kind, or the test fails with what it said instead."""
    page.wait_for_selector(".messages li")
    said = page.inner_text(".messages")
    assert page.locator(f".messages li.{kind}").count(), said
    return said


def _shot(page, role, size):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"role-{role}-{size}.png"), full_page=True)


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_manager_legal_front_desk_and_owner_each_walk_their_day(live_server, company, browser, settings, size, viewport,  # noqa: F811
                                                                 monkeypatch):
    settings.ARREARS_PUBLIC_URL = live_server.url
    community = company.community
    ten = Building.objects.get(community=community, name="10栋")

    # -- manager: the arrears list, then a collector for 10栋 ---------------------------------------------
    page = _login(browser, live_server, viewport, "manager")
    page.goto(f"{live_server.url}/cases/?sort=unit")
    amounts = page.locator("table.cases td:nth-child(5)").all_inner_texts()
    assert amounts and all(AMOUNT.match(a.strip()) for a in amounts), amounts
    assert any("," in a for a in amounts)  # the demo's and the two new units' debts pass ¥1,000
    units = [u.strip() for u in page.locator("table.cases a.unit-link").all_inner_texts()]
    ours = [int(re.match(rf"{COMMUNITY} (\d+)栋", u).group(1)) for u in units if u.startswith(COMMUNITY)]
    assert ours == sorted(ours) and 2 in ours and 10 in ours, units  # 2栋 before 10栋, not as text
    _fits(page, viewport)
    _shot(page, "manager", size)

    page.goto(f"{live_server.url}/collectors/")
    principals = page.locator("[data-testid=buildings] td:nth-child(3)").all_inner_texts()
    assert all(AMOUNT.match(p.strip()) for p in principals) and any("," in p for p in principals), principals
    names = [n.strip() for n in page.locator("[data-testid=buildings] td:first-child").all_inner_texts()]
    ours = [int(re.match(rf"{COMMUNITY} (\d+)栋", n).group(1)) for n in names if n.startswith(COMMUNITY)]
    assert ours == [1, 2, 10], names
    row = page.locator(f"tr[data-building='{ten.pk}']")
    assert "未分配" in row.inner_text()
    collector = company.users["collector"]
    row.locator(f"input[name=user][value='{collector.pk}']").check()
    row.locator("input[name=grant_scope]").check()  # 李明 works 1栋 only: 10栋 joins his scope
    row.locator("form:has(input[name=action][value=assign]) button[type=submit]").click()
    _said(page)
    page.locator(f"tr[data-building='{ten.pk}'] [data-testid=rebalance]").click()
    assert "重新平均分配" in _said(page)
    _fits(page, viewport)
    page.screenshot(path=str(ARTIFACTS / f"role-manager-collectors-{size}.png"), full_page=True)
    cases = Case.objects.filter(unit__building=ten, status=CaseStatus.OPEN)
    assert cases.exists() and {c.collector_id for c in cases} == {collector.pk}

    # -- legal: one community, all ticked, a batch behind a progress bar ----------------------------------
    settings.ARREARS_IMPORT_RUNNER = "thread"
    queued = []
    monkeypatch.setattr(letter_jobs, "_start_thread", queued.append)  # the test runs the job, when the page polls
    page = _login(browser, live_server, viewport, "legal")
    page.goto(f"{live_server.url}/letters/")
    assert page.locator("[data-testid=choose-community]").is_visible()  # nothing listed before a community
    page.select_option("select[name=community]", str(community.pk))
    page.wait_for_url(f"**/letters/?community={community.pk}")
    offered = page.locator("[data-testid=collection-letters] input[name=case]")
    assert offered.count() > 0 and not any(offered.nth(i).is_checked() for i in range(offered.count()))
    page.check("[data-check-all]")
    ticked = [int(v) for v in offered.evaluate_all("boxes => boxes.filter(b => b.checked).map(b => b.value)")]
    assert len(ticked) == offered.count()
    assert page.inner_text("[data-ticked] b") == str(len(ticked))
    _fits(page, viewport)
    _shot(page, "legal", size)

    def run_queued(route):  # Playwright calls this on a greenlet of its own: its connection is closed here
        while queued:
            letter_jobs.run_job(queued.pop())
            connection.close()
        route.continue_()

    page.route("**/letters/jobs/*/status/", run_queued)
    page.click("[data-testid=issue-collection]")
    page.wait_for_url("**/letters/jobs/*/")
    assert page.locator("[data-testid=letter-job] progress").is_visible()
    page.wait_for_selector("[data-testid=print]")  # the poll reloads the page once the job is done
    assert page.locator("[data-testid=letter-job] progress").get_attribute("value") == "100"
    _fits(page, viewport)
    page.screenshot(path=str(ARTIFACTS / f"role-legal-job-{size}.png"), full_page=True)
    batch = LetterBatch.objects.get()
    assert batch.community_id == community.pk and batch.count == len(ticked)
    assert set(Letter.objects.values_list("community_id", flat=True)) == {community.pk}
    assert set(Letter.objects.values_list("case_id", flat=True)) == set(ticked)

    # -- front desk: the unit as every page writes it, and one tap at the gate ----------------------------
    unit, _owner = company.new["10栋"]
    page = _login(browser, live_server, viewport, "frontdesk")
    page.goto(f"{live_server.url}/desk/")
    for query in (f"{COMMUNITY} 10栋2504", "2504"):
        page.fill("input[name=q]", query)
        page.press("input[name=q]", "Enter")
        page.wait_for_selector("[data-testid=desk-row]")
        rows = page.locator("[data-testid=desk-row]")
        assert any(f"{COMMUNITY} 10栋2504" in rows.nth(i).inner_text() for i in range(rows.count())), query
    row = page.locator("[data-testid=desk-row]", has_text=f"{COMMUNITY} 10栋2504")
    assert row.locator("[data-testid=desk-status]").inner_text() == "欠费，请礼貌提醒"
    assert "¥" not in page.inner_text("main")  # the desk reminds; it does not read out amounts
    _fits(page, viewport)
    _shot(page, "frontdesk", size)
    row.locator("[data-testid=remind-form] button[value=gate]").click()
    assert "在门岗当面提醒" in _said(page)
    _fits(page, viewport)
    reminder = ContactAttempt.objects.get(unit=unit, place="gate")
    assert reminder.staff == company.users["frontdesk"] and reminder.outcome == "reminded"

    # -- owner: the statement link, the pay bar on the first screen, the sandbox, the receipt -------------
    unit, owner = company.new["2栋"]
    page = _page(browser, viewport, user_agent=IPHONE_AGENT if size == "phone" else None)
    page.goto(statement_link(owner.pk, unit.pk))
    assert page.locator("h1").inner_text() == "彭建国，您好"
    box = page.locator("[data-testid=paybar]").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
    button = page.locator("[data-testid=pay]").bounding_box()
    assert button["y"] + button["height"] <= viewport["height"] and button["x"] + button["width"] <= viewport["width"]
    selected = page.locator("[data-role=selected-total]").inner_text()
    assert AMOUNT.match(selected), selected
    _fits(page, viewport)
    page.screenshot(path=str(ARTIFACTS / f"role-owner-{size}.png"))  # the first screen, as the owner sees it
    page.screenshot(path=str(ARTIFACTS / f"role-owner-{size}-full.png"), full_page=True)
    page.click("[data-testid=pay]")
    page.wait_for_selector("[data-testid=sandbox]")
    assert selected in page.locator("[data-testid=sandbox] .amount").inner_text()
    page.click("[data-testid=sandbox-pay]")
    page.wait_for_selector("[data-testid=order][data-status=paid]")
    receipt = page.request.get(live_server.url + page.locator("[data-testid=receipt]").get_attribute("href"))
    assert receipt.ok and receipt.headers["content-type"] == "application/pdf"
    _fits(page, viewport)
    page.screenshot(path=str(ARTIFACTS / f"role-owner-paid-{size}.png"), full_page=True)
    paid = Payment.objects.get(unit=unit, owner=owner)
    assert f"¥{paid.amount:,.2f}" == selected


@pytest.mark.parametrize(("size", "viewport"), SIZES)
def test_the_collector_logs_an_earlier_call_with_a_promise_and_its_recording(live_server, company, browser, size,  # noqa: F811
                                                                            viewport):
    # the home page, whatever it becomes, is the collector's main page
    page = _login(browser, live_server, viewport, "collector")
    _fits(page, viewport)
    _shot(page, "collector", size)

    # given a case card on the home page (today's work) whose first step is a call the guard allows now
    # (a case in a letter's quiet period is on the list too, marked 受限)
    task = None
    for number in range(1, 6):  # the 电话 quick filter, page by page
        page.goto(f"{live_server.url}/?quick=calls&page={number}")
        cards = page.locator("[data-testid=case-card]", has=page.locator("[data-testid=log-open]")).filter(
            has=page.locator("[data-testid=guard] .badge.clear"))
        for action in cards.locator("form.outcome-form").evaluate_all("forms => forms.map(f => f.getAttribute('action'))"):
            candidate = Task.objects.select_related("case").get(pk=int(action.rstrip("/").split("/")[-2]))
            if candidate.channel == "call" and candidate.kind != "satisfaction":  # a follow-up after payment asks for a rating
                task = candidate
                break
        if task is not None or page.locator("a[rel=next]").count() == 0:
            break
    assert task is not None, "no call the guard allows among the collector's calls"
    card = page.locator(f"#case-{task.case_id}")
    # one card per case: no unit twice on the page
    units = page.locator("[data-testid=case-card] a.unit-link").all_inner_texts()
    assert len(units) == len(set(units))
    _fits(page, viewport)
    page.screenshot(path=str(ARTIFACTS / f"role-collector-workbench-{size}.png"), full_page=True)

    # when the collector logs the call made at 09:15 with a promise of ¥500.00 in a week, and its recording, in one go
    card.locator("[data-testid=log-open]").click()
    card.locator("input[name=at]").fill("2026-05-11T09:15")
    card.locator("select[name=attachment_kind]").select_option("recording")
    card.locator("input[name=attachment]").set_input_files(
        {"name": "call-0915.m4a", "mimeType": "audio/mp4", "buffer": b"\x00\x00\x00\x18ftypM4A recording"})
    card.locator("summary.outcome-promised").click()
    card.locator("input[name=promise_amount]").fill("500.00")
    card.locator("input[name=promise_due]").fill("2026-05-18")
    card.locator("button[value=promised]").click()
    _said(page)

    # then the attempt stands at 09:15 with its promise and its recording
    attempt = ContactAttempt.objects.get(case=task.case, staff=company.users["collector"], outcome="promised", channel="call")
    assert timezone.localtime(attempt.at, SHANGHAI).strftime("%H:%M") == "09:15"
    promise = Promise.objects.get(attempt=attempt)
    assert (str(promise.amount), promise.due_on) == ("500.00", NOW.date() + timedelta(days=7))

    # and the unit page shows it
    page.goto(f"{live_server.url}/units/{task.case.unit_id}/")
    _fits(page, viewport)
    page.screenshot(path=str(ARTIFACTS / f"role-collector-unit-{size}.png"), full_page=True)
    assert AttemptAttachment.objects.filter(attempt=attempt, kind="recording").count() == 1
    assert Unit.objects.filter(pk=task.case.unit_id).exists()
