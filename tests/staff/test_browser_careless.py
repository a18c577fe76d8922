"""A careless user on a 390px phone: the import page's messages and the cashier's correction field, in zh and en."""

import re
from decimal import Decimal as D

import pytest
from django.db import connection

from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.ledger.models import ImportJob
from arrears.portal import cashier
from tests import factories
from tests.staff.test_browser import ARTIFACTS, browser, pytestmark  # noqa: F401  (the fixture and the marks)
from tests.staff.test_import_careless import CJK
from tests.staff.test_import_security import HOUSE_HEADER, _media  # noqa: F401  (the media fixture)

PHONE = {"width": 390, "height": 844}


def _holes(path):
    """A workbook as people send it: trailing spaces in headers, blank and merged rows, text dates."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "房屋"
    sheet.append([f"{name} " for name in HOUSE_HEADER])
    sheet.append(["阳光花园", "9栋", "1", "101", 80, "自住"])
    sheet.append([])
    sheet.append(["阳光花园", "9栋", "1", "102", 80, "自住"])
    sheet.append([None, "9栋", "1", "103", 80, "自住"])
    sheet.merge_cells("A4:A5")
    owners = book.create_sheet("业主")  # a hidden sheet is refused outright: test_import_careless
    owners.append(["小区", "楼栋", "单元", "房号", "业主姓名", "手机", "证件号", "起始日期"])
    owners.append(["阳光花园", "9栋", "1", "101", "张三", "13800000000", None, "2024年13月1日"])
    book.save(path)
    return path


def _login(context, live_server, username, password, language):
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_reports_a_holey_workbook_in_one_language_on_a_phone(live_server, estate, browser, language, tmp_path):  # noqa: F811
    user = factories.user("manager", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=estate["community"])
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=PHONE)
    page = _login(context, live_server, "manager", "pw-manager", language)
    page.goto(f"{live_server.url}/import/")
    page.set_input_files("#id_file", str(_holes(tmp_path / "房屋.xlsx")))
    page.dblclick("form.busy-form button[type=submit]")  # a careless double tap
    page.wait_for_selector("table.errors")
    assert ImportJob.objects.count() == 1
    reasons = page.locator("table.errors td[data-label]:last-child").all_inner_texts()
    assert reasons
    for reason in reasons:
        assert bool(CJK.search(reason)) == (language == "zh-hans"), reason
        assert not re.search(r"/ [a-z]", reason), reason
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / f"careless-import-report-{language}.png"), full_page=True)
    # a .docx renamed .xlsx is reported, not a failed job
    docx = tmp_path / "通知.xlsx"
    import zipfile

    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    page.set_input_files("#id_file", str(docx))
    page.click("form.busy-form button[type=submit]")
    page.wait_for_selector("table.errors")
    page.screenshot(path=str(ARTIFACTS / f"careless-import-docx-{language}.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_guides_the_re_entry_of_a_reversed_transfer_on_a_phone(live_server, estate, browser, language):  # noqa: F811
    cashier_user = factories.user("cashier", groups=[roles.FINANCE])
    StaffScope.objects.create(user=cashier_user, community=estate["community"])
    boss = factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=boss, community=estate["community"])
    wrong = cashier.take_payment(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D("1000.00"),
                                 method="bank_transfer", paid_on=estate["owner"].ownerships.first().start.replace(year=2026, month=5, day=10),
                                 reference="ICBC-1", operator=cashier_user)
    request = cashier.request_reversal(payment=wrong, reason="金额录错", requested_by=cashier_user)
    cashier.approve_reversal(request=request, approver=boss, on=wrong.paid_on)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=PHONE)
    page = _login(context, live_server, "cashier", "pw-cashier", language)
    page.goto(f"{live_server.url}/units/{estate['unit'].pk}/cashier/")
    page.fill("#id_amount", "100.00")
    page.select_option("#id_method", "bank_transfer")
    page.fill("#id_reference", "ICBC-1")
    page.click("[data-testid=preview]")
    page.wait_for_selector("[data-testid=cashier-errors]")
    error = page.inner_text("[data-testid=cashier-errors]")
    assert wrong.receipt_number in error
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / f"careless-cashier-refused-{language}.png"), full_page=True)
    page.fill("#id_corrects", wrong.receipt_number)
    page.click("[data-testid=preview]")
    page.wait_for_selector("[data-testid=preview-corrects]")
    page.screenshot(path=str(ARTIFACTS / f"careless-cashier-preview-{language}.png"), full_page=True)
    context.close()


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the tests' in-memory SQLite locks a table instead of waiting, so the page's polling and the job's thread "
           "can collide; run on PostgreSQL",
)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_follows_a_slow_job_after_the_manager_leaves_and_comes_back(live_server, estate, browser, language, settings,  # noqa: F811
                                                                        monkeypatch, tmp_path):
    import threading

    import openpyxl

    from arrears.ledger import import_jobs, importers

    # given: a worker thread that reads half the file, then waits (a slow job)
    settings.ARREARS_IMPORT_RUNNER = "thread"
    halfway, release = threading.Event(), threading.Event()
    real = importers.run_import

    def slow(*args, progress=None, **kwargs):
        progress("read", 1000, 2000)  # the job writes progress every thousand rows
        halfway.set()
        assert release.wait(30)
        return real(*args, progress=progress, **kwargs)

    monkeypatch.setattr(importers, "run_import", slow)
    user = factories.user("manager", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=estate["community"])
    book = openpyxl.Workbook()
    book.active.title = "房屋"
    book.active.append(HOUSE_HEADER)
    book.active.append(["阳光花园", "8栋", "", "0801", 88.5, "自住"])
    book.save(tmp_path / "房屋.xlsx")
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=PHONE)
    page = _login(context, live_server, "manager", "pw-manager", language)
    page.goto(f"{live_server.url}/import/")
    page.set_input_files("#id_file", str(tmp_path / "房屋.xlsx"))
    page.click("form.busy-form button[type=submit]")
    assert halfway.wait(30)
    # when: the manager wanders off and comes back through the menu
    page.goto(f"{live_server.url}/")
    page.goto(f"{live_server.url}/import/")
    # then: the bar shows where the job is
    page.wait_for_selector("text=" + ("正在读取：1000 / 2000 行" if language == "zh-hans" else "Reading: 1000 / 2000 rows"))
    assert page.get_attribute(".meter", "aria-valuenow") == "45"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / f"careless-import-slow-{language}.png"), full_page=True)
    # and when the job ends, the page turns into its report by itself
    release.set()
    page.wait_for_selector(".report .ok")
    page.screenshot(path=str(ARTIFACTS / f"careless-import-slow-done-{language}.png"), full_page=True)
    for thread in import_jobs.threads:
        thread.join(30)
    context.close()
