"""A careless manager on the import page: leaves mid-job, has no JavaScript, sends a second file, reads the report."""

import io
import re
import zipfile

import pytest
from django.urls import reverse

from arrears.core import roles
from arrears.ledger import import_jobs
from arrears.ledger.models import ImportJob, ImportJobStatus
from arrears.staff import uploads
from tests.staff.test_import_security import _media, check, houses, scoped  # noqa: F401  (the media fixture)

CJK = re.compile(r"[\u4e00-\u9fff]")
NEW_HOUSE = ("阳光花园", "8栋", "", "0801", "88.50", "自住")


def _reasons(response) -> list[str]:
    return re.findall(r'<td data-label="(?:原因|Reason)">(.*?)</td>', response.content.decode(), re.S)


@pytest.fixture
def queued(settings, monkeypatch):
    """A runner that has not started the job yet (a busy worker)."""
    settings.ARREARS_IMPORT_RUNNER = "thread"
    monkeypatch.setattr(import_jobs, "_start_thread", lambda job_id: None)


def test_it_shows_the_running_job_when_the_manager_comes_back_to_the_import_page(client, finance, queued):
    # given: a check started, then the manager went to another page
    client.force_login(finance)
    job = check(client, houses(NEW_HOUSE)).context["job"]
    client.get(reverse("staff:home"))
    # when: they come back through the menu (no job in the address)
    page = client.get(reverse("staff:import"))
    # then: the page follows that job, and does not say the file failed its check
    assert page.context["job"] == job
    html = page.content.decode()
    assert 'role="progressbar"' in html and "文件未通过校验" not in html
    # and once it has ended, coming back shows its report
    import_jobs.run_job(job.pk)
    assert client.get(reverse("staff:import")).context["report"].ok


def test_it_shows_the_progress_without_javascript(client, finance):
    # given: a job half read
    client.force_login(finance)
    job = ImportJob.objects.create(user=finance, digest="e" * 64, kind="check", token="b" * 32, file_name="房屋.xlsx",
                                   status=ImportJobStatus.RUNNING, stage="read", rows_done=500, rows_total=1000)
    # when: the page is loaded (or refreshed through its noscript link) without JavaScript
    html = client.get(reverse("staff:import") + f"?job={job.pk}").content.decode()
    # then: the server's own page says how far it is, not "queued"
    assert "正在读取：500 / 1000 行" in html and 'aria-valuenow="45"' in html and "排队中" not in html
    assert 'style="width: 45%"' in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_gives_each_reason_of_the_report_in_the_pages_language_only(client, estate, language):
    # given: a manager without scope and a file that cannot be read, each reported by the importer
    client.cookies.load({"django_language": language})
    client.force_login(scoped("lost", roles.MANAGER))
    no_scope = check(client, houses(NEW_HOUSE))
    client.force_login(scoped("mgr", roles.MANAGER, estate["community"]))
    word = check(client, b"PK\x03\x04" + b"not a workbook" * 10)
    # then: each reason is in the page's language only, and a file-wide error shows no row "0"
    reasons = _reasons(no_scope) + _reasons(word)
    assert len(reasons) == 2
    for reason in reasons:
        if language == "en":
            assert not CJK.search(reason), reason
        else:
            assert CJK.search(reason) and not re.search(r"/ [a-z]", reason), reason
    assert '<td data-label="' + ("行" if language == "zh-hans" else "Row") + '" class="num">—</td>' in word.content.decode()


def test_it_says_the_file_was_replaced_when_a_second_upload_replaced_a_queued_one(client, finance, queued):
    # given: a check queued behind a busy worker, and a second file uploaded meanwhile
    client.force_login(finance)
    first = check(client, houses(NEW_HOUSE)).context["job"]
    check(client, houses(("阳光花园", "9栋", "", "0901", "70.00", "自住")))
    # when: the first job runs
    import_jobs.run_job(first.pk)
    # then: its report says the file was replaced or discarded, not that it "changed after the check"
    page = client.get(reverse("staff:import") + f"?job={first.pk}")
    reasons = [e.text for e in page.context["report"].errors]
    assert reasons == [import_jobs.GONE]
    assert uploads.current(page.wsgi_request)["name"] == "房屋.xlsx"


@pytest.mark.parametrize(("language", "says"), [("zh-hans", "另存为 .xlsx"), ("en", "save it as .xlsx")])
def test_it_tells_a_renamed_word_file_to_be_saved_as_a_workbook_without_the_readers_internals(client, finance, language,
                                                                                              says):
    # given: a .docx renamed .xlsx (a zip, so it passes the upload's first look)
    client.cookies.load({"django_language": language})
    client.force_login(finance)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    # when: it is checked
    response = check(client, out.getvalue(), name="通知.xlsx")
    # then: the one reason says what to do, in the page's language, and not the reader's exception
    [reason] = _reasons(response)
    assert says in reason and "workbook part" not in reason and "Content_Types" not in reason


def test_it_refuses_a_known_sheet_the_manager_cannot_see(client, finance):
    # given: a workbook whose 业主 sheet was hidden (to "leave it out"), its rows still in the file
    client.force_login(finance)
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(houses(NEW_HOUSE)))
    hidden = book.create_sheet("业主")
    hidden.sheet_state = "hidden"
    hidden.append(["小区", "楼栋", "单元", "房号", "业主姓名", "手机", "证件号", "起始日期"])
    hidden.append(["阳光花园", "8栋", "", "0801", "张三", "13800000000", None, "2024-01-01"])
    out = io.BytesIO()
    book.save(out)
    # when: it is checked
    response = check(client, out.getvalue())
    # then: the hidden sheet is an error that says what to do, so nobody imports rows they did not see
    report = response.context["report"]
    assert not report.ok
    assert [(e.sheet, e.text) for e in report.errors] == [("业主", "工作表“业主”是隐藏的：请在 Excel 中取消隐藏并检查；不要导入的工作表请删除")]


def test_it_shows_the_import_result_when_the_manager_comes_back_after_it_ended(client, finance, settings, monkeypatch):
    # given: a checked file whose import was started, then the manager left the page
    client.force_login(finance)
    check(client, houses(NEW_HOUSE))
    settings.ARREARS_IMPORT_RUNNER = "thread"
    monkeypatch.setattr(import_jobs, "_start_thread", lambda job_id: None)
    job = client.post(reverse("staff:import"), {"action": "import"}, follow=True).context["job"]
    client.get(reverse("staff:home"))
    # when: the job ends (the imported file is spent) and they come back through the menu
    import_jobs.run_job(job.pk)
    page = client.get(reverse("staff:import"))
    # then: the page shows what happened to their import
    assert page.context["job"] == job and page.context["report"].ok and not page.context["report"].dry_run
    assert "导入完成" in page.content.decode()


def test_it_names_the_counts_of_a_passed_check_in_english_on_the_english_page(client, finance):
    client.cookies.load({"django_language": "en"})
    client.force_login(finance)
    html = check(client, houses(NEW_HOUSE)).content.decode()
    counts = re.search(r'<table class="counts">.*?</table>', html, re.S).group(0)
    assert not CJK.search(counts), counts
    assert ">Units<" in counts and ">Already there (skipped)<" in counts
