"""A real Chromium: the template editor's placeholders, preview and SMS counter follow the typing."""

import os
import shutil
from pathlib import Path

import pytest

from arrears.collection.models import MessageStatus, OutgoingMessage
from arrears.notices import texts
from arrears.notices.models import NoticeTemplate
from tests.staff.test_browser import ARTIFACTS, CHROMIUM, browser  # noqa: F401 - the fixture

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                       reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.parametrize(("name", "viewport"), [("desktop", {"width": 1280, "height": 900}),
                                                ("phone", {"width": 375, "height": 812})])
def test_the_template_editor_counts_as_the_user_types(live_server, estate, manager, message, browser, name, viewport,  # noqa: F811
                                                      settings):
    settings.NOTICES_SMS_SIGN_NAME = ""
    OutgoingMessage.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED, last_error="isv.MOBILE_NUMBER_ILLEGAL")
    default = NoticeTemplate.objects.get(community__isnull=True, code="overdue", channel="sms")
    copy = texts.save_template(code="overdue", channel="sms", community=estate["community"], name=default.name,
                               body=default.body)
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    page.set_default_timeout(15_000)
    _login(page, live_server, "manager")

    page.goto(f"{live_server.url}/outbox/")
    page.screenshot(path=str(ARTIFACTS / f"outbox-{name}.png"), full_page=True)
    assert page.locator("[data-testid=count-failed] .value").inner_text() == "1"

    page.goto(f"{live_server.url}/notice-templates/{copy.pk}/")
    assert page.locator("[data-sms-length]").inner_text() == "133"
    page.fill("#id_body", "您好")
    page.click("button.placeholder[data-name=owner_name]")  # inserted at the cursor, after 您好
    assert page.input_value("#id_body") == "您好{owner_name}"
    assert page.locator("[data-testid=preview]").inner_text() == "【示范物业】您好王先生"
    assert page.locator("[data-sms-length]").inner_text() == "11"
    assert page.locator("[data-sms-parts]").inner_text() == "1"
    page.screenshot(path=str(ARTIFACTS / f"template-{name}.png"), full_page=True)
