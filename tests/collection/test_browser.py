"""A collector works today's list in a real Chromium: log a call with a promise in two clicks and a
form, see the task leave the list and the promise on the unit page; screenshots of the pages."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from arrears.collection.models import ContactAttempt, Promise, Task
from tests.collection.conftest import make_case
from tests.staff.test_browser import ARTIFACTS, browser  # noqa: F401 - the Chromium fixture
from tests.staff.test_browser import pytestmark as browser_marks

pytestmark = browser_marks

VIEWPORTS = [("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})]


@pytest.fixture
def worked(estate, insider):
    """The real date (the live server's clock is not frozen): a case and two tasks due today."""
    today = timezone.localdate()
    case = make_case(estate["unit"], estate["owner"], collector=insider, oldest_due=today - timedelta(days=20),
                     front_desk_flag=True)
    other = make_case(estate["other_unit"], estate["neighbour_owner"], principal="480.00", late_fee="12.50", tier="C",
                      bucket="11-30", days_overdue=20)
    for c, title, priority in ((case, "电话跟进：约定缴费日期", 20), (other, "电话提醒（6–10 天）", 10)):
        Task.objects.create(community=c.community, case=c, key="call", kind="ladder", channel="call", technique=2,
                            script_code="promise_call", title=title, due_on=today, priority=priority, assignee=insider,
                            created_on=today)
    return {"case": case, "today": today}


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.parametrize(("name", "viewport"), VIEWPORTS)
def test_it_logs_a_promise_from_the_workbench(live_server, estate, insider, front_desk, worked, browser, name, viewport):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    page.set_default_timeout(15_000)
    _login(page, live_server, "insider")

    page.goto(f"{live_server.url}/workbench/")
    assert page.locator("[data-testid=case-card]").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(ARTIFACTS / f"workbench-{name}.png"), full_page=True)
    first = page.locator("[data-testid=case-card]").first
    first.locator("details.script summary").click()
    first.locator("[data-testid=log-open]").click()
    first.locator("summary.outcome-promised").click()
    page.screenshot(path=str(ARTIFACTS / f"workbench-promise-{name}.png"), full_page=True)
    assert first.locator("input[name=promise_amount]").input_value() == "600.00"
    assert first.locator("input[name=promise_due]").input_value() == f"{worked['today'] + timedelta(days=7):%Y-%m-%d}"
    first.locator("button[value=promised]").click()
    page.wait_for_selector(".messages li.success")
    assert "已记录" in page.inner_text(".messages")
    assert page.locator("[data-testid=case-card]").count() == 1
    assert "王小明" not in page.inner_text("main")
    promise = Promise.objects.get()
    assert (str(promise.amount), promise.due_on) == ("600.00", worked["today"] + timedelta(days=7))

    page.goto(f"{live_server.url}/units/{worked['case'].unit_id}/")
    assert f"¥600.00，{worked['today'] + timedelta(days=7):%Y-%m-%d} 前缴纳" in page.inner_text("[data-testid=timeline]")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(ARTIFACTS / f"unit-case-{name}.png"), full_page=True)

    page.goto(f"{live_server.url}/cases/")
    page.wait_for_selector("[data-testid=rate-amount]")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(ARTIFACTS / f"cases-{name}.png"), full_page=True)

    desk = browser.new_page(viewport=viewport, locale="zh-CN")
    _login(desk, live_server, "gate")
    desk.goto(f"{live_server.url}/desk/?q=沪A12345")
    assert desk.inner_text("[data-testid=desk-status]") == "欠费，请礼貌提醒"
    assert desk.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    desk.screenshot(path=str(ARTIFACTS / f"desk-{name}.png"), full_page=True)
    # one tap records the reminder in person at the gate; a second tap records nothing new
    desk.locator("[data-testid=remind-form] button[value=gate]").click()
    desk.wait_for_selector(".messages li.success")
    assert "在门岗当面提醒" in desk.inner_text(".messages")
    desk.locator("[data-testid=remind-form] button[value=gate]").click()
    desk.wait_for_selector(".messages li.info")
    reminders = ContactAttempt.objects.filter(channel="front_desk_flag", outcome="reminded", place="gate")
    assert reminders.count() == 1
    assert desk.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    desk.screenshot(path=str(ARTIFACTS / f"desk-reminded-{name}.png"), full_page=True)
    assert date.today()


@pytest.mark.parametrize(("name", "viewport"), VIEWPORTS)
def test_it_offers_a_relative_only_neutral_outcomes_and_shows_violations(live_server, estate, insider, worked, browser,  # noqa: F811
                                                                         name, viewport):
    from arrears.collection import services
    from arrears.collection.models import ContactAttempt
    from arrears.core import roles
    from arrears.estate.models import StaffScope
    from tests import factories

    ARTIFACTS.mkdir(exist_ok=True)
    manager = factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=manager, community=estate["community"])
    case = worked["case"]
    # A call logged now: whatever the hour, it is recorded as made (a violation if outside the windows).
    attempt = services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="call", outcome="answered",
                                   staff=insider)
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    page.set_default_timeout(15_000)
    _login(page, live_server, "insider")
    page.goto(f"{live_server.url}/units/{case.unit_id}/")
    form = page.locator("[data-testid=attempt-form]").first
    page.locator("details.log summary").first.click()
    from arrears.estate.models import Contact

    spouse = Contact.objects.get(value="13700001111")
    form.locator("select[name=contact]").select_option(value=str(spouse.pk))
    enabled = form.locator("select[name=outcome] option:not([disabled])").evaluate_all("options => options.map(o => o.value)")
    assert sorted(enabled) == ["callback_requested", "declined_to_pass_on", "no_answer", "wrong_number"]
    form.locator("select[name=contact]").select_option(value="")
    enabled = form.locator("select[name=outcome] option:not([disabled])").evaluate_all("options => options.map(o => o.value)")
    assert "promised" in enabled and "callback_requested" not in enabled
    page.screenshot(path=str(ARTIFACTS / f"unit-third-party-{name}.png"), full_page=True)

    page.goto(f"{live_server.url}/attempts/{attempt.pk}/correct/")
    page.select_option("select[name=outcome]", "no_answer")
    page.fill("input[name=correction_reason]", "其实没接通")
    page.click("[data-testid=correct-form] button[type=submit]")
    page.wait_for_selector(".messages li.success")
    assert page.locator(f"#attempt-{attempt.pk} del").count() == 1
    assert "其实没接通" in page.inner_text("[data-testid=timeline]")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert ContactAttempt.objects.get(corrects=attempt).outcome == "no_answer"

    boss = browser.new_page(viewport=viewport, locale="zh-CN")
    _login(boss, live_server, "boss")
    boss.goto(f"{live_server.url}/compliance/")
    assert boss.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    boss.screenshot(path=str(ARTIFACTS / f"compliance-{name}.png"), full_page=True)


@pytest.mark.parametrize(("name", "viewport"), VIEWPORTS)
def test_it_shows_a_holiday_task_as_blocked_with_its_reason_within_a_phone(live_server, estate, insider, browser,  # noqa: F811
                                                                          name, viewport):
    import time_machine

    # Given the 2027 Spring Festival, whose arrangement no one confirmed, and a call due that day
    with time_machine.travel(timezone.make_aware(datetime(2027, 2, 8, 10, 0)), tick=True):
        today = timezone.localdate()
        case = make_case(estate["unit"], estate["owner"], collector=insider, oldest_due=today - timedelta(days=20))
        Task.objects.create(community=case.community, case=case, key="call", kind="ladder", channel="call", technique=2,
                            script_code="promise_call", title="电话跟进：约定缴费日期", due_on=today, priority=20,
                            assignee=insider, created_on=today)
        page = browser.new_page(viewport=viewport, locale="zh-CN")
        page.set_default_timeout(15_000)
        _login(page, live_server, "insider")

        # When the collector opens the workbench
        page.goto(f"{live_server.url}/workbench/")

        # Then the task is blocked, says why, and the reason wraps inside the screen
        badge = page.locator("[data-testid=case-card] .badge.owing", has_text="受限").first
        assert badge.inner_text() == ("受限：2027-02-08 是法定节假日（春节），不联系业主；2027 年放假安排尚未确认，"
                                      "02-15 08:00 后可联系")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(ARTIFACTS / f"workbench-holiday-{name}.png"), full_page=True)
        # and its log button records only a contact already made, with its real time to enter
        card = page.locator("[data-testid=case-card]").first
        card.locator("[data-testid=log-open]", has_text="记录此前的联系").click()
        assert card.locator("[data-testid=log-earlier]").inner_text().startswith("现在不可联系：只能记录已经进行过的联系")
        assert card.locator("input[name=at]").input_value() == ""
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(ARTIFACTS / f"workbench-holiday-log-{name}.png"), full_page=True)


@pytest.mark.parametrize(("name", "viewport"), VIEWPORTS)
def test_a_collector_logs_an_earlier_call_with_a_recording_and_rates_a_follow_up_on_one_card(
        live_server, estate, insider, worked, browser, tmp_path, settings, name, viewport):  # noqa: F811
    from arrears.collection.models import AttemptAttachment, ContactAttempt, SatisfactionRating

    settings.MEDIA_ROOT = tmp_path
    ARTIFACTS.mkdir(exist_ok=True)
    today = worked["today"]
    case = worked["case"]
    Task.objects.create(community=case.community, case=case, key="thanks", kind="satisfaction", channel="call",
                        title="缴费后回访", due_on=today, priority=5, assignee=insider, created_on=today)
    recording = tmp_path / "call.m4a"
    recording.write_bytes(b"ID3 owner says: I will pay")
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    page.set_default_timeout(15_000)
    _login(page, live_server, "insider")
    # the collector's home page is the day: one card per case, the case's two tasks on one card
    assert page.locator("[data-testid=case-card]").count() == 2
    card = page.locator("[data-testid=case-card]").first
    assert card.locator("[data-testid=task]").count() == 2
    for summary in card.locator("details.more > summary").all():
        summary.click()
    card.locator("[data-testid=log-open]").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(ARTIFACTS / f"workday-card-open-{name}.png"), full_page=True)
    # an earlier call (an hour ago, or the day's first minute) with its recording, as a promise
    earlier = max(timezone.localtime() - timedelta(hours=1), timezone.localtime().replace(hour=0, minute=1))
    card.locator("input[name=at]").fill(f"{earlier:%Y-%m-%dT%H:%M}")
    card.locator("input[name=attachment]").set_input_files(str(recording))
    card.locator("summary.outcome-promised").click()
    card.locator("button[value=promised]").click()
    page.wait_for_selector(".messages li")
    attempt = ContactAttempt.objects.get()
    assert (timezone.localtime(attempt.at).strftime("%H:%M"), attempt.outcome) == (f"{earlier:%H:%M}", "promised")
    assert AttemptAttachment.objects.get().attempt == attempt
    assert not Task.objects.filter(case=case, status="open").exclude(kind="satisfaction").exists()
    page.screenshot(path=str(ARTIFACTS / f"workday-logged-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    # the follow-up after payment is now the card's lead: two taps rate it
    card = page.locator("[data-testid=case-card]", has_text="缴费后回访").first
    card.locator("[data-testid=log-open]").click()
    card.locator("button[value=unsatisfied]").click()
    page.wait_for_selector(".messages li")
    rating = SatisfactionRating.objects.get()
    assert (rating.rating, rating.ticket.kind, rating.follow_up.kind) == ("unsatisfied", "complaint", "complaint_follow_up")
