"""The evidence pack's download on the unit page, the community's contract page, and the command."""

import hashlib
import io
import re
import zipfile
from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from arrears.core import roles
from arrears.core.models import AuditEvent
from arrears.estate.models import StaffScope
from arrears.legal.models import CommunityDocument
from tests import factories
from tests.legal.pack.conftest import at

PDF = b"%PDF-1.4 tariff basis 2026"


def _zip_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.namelist()


# -- the download ---------------------------------------------------------------------------------


def test_the_unit_page_offers_the_pack_to_legal_staff(client, case, legal):
    # given
    client.force_login(legal)
    # when
    html = client.get(reverse("staff:unit", args=[case.unit_id])).content.decode()
    # then
    assert f'href="{reverse("staff:evidence_pack", args=[case.pk])}"' in html
    assert f'href="{reverse("staff:community_documents", args=[case.community_id])}"' in html


def test_it_downloads_the_pack_as_of_today_and_logs_the_download(client, case, evidence, legal):
    # given
    client.force_login(legal)
    # when
    response = client.get(reverse("staff:evidence_pack", args=[case.pk]))
    data = b"".join(response.streaming_content)
    # then: as of today (10 May), so the newer contract and the later letter are in
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert f"evidence-pack-case{case.pk}-2026-05-10.zip" in response["Content-Disposition"]
    names = _zip_names(data)
    assert names[0] == "00_证据目录.pdf" and names[-1] == "manifest.txt"
    assert "04_函件/02_YG-LS-2026-000009.pdf" in names
    event = AuditEvent.objects.get(action="legal.evidence_pack_downloaded")
    assert (event.actor, event.community_id, event.detail["case"], event.detail["as_of"]) == (
        legal, case.community_id, case.pk, "2026-05-10")


def test_the_download_is_a_get(client, case, legal):
    # given
    client.force_login(legal)
    # then
    assert client.post(reverse("staff:evidence_pack", args=[case.pk])).status_code == 405


def test_another_communitys_case_is_not_found(client, far_case, legal):
    # given: legal is scoped to 阳光花园, the case is in 翠湖苑
    client.force_login(legal)
    # when
    response = client.get(reverse("staff:evidence_pack", args=[far_case.pk]))
    # then
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="legal.evidence_pack_downloaded").exists()


def test_a_building_scoped_user_gets_no_pack_of_another_building(client, case, estate):
    # given: a legal user of 5栋 only; the case is in 3栋
    neighbour = factories.user("neighbour", groups=[roles.LEGAL])
    StaffScope.objects.create(user=neighbour, community=estate["community"], building=estate["other_unit"].building)
    client.force_login(neighbour)
    # then
    assert client.get(reverse("staff:evidence_pack", args=[case.pk])).status_code == 404


def test_the_front_desk_may_not_download_a_pack(client, case, estate):
    # given
    gate = factories.user("gate", groups=[roles.FRONT_DESK])
    StaffScope.objects.create(user=gate, community=estate["community"])
    client.force_login(gate)
    # then
    assert client.get(reverse("staff:evidence_pack", args=[case.pk])).status_code == 403


# -- the community's contract and tariff basis ------------------------------------------------------


def test_it_uploads_the_tariff_basis_and_a_newer_one_supersedes_it(client, case, legal, tmp_path):
    # given
    client.force_login(legal)
    url = reverse("staff:community_documents", args=[case.community_id])
    assert "尚未上传" in client.get(url).content.decode()
    # when: uploaded on the 8th, then a newer one on the 10th
    with time_machine.travel(at(8, 9), tick=False):
        client.post(url, {"kind": "tariff", "title": "收费标准批复（2024）",
                          "file": SimpleUploadedFile("tariff.pdf", PDF, content_type="application/pdf")})
    with time_machine.travel(at(10, 9), tick=False):
        response = client.post(url, {"kind": "tariff", "title": "收费标准批复（2026）", "file": SimpleUploadedFile(
            "tariff.jpg", b"\xff\xd8\xff photo of the notice", content_type="image/jpeg")}, follow=True)
    html = response.content.decode()
    # then: both kept and listed, the newer in force, its hash stored
    first, second = CommunityDocument.objects.order_by("uploaded_at")
    assert (first.title, first.sha256) == ("收费标准批复（2024）", hashlib.sha256(PDF).hexdigest())
    assert html.count('data-testid="community-document"') == 2 and html.count("现行") == 1 and "已被取代" in html
    # and a pack as of the 9th carries the older, one as of the 10th the newer
    call_command("evidence-pack", "--case", str(case.pk), "--date", "2026-05-09", "--output", str(tmp_path / "9.zip"))
    assert "01_合同与收费依据/tariff_收费标准批复_2024.pdf" in _zip_names((tmp_path / "9.zip").read_bytes())
    call_command("evidence-pack", "--case", str(case.pk), "--date", "2026-05-10", "--output", str(tmp_path / "10.zip"))
    assert "01_合同与收费依据/tariff_收费标准批复_2026.jpg" in _zip_names((tmp_path / "10.zip").read_bytes())


@pytest.mark.parametrize(("name", "data", "content_type", "message"), [
    ("call.m4a", b"ID3 audio", "audio/mp4", "此处须上传"),
    ("page.pdf", b"<html><body>not a pdf", "application/pdf", "像是程序或网页"),
    ("empty.pdf", b"", "application/pdf", "文件"),
])
def test_it_refuses_a_file_that_is_not_a_pdf_or_a_photo(client, case, legal, name, data, content_type, message):
    # given
    client.force_login(legal)
    # when
    response = client.post(reverse("staff:community_documents", args=[case.community_id]), {
        "kind": "contract", "title": "合同", "file": SimpleUploadedFile(name, data, content_type=content_type)}, follow=True)
    # then
    assert message in response.content.decode()
    assert not CommunityDocument.objects.exists()


def test_a_second_submit_of_the_same_file_is_refused(client, case, legal):
    # given
    client.force_login(legal)
    url = reverse("staff:community_documents", args=[case.community_id])
    form = {"kind": "contract", "title": "物业服务合同"}
    client.post(url, {**form, "file": SimpleUploadedFile("c.pdf", PDF, content_type="application/pdf")})
    # when
    response = client.post(url, {**form, "file": SimpleUploadedFile("c.pdf", PDF, content_type="application/pdf")},
                           follow=True)
    # then
    assert "无需重复上传" in response.content.decode()
    assert CommunityDocument.objects.count() == 1


def test_another_community_and_a_building_scope_cannot_upload(client, case, estate, legal):
    # given
    client.force_login(legal)
    far = estate["far_unit"].community_id
    upload = {"kind": "contract", "title": "合同", "file": SimpleUploadedFile("c.pdf", PDF, content_type="application/pdf")}
    # then: another community is not found
    assert client.get(reverse("staff:community_documents", args=[far])).status_code == 404
    assert client.post(reverse("staff:community_documents", args=[far]), upload).status_code == 404
    # and a manager of one building only holds no community's contract
    manager = factories.user("building-manager", groups=[roles.MANAGER])
    StaffScope.objects.create(user=manager, community=estate["community"], building=estate["unit"].building)
    client.force_login(manager)
    assert client.get(reverse("staff:community_documents", args=[case.community_id])).status_code == 404
    # and a collector lacks the permission
    client.force_login(factories.user("c2", groups=[roles.COLLECTOR]))
    assert client.get(reverse("staff:community_documents", args=[case.community_id])).status_code == 403
    assert not CommunityDocument.objects.exists()


def test_the_pages_are_english_under_en(client, case, legal, settings):
    # given
    client.force_login(legal)
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    # when
    documents = client.get(reverse("staff:community_documents", args=[case.community_id])).content.decode()
    unit = client.get(reverse("staff:unit", args=[case.unit_id])).content.decode()
    # then
    assert "Contract and tariff basis" in documents and "Property service contract" in documents
    assert "Tariff basis" in documents and "Not uploaded yet" in documents
    body = documents.split("<main", 1)[1].replace(case.community.name, "")
    assert not re.search(r"[\u4e00-\u9fff]", body)
    assert "Download the evidence pack (as of today)" in unit and "下载证据包" not in unit


# -- the command ----------------------------------------------------------------------------------


def test_the_command_writes_the_pack_and_warns_of_a_missing_tariff_basis(case, evidence, tmp_path, capsys):
    # given
    folder = tmp_path / "out"
    folder.mkdir()
    # when
    call_command("evidence-pack", "--case", str(case.pk), "--date", "2026-05-09", "--output", str(folder / "pack.zip"))
    # then: the pack alone, no temporary file left beside it
    assert _zip_names((folder / "pack.zip").read_bytes())[-1] == "manifest.txt"
    err = capsys.readouterr().err
    assert "尚未上传收费标准依据" in err and "has no tariff document uploaded" in err
    assert [path.name for path in folder.iterdir()] == ["pack.zip"]


@pytest.mark.parametrize(("case_id", "on", "zh", "en"), [
    ("999999", "2026-05-09", "没有编号为 999999 的催收案件", "there is no collection case number 999999"),
    ("abc", "2026-05-09", "没有编号为 abc 的催收案件", "there is no collection case number abc"),
    (None, "2026-13-01", "日期格式应为 YYYY-MM-DD", "the date must be YYYY-MM-DD"),
    (None, "9/5/2026", "日期格式应为 YYYY-MM-DD", "the date must be YYYY-MM-DD"),
    (None, "2026-05-11", "证据包日期不能晚于今天", "cannot be after today"),
    (None, "1979-12-31", "证据包日期不能早于 1980-01-01", "cannot be before 1980-01-01"),
])
def test_the_command_refuses_a_bad_case_or_date_in_both_languages_and_writes_nothing(case, tmp_path, case_id, on, zh, en):
    # given
    folder = tmp_path / "out"
    folder.mkdir()
    output = folder / "pack.zip"
    # when
    with pytest.raises(CommandError) as refused:
        call_command("evidence-pack", "--case", case_id or str(case.pk), "--date", on, "--output", str(output))
    # then
    assert zh in str(refused.value) and en in str(refused.value)
    assert list(folder.iterdir()) == []


def test_the_command_refuses_a_missing_output_folder(case, tmp_path):
    # when
    with pytest.raises(CommandError) as refused:
        call_command("evidence-pack", "--case", str(case.pk), "--date", "2026-05-09",
                     "--output", str(tmp_path / "nowhere" / "pack.zip"))
    # then
    assert "输出目录不存在" in str(refused.value) and "output folder does not exist" in str(refused.value)


def test_the_pack_of_a_case_with_nothing_yet_still_builds(case, tmp_path):
    # when: a case with no letters, contacts, contract or proofs
    call_command("evidence-pack", "--case", str(case.pk), "--date", date(2026, 5, 10).isoformat(),
                 "--output", str(tmp_path / "p.zip"))
    # then
    assert "04_函件" not in " ".join(_zip_names((tmp_path / "p.zip").read_bytes()))
