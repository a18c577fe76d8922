"""A real Chromium on a 390px phone follows an import job's progress bar to its report."""

import pytest

from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.ledger.models import ImportJob, ImportJobKind, ImportJobStatus
from tests import factories
from tests.staff.test_browser import ARTIFACTS, browser, pytestmark  # noqa: F401  (the fixture and the marks)

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize(("language", "reading", "report"), [
    ("zh-hans", "正在读取：500 / 1000 行", "发现 1 处错误"),
    ("en", "Reading: 500 / 1000 rows", "Found 1 error"),
])
def test_it_follows_the_job_to_its_report_on_a_phone(live_server, estate, browser, language, reading, report):  # noqa: F811
    # given: a job of the user, half read
    user = factories.user("cashier", groups=[roles.FINANCE])
    StaffScope.objects.create(user=user, community=estate["community"])
    job = ImportJob.objects.create(user=user, digest="f" * 64, kind=ImportJobKind.CHECK, token="c" * 32, file_name="房屋.xlsx",
                                   status=ImportJobStatus.RUNNING, stage="read", rows_done=500, rows_total=1000)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=PHONE)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "cashier")
    page.fill("#id_password", "pw-cashier")
    page.click(".login button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    # when: the import page shows the job
    page.goto(f"{live_server.url}/import/?job={job.pk}")
    # then: the bar follows the job, within the phone's width
    page.wait_for_selector(f"text={reading}")
    page.wait_for_function("document.querySelector('.meter').getAttribute('aria-valuenow') === '45'")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / f"import-progress-{language}.png"), full_page=True)
    # when the job ends, the page shows the row-level report
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJobStatus.DONE, report={
        "ok": False, "dry_run": True, "counts": {}, "error_count": 1,
        "errors": [["房屋", 2, "小区", "小区“翠湖苑”不在您的管辖范围内，不能导入 / the community is outside your scope"]],
    })
    page.wait_for_selector("table.errors")
    assert report in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / f"import-report-{language}.png"), full_page=True)
    context.close()
