"""Issue 13, paths 2 and 8: the web import writes only inside the user's scope, within limits, as a job."""

import io
import tracemalloc
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from arrears.core import roles
from arrears.estate.models import Community, StaffScope, Unit
from arrears.ledger import import_jobs
from arrears.ledger.models import ImportJob, ImportJobKind, ImportJobStatus
from arrears.staff import uploads
from bench.import_memory import zip_bomb as bomb
from tests import factories

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HOUSE_HEADER = ["小区", "楼栋", "单元", "房号", "建筑面积", "状态"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def houses(*rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "房屋"
    sheet.append(HOUSE_HEADER)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def check(client, content: bytes, name="房屋.xlsx"):
    return client.post(reverse("staff:import"), {"action": "check", "file": SimpleUploadedFile(name, content, content_type=XLSX)},
                       follow=True)


def scoped(username, role, community=None, building=None):
    user = factories.user(username, groups=[role])
    if community is not None:
        StaffScope.objects.create(user=user, community=community, building=building)
    return user


# ----------------------------------------------------------------------------- scope


def test_it_refuses_a_one_community_managers_rows_in_another_community(client, estate):
    # given: a manager of 阳光花园; 翠湖苑 is another community of the same company
    client.force_login(scoped("manager", roles.MANAGER, estate["community"]))
    far = estate["far_unit"]
    # when: the file changes the floor area of a unit in 翠湖苑 (and one of 阳光花园, which alone would be fine)
    response = check(client, houses(("翠湖苑", "1栋", "", "0101", "999.00", "自住"), ("阳光花园", "3栋", "1", "1201", "101.00", "自住")))
    # then: the row is an error of the report, and nothing is written even after an import attempt
    report = response.context["report"]
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("房屋", 2, "小区")]
    assert "不在您的管辖范围内" in report.errors[0].text
    response = client.post(reverse("staff:import"), {"action": "import"}, follow=True)
    assert "请先上传文件并通过校验" in response.content.decode()
    far.refresh_from_db()
    assert far.floor_area == Decimal("100.00")
    assert Unit.objects.get(pk=estate["unit"].pk).floor_area == Decimal("100.00")


def test_it_refuses_creating_a_community_through_the_web_without_the_admin_role(client, estate):
    client.force_login(scoped("manager", roles.MANAGER, estate["community"]))
    response = check(client, houses(("新小区", "1栋", "", "0101", "80.00", "自住"), ("新小区", "1栋", "", "0102", "80.00", "自住")))
    report = response.context["report"]
    assert [(e.row, e.column) for e in report.errors] == [(2, "小区"), (3, "小区")]
    assert report.errors[0].text.startswith("新建小区“新小区”需要系统管理员角色")
    assert not Community.objects.filter(name="新小区").exists()


def test_it_lets_an_admin_create_a_community_through_the_web(client, estate):
    client.force_login(scoped("boss", roles.ADMIN, estate["community"]))
    assert check(client, houses(("新小区", "1栋", "", "0101", "80.00", "自住"))).context["report"].ok
    response = client.post(reverse("staff:import"), {"action": "import"}, follow=True)
    assert response.context["report"].ok
    assert Unit.objects.filter(community__name="新小区", room="0101").exists()


def test_it_writes_nothing_for_a_finance_user_without_scope(client, estate):
    client.force_login(scoped("cashier-nowhere", roles.FINANCE))
    before = list(Unit.objects.order_by("pk").values_list("pk", "floor_area"))
    response = check(client, houses(("阳光花园", "3栋", "1", "1201", "55.00", "自住"), ("阳光花园", "9栋", "", "0901", "80.00", "自住")))
    report = response.context["report"]
    assert [(e.sheet, e.row) for e in report.errors] == [("", 0)]
    assert report.errors[0].text.startswith("您没有任何小区的管辖范围")
    assert 'id="import-button"' not in response.content.decode()
    assert list(Unit.objects.order_by("pk").values_list("pk", "floor_area")) == before


def test_it_limits_a_building_scope_to_its_building(client, estate):
    # given: a manager of 5栋 only
    other = estate["other_unit"]
    client.force_login(scoped("five", roles.MANAGER, estate["community"], other.building))
    # when
    report = check(client, houses(("阳光花园", "5栋", "1", "1201", "81.00", "自住"), ("阳光花园", "3栋", "1", "1201", "1.00", "自住"),
                                  ("阳光花园", "7栋", "", "0701", "70.00", "自住"))).context["report"]
    # then: 5栋 is theirs; 3栋 and a new building of the community are not
    assert [(e.row, e.column) for e in report.errors] == [(3, "小区"), (4, "小区")]
    assert Unit.objects.get(pk=estate["unit"].pk).floor_area == Decimal("100.00")


# ----------------------------------------------------------------------------- limits


def test_it_refuses_a_zip_bomb_before_unpacking_it(client, finance, settings):
    # given: 400 MB of sheet in a file of a few hundred KB
    content = bomb(400)
    assert len(content) < 2 * 1024 * 1024
    client.force_login(finance)
    client.get(reverse("staff:import"))  # first-use loading (translations, templates) is not the request's memory
    # when
    tracemalloc.start()
    try:
        response = check(client, content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # then: a clear message, and the memory of a request, not of 400 MB
    report = response.context["report"]
    assert len(report.errors) == 1 and "超过上限 200 MB" in report.errors[0].text
    assert peak < 30 * 1024 * 1024, peak


def test_it_refuses_an_abnormally_compressed_member_under_the_size_limit(client, finance, settings):
    settings.ARREARS_IMPORT_MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
    client.force_login(finance)
    report = check(client, bomb(50)).context["report"]
    assert len(report.errors) == 1 and "压缩炸弹" in report.errors[0].text


def test_it_refuses_an_oversize_upload_unread(client, finance, settings):
    settings.ARREARS_IMPORT_MAX_UPLOAD_BYTES = 1024
    client.force_login(finance)
    response = client.post(reverse("staff:import"), {"action": "check", "file": SimpleUploadedFile(
        "房屋.xlsx", b"PK\x03\x04" + b"0" * 200_000, content_type=XLSX)})
    assert response.status_code == 413
    assert "文件超过 0 MB，请拆分后上传。" in response.content.decode()
    assert uploads.current(response.wsgi_request) is None and not ImportJob.objects.exists()


def test_it_refuses_an_upload_over_the_limit_that_declared_less(client, finance, settings):
    settings.ARREARS_IMPORT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    client.force_login(finance)
    content = houses() + b"\0" * (2 * 1024 * 1024)  # within the form's overhead, over the limit
    response = client.post(reverse("staff:import"), {"action": "check", "file": SimpleUploadedFile("房屋.xlsx", content)})
    assert response.status_code == 200
    assert "文件超过 2 MB" in response.content.decode() and not ImportJob.objects.exists()


# ----------------------------------------------------------------------------- the job


def test_it_starts_one_job_for_a_double_submit(client, finance, settings, monkeypatch):
    # given: a runner that has not started the first job yet
    settings.ARREARS_IMPORT_RUNNER = "thread"
    started = []
    monkeypatch.setattr(import_jobs, "_start_thread", started.append)
    client.force_login(finance)
    content = houses(("阳光花园", "8栋", "", "0801", "88.50", "自住"))
    # when: the same file is sent twice
    first = check(client, content)
    second = check(client, content)
    # then: one job, shown as running with its progress bar
    assert ImportJob.objects.count() == 1
    job = ImportJob.objects.get()
    assert first.context["job"] == second.context["job"] == job and job.status == ImportJobStatus.QUEUED
    assert 'role="progressbar"' in second.content.decode() and 'id="import-button"' not in second.content.decode()


def test_it_keeps_one_active_job_per_file_in_the_database(finance):
    fields = {"user": finance, "digest": "d" * 64, "kind": ImportJobKind.IMPORT, "token": "a" * 32}
    ImportJob.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        ImportJob.objects.create(**fields)
    ImportJob.objects.update(status=ImportJobStatus.DONE)
    ImportJob.objects.create(**fields)  # once the first has ended, the same file may run again


def test_it_refuses_the_import_when_the_checked_file_changed(client, finance):
    client.force_login(finance)
    assert check(client, houses(("阳光花园", "8栋", "", "0801", "88.50", "自住"))).context["report"].ok
    kept = client.session[uploads.SESSION_KEY]
    uploads.path_of(kept).write_bytes(houses(("阳光花园", "3栋", "1", "1201", "5.00", "自住")))
    response = client.post(reverse("staff:import"), {"action": "import"}, follow=True)
    report = response.context["report"]
    assert [e.text for e in report.errors] == [import_jobs.NOT_CHECKED]  # the page's language
    assert Unit.objects.get(room="1201", building__name="3栋").floor_area == Decimal("100.00")
    assert not Unit.objects.filter(room="0801").exists()


def test_it_changes_nothing_when_the_same_file_is_imported_twice(client, finance):
    client.force_login(finance)
    content = houses(("阳光花园", "8栋", "", "0801", "88.50", "自住"))
    for _ in range(2):
        check(client, content)
        response = client.post(reverse("staff:import"), {"action": "import"}, follow=True)
        assert response.context["report"].ok
    assert Unit.objects.filter(room="0801").count() == 1
    assert response.context["report"].counts["房屋"] == 0 and response.context["report"].counts["已存在（跳过）"] == 1


def test_it_shows_a_user_only_their_own_jobs(client, finance, estate):
    client.force_login(finance)
    job = check(client, houses(("阳光花园", "8栋", "", "0801", "88.50", "自住"))).context["job"]
    other = scoped("other-cashier", roles.FINANCE, estate["community"])
    client.force_login(other)
    assert client.get(reverse("staff:import-job", args=[job.pk])).status_code == 404
    response = client.get(reverse("staff:import") + f"?job={job.pk}")
    assert response.context["job"] is None and response.context["report"] is None


def test_it_reports_progress_as_json_in_the_users_language(client, finance, settings):
    client.force_login(finance)
    job = ImportJob.objects.create(user=finance, digest="e" * 64, kind=ImportJobKind.CHECK, token="b" * 32,
                                   status=ImportJobStatus.RUNNING, stage="read", rows_done=500, rows_total=1000)
    data = client.get(reverse("staff:import-job", args=[job.pk])).json()
    assert data == {"status": "running", "finished": False, "rows_done": 500, "rows_total": 1000, "percent": 45,
                    "text": "正在读取：500 / 1000 行"}
    client.cookies.load({"django_language": "en"})
    data = client.get(reverse("staff:import-job", args=[job.pk])).json()
    assert data["text"] == "Reading: 500 / 1000 rows"
    page = client.get(reverse("staff:import") + f"?job={job.pk}").content.decode()
    assert "Reading: 500 / 1000 rows" in page and 'aria-valuenow="45"' in page and "正在读取" not in page


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the tests' in-memory SQLite locks a table instead of waiting, so the request's session write and the "
           "job's thread can collide; the thread path is run on PostgreSQL",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the roles that migrations create survive
def test_it_runs_the_job_in_a_thread_after_the_commit(client, settings):
    # given: the embedded default's runner
    settings.ARREARS_IMPORT_RUNNER = "thread"
    community = factories.community()
    user = scoped("thread-cashier", roles.FINANCE, community)
    client.force_login(user)
    # when
    response = client.post(reverse("staff:import"), {"action": "check", "file": SimpleUploadedFile(
        "房屋.xlsx", houses(("阳光花园", "8栋", "", "0801", "88.50", "自住")), content_type=XLSX)})
    for thread in list(import_jobs.threads):
        thread.join(timeout=60)
    # then
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.DONE and job.report["ok"], job.report
    assert job.company == community.company and job.user == user
    assert job.rows_done == job.rows_total == 1
    assert not Unit.objects.filter(room="0801").exists()  # a check writes nothing
    connection.close()


def test_it_queues_the_job_as_a_celery_task_after_the_commit(client, finance, settings, django_capture_on_commit_callbacks):
    # given: a broker's runner (the task runs eagerly here: no broker in tests)
    settings.ARREARS_IMPORT_RUNNER = "celery"
    client.force_login(finance)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        check(client, houses(("阳光花园", "8栋", "", "0801", "88.50", "自住")))
    # then: nothing ran inside the request; the task runs the job once committed
    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.QUEUED and len(callbacks) == 1
    callbacks[0]()
    job.refresh_from_db()
    assert job.status == ImportJobStatus.DONE and job.report["ok"]


def test_it_replaces_a_job_whose_process_died(client, finance, settings, monkeypatch):
    settings.ARREARS_IMPORT_RUNNER = "thread"
    monkeypatch.setattr(import_jobs, "_start_thread", lambda job_id: None)  # the process dies before running it
    client.force_login(finance)
    content = houses(("阳光花园", "8栋", "", "0801", "88.50", "自住"))
    first = check(client, content).context["job"]
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        second = check(client, content).context["job"]
    first.refresh_from_db()
    assert second.pk != first.pk and first.status == ImportJobStatus.FAILED
