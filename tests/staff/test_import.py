import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from arrears.core import roles
from arrears.estate.models import StaffScope, Unit
from arrears.staff import uploads
from tests import factories

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def workbook(rows=(("阳光花园", "8栋", "", "0801", "88.50", "自住"),)) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "房屋"
    sheet.append(["小区", "楼栋", "单元", "房号", "建筑面积", "状态"])
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(name="房屋.xlsx", content=None):
    return SimpleUploadedFile(name, workbook() if content is None else content, content_type=XLSX)


@pytest.mark.parametrize("role", [roles.COLLECTOR, roles.FRONT_DESK, roles.LEGAL])
def test_it_forbids_other_roles(client, estate, role):
    user = factories.user("u-" + role, groups=[role])
    client.force_login(user)
    assert client.get(reverse("staff:import")).status_code == 403
    assert client.post(reverse("staff:import"), {"action": "check", "file": upload()}).status_code == 403


@pytest.mark.parametrize("role", [roles.FINANCE, roles.MANAGER, roles.ADMIN])
def test_it_lets_finance_managers_and_admins_in(client, estate, role):
    client.force_login(factories.user("u-" + role, groups=[role]))
    response = client.get(reverse("staff:import"))
    assert response.status_code == 200
    assert "上传并校验" in response.content.decode()


def test_it_refuses_a_file_that_is_not_xlsx(client, finance):
    client.force_login(finance)
    response = client.post(reverse("staff:import"), {"action": "check", "file": upload("房屋.xls", b"\xd0\xcf\x11\xe0")})
    assert response.status_code == 200
    assert "只接受 .xlsx 格式的 Excel 文件" in response.content.decode()
    assert uploads.current(response.wsgi_request) is None


def test_it_refuses_an_xlsx_name_on_other_content(client, finance):
    client.force_login(finance)
    response = client.post(reverse("staff:import"), {"action": "check", "file": upload("房屋.xlsx", b"name,room\n")})
    assert "不是有效的 .xlsx 工作簿" in response.content.decode()


def test_it_lists_every_bad_row_and_offers_no_import(client, finance, settings):
    client.force_login(finance)
    bad = workbook(rows=(("阳光花园", "8栋", "", "0801", "-5", "自住"), ("阳光花园", "8栋", "", "0802", "88.50", "别墅")))
    response = client.post(reverse("staff:import"), {"action": "check", "file": upload(content=bad)}, follow=True)
    html = response.content.decode()
    report = response.context["report"]
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("房屋", 2, "建筑面积"), ("房屋", 3, "状态")]
    assert "建筑面积" in html and 'id="import-button"' not in html
    assert not Unit.objects.filter(room__in=["0801", "0802"]).exists()
    # an import without a passing dry run is refused
    response = client.post(reverse("staff:import"), {"action": "import"}, follow=True)
    assert "请先上传文件并通过校验" in response.content.decode()
    assert not Unit.objects.filter(room__in=["0801", "0802"]).exists()


def test_it_discards_the_upload(client, finance, settings):
    client.force_login(finance)
    client.post(reverse("staff:import"), {"action": "check", "file": upload()})
    client.post(reverse("staff:import"), {"action": "discard"})
    assert uploads.SESSION_KEY not in client.session
    assert list((settings.MEDIA_ROOT / "imports").iterdir()) == []


def test_it_shows_the_progress_indicator_texts(client, finance):
    client.force_login(finance)
    html = client.get(reverse("staff:import")).content.decode()
    assert 'data-busy="正在校验…"' in html and "staff/staff.js" in html


def test_it_runs_the_dry_run_then_imports_the_same_file(client, estate, settings):
    user = factories.user("boss", groups=[roles.ADMIN])
    StaffScope.objects.create(user=user, community=estate["community"])
    client.force_login(user)
    # given: a dry run that passes
    response = client.post(reverse("staff:import"), {"action": "check", "file": upload()}, follow=True)
    assert response.context["report"].ok, response.context["report"].errors
    assert 'id="import-button"' in response.content.decode()
    assert not Unit.objects.filter(room="0801").exists()
    # when
    response = client.post(reverse("staff:import"), {"action": "import"}, follow=True)
    # then
    assert response.context["report"].ok and not response.context["report"].dry_run
    assert Unit.objects.filter(room="0801", building__name="8栋").exists()
    assert uploads.current(response.wsgi_request) is None  # the imported file is spent
