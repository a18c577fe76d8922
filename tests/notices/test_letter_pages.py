"""Letter pages: scoped to the user's communities, a batch from ticked cases, delivery by form."""

import pytest
from django.urls import reverse

from arrears.collection.models import Task
from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.notices.models import Letter, LetterBatch
from tests import factories


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def letter_task(case):
    return Task.objects.create(community=case.community, case=case, key="step:letter_1", kind="ladder", channel="letter",
                               title="催费函（第一次）", due_on=case.as_of, created_on=case.as_of)


@pytest.fixture
def manager(estate):
    user = factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


def _issue(client, case):
    return client.post(reverse("staff:letters_issue"), {"kind": "collection", "case": [case.pk], "issued_on": "2026-05-10"})


def test_the_letters_page_lists_cases_due_a_letter_and_prints_a_batch(client, manager, letter_task, case, media):
    client.force_login(manager)
    page = client.get(reverse("staff:letters"))
    assert page.status_code == 200 and "3栋1单元1201" in page.content.decode()
    response = _issue(client, case)
    batch = LetterBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse("staff:letter_batch", args=[batch.pk])
    pdf = client.get(reverse("staff:letter_batch_file", args=[batch.pk, "pdf"]))
    assert pdf["Content-Type"] == "application/pdf" and b"".join(pdf.streaming_content).startswith(b"%PDF")
    archive = client.get(reverse("staff:letter_batch_file", args=[batch.pk, "zip"]))
    assert archive["Content-Disposition"].startswith("attachment")


def test_a_refusal_is_shown_and_nothing_is_issued(client, manager, case, media, estate):
    estate["owner"].payments.all()  # the case is open, but the ledger says what is owed: pay it all first
    from arrears.ledger import services

    services.record_payment(unit_id=case.unit_id, owner_id=case.owner_id, amount="2000.00", paid_on=case.as_of, method="cash")
    client.force_login(manager)
    response = _issue(client, case)
    assert response.status_code == 302
    follow = client.get(response.url)
    assert "已无欠费" in follow.content.decode()
    assert not Letter.objects.exists()


def test_other_communities_cannot_see_or_print(client, manager, outsider, case, media):
    client.force_login(manager)
    _issue(client, case)
    letter = Letter.objects.get()
    client.force_login(outsider)
    assert client.get(reverse("staff:letter", args=[letter.pk])).status_code in (403, 404)
    assert client.get(reverse("staff:letter_pdf", args=[letter.pk])).status_code in (403, 404)
    assert _issue(client, case).status_code in (403, 404)


def test_delivery_by_form_and_the_unit_timeline(client, manager, insider, case, media):
    client.force_login(manager)
    _issue(client, case)
    letter = Letter.objects.get()
    client.force_login(insider)
    response = client.post(reverse("staff:letter_deliver", args=[letter.pk]), {
        "method": "ems", "delivered_on": "2026-05-10", "tracking_no": "EA123456789CN", "note": "",
    })
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.status == "delivered" and letter.tracking_no == "EA123456789CN"
    unit_page = client.get(reverse("staff:unit", args=[case.unit_id])).content.decode()
    assert letter.number in unit_page and letter.pdf_sha256[:17] in unit_page


def test_the_front_desk_has_no_letters(client, front_desk, case):
    client.force_login(front_desk)
    assert client.get(reverse("staff:letters")).status_code == 403
