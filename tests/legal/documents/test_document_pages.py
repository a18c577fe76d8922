"""The staff pages of court documents: download a matter's document, list and edit the company's texts."""

import pytest
from django.urls import reverse

from arrears.core import roles
from arrears.core.models import AuditEvent
from arrears.estate.models import StaffScope
from arrears.legal import documents
from arrears.legal.models import DocumentTemplate
from arrears.notices import pdf
from tests import factories

from .conftest import TODAY
from .test_documents import COMPANY_BODY, text_of


def url(matter, kind="complaint"):
    return reverse("staff:matter_document", args=[matter.pk, kind])


def edit_url(company, kind="complaint"):
    return reverse("staff:legal_template_edit", args=[company.pk, kind])


@pytest.fixture
def collector(desk):
    """Sees the matter (legal.view_matter) but may not add or change the templates."""
    user = factories.user("collector", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=user, community=desk["community"])
    return user


def test_it_downloads_the_complaint_and_logs_it(client, desk):
    # given
    client.force_login(desk["lawyer"])

    # when
    response = client.get(url(desk["matter"]))

    # then the PDF the domain renders, as an attachment, and one audit event naming it
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content == documents.render("complaint", desk["matter"], TODAY)
    event = AuditEvent.objects.get(action="legal.document_downloaded")
    assert event.actor == desk["lawyer"] and event.community_id == desk["community"].pk
    assert event.detail == {"matter": desk["matter"].pk, "kind": "complaint", "as_of": "2025-07-02",
                            "sha256": pdf.sha256(response.content)}


@pytest.mark.parametrize("kind", ["payment_order", "evidence_list"])
def test_it_downloads_the_other_documents(client, desk, kind):
    client.force_login(desk["lawyer"])
    response = client.get(url(desk["matter"], kind))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


def test_a_matter_of_another_community_is_not_found(client, desk):
    # given the lawyer of 阳光花园 and a matter of 翠湖苑
    client.force_login(desk["lawyer"])

    # when
    response = client.get(url(desk["far_matter"]))

    # then
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="legal.document_downloaded").exists()


def test_an_unknown_kind_is_not_found(client, desk):
    client.force_login(desk["lawyer"])
    assert client.get(url(desk["matter"], "judgment")).status_code == 404


def test_the_front_desk_may_not_download(client, desk):
    gate = factories.user("gate", groups=[roles.FRONT_DESK])
    StaffScope.objects.create(user=gate, community=desk["community"])
    client.force_login(gate)
    assert client.get(url(desk["matter"])).status_code == 403


def test_a_document_it_cannot_draw_is_refused_with_the_reason(client, desk):
    # given a matter whose claim names no charge the owner owes
    matter = desk["matter"]
    matter.claim_charges = [999999]
    matter.save(update_fields=["claim_charges"])
    client.force_login(desk["lawyer"])

    # when
    response = client.get(url(matter))

    # then
    assert response.status_code == 409
    assert "没有可主张的欠费" in response.content.decode()
    assert not AuditEvent.objects.filter(action="legal.document_downloaded").exists()


def test_the_template_page_lists_the_three_kinds_with_the_built_in_text(client, desk):
    # given 阳光物业 has its own complaint
    documents.save_template(company=desk["company"], kind="complaint", title="起诉状", body=COMPANY_BODY, staff=desk["lawyer"])
    client.force_login(desk["lawyer"])

    # when
    page = client.get(reverse("staff:legal_templates")).content.decode()

    # then
    for kind in ("complaint", "payment_order", "evidence_list"):
        assert f'data-testid="kind-{kind}"' in page
    assert "诉讼请求" in page and "督促程序" in page and "证据来源" not in page  # the table heading is drawn, not typed
    assert page.count("公司另设") >= 1 and "阳光物业服务有限公司" in page and "翠湖物业" not in page
    assert "{evidence_table}" in page


def test_it_saves_the_company_text_and_shows_it(client, desk):
    # given
    client.force_login(desk["lawyer"])

    # when the same form is posted twice (a double click)
    for _ in range(2):
        response = client.post(edit_url(desk["company"]), {"title": "起诉状", "body": COMPANY_BODY, "action": "save"})

    # then one row of the company's, and the page shows it
    assert response.status_code == 302
    template = DocumentTemplate.objects.get()
    assert (template.company, template.kind, template.title, template.body, template.updated_by) == (
        desk["company"], "complaint", "起诉状", COMPANY_BODY, desk["lawyer"])
    assert "公司另设" in client.get(edit_url(desk["company"])).content.decode()
    assert AuditEvent.objects.filter(action="legal.template_saved").count() == 2


def test_it_refuses_an_unknown_placeholder_and_saves_nothing(client, desk):
    # given
    client.force_login(desk["lawyer"])

    # when
    response = client.post(edit_url(desk["company"]), {"title": "起诉状", "body": "被告：{defendant}", "action": "save"})

    # then
    assert response.status_code == 200
    assert "模板含未知占位符：{defendant}" in response.content.decode()
    assert not DocumentTemplate.objects.exists()


def test_it_previews_a_text_as_typed_without_saving(client, desk, collector):
    # given a collector, who may look but not edit
    client.force_login(collector)

    # when
    response = client.post(edit_url(desk["company"]), {"title": "起诉状（草）", "body": COMPANY_BODY, "action": "preview"})

    # then the made-up matter's figures in the text as typed
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert text_of(response.content).startswith("起诉状（草）原告：阳光物业服务有限公司被告：张三（1栋1单元101室）本公司自拟：请求¥643.65。")
    assert not DocumentTemplate.objects.exists()


def test_it_lets_no_one_without_the_permission_save(client, desk, collector):
    client.force_login(collector)
    response = client.post(edit_url(desk["company"]), {"title": "起诉状", "body": COMPANY_BODY, "action": "save"})
    assert response.status_code == 403
    assert not DocumentTemplate.objects.exists()


def test_another_companys_template_is_not_found(client, desk):
    # given the lawyer of 翠湖苑 (翠湖物业)
    client.force_login(desk["stranger"])

    # when / then 阳光物业's texts are out of reach
    assert client.get(edit_url(desk["company"])).status_code == 404
    response = client.post(edit_url(desk["company"]), {"title": "起诉状", "body": COMPANY_BODY, "action": "save"})
    assert response.status_code == 404
    assert not DocumentTemplate.objects.exists()


def test_the_edit_page_is_english_for_an_english_user(client, desk, settings):
    client.force_login(desk["lawyer"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(edit_url(desk["company"])).content.decode()
    assert "the owner (defendant / respondent)" in page and "Court document templates" in page


def test_a_matter_outside_the_users_building_is_not_found(client, desk):
    # given a lawyer scoped to another building of 阳光花园
    other_unit = factories.unit(desk["community"], building="5栋", room="0501")
    user = factories.user("neighbour", groups=[roles.LEGAL])
    StaffScope.objects.create(user=user, community=desk["community"], building=other_unit.building)
    client.force_login(user)

    # when / then
    assert client.get(url(desk["matter"])).status_code == 404
