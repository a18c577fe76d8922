"""A letter's delivery record is evidence: a correction is a new row with who, when and why; the latest counts."""

from datetime import date

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from arrears.collection import limitation
from arrears.collection.assess import assess
from arrears.collection.models import ContactAttempt, LimitationEvent, LimitationProof
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.estate.models import StaffScope
from arrears.notices import letters
from arrears.notices.models import DeliveryCorrection, Letter, LetterBatch, MessageEvent
from tests import factories
from tests.notices.test_letters import ISSUE, street  # noqa: F401  (the fixture)

DELIVERED = date(2026, 5, 11)


@pytest.fixture
def delivered(street):  # noqa: F811
    """A collection letter posted by EMS and recorded as delivered on 11 May, tracking number mistyped."""
    letter = letters.issue_batch(kind="collection", cases=street["cases"][:1], issued_on=date(2026, 5, 10),
                                 staff=street["collector"]).letters.get()
    letters.record_delivery(letter=letter, method="ems", delivered_on=DELIVERED, staff=street["collector"],
                            tracking_no="EA000000000CN", note="本人签收")
    letter.refresh_from_db()
    return letter


def _written():
    return (DeliveryCorrection.objects.count(), AuditEvent.objects.filter(action="letters.delivery_corrected").count())


def _raw_refused(sql, params):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_corrects_a_tracking_number_with_a_new_row_and_keeps_the_original(delivered, street):  # noqa: F811
    # when the manager corrects the mistyped tracking number
    correction = letters.correct_delivery(letter=delivered, staff=street["manager"], reason="单号录错，以邮局回单为准",
                                          tracking_no="EA123456789CN")
    # then the letter keeps what was recorded at delivery, and the correction is what counts
    letter = Letter.objects.get(pk=delivered.pk)
    assert (letter.tracking_no, letter.delivery_method, letter.delivered_on) == ("EA000000000CN", "ems", DELIVERED)
    assert (correction.corrects, correction.corrected_by, correction.reason) == (None, street["manager"], "单号录错，以邮局回单为准")
    current = letter.delivery
    assert (current.tracking_no, current.method, current.note, current.delivered_on) == (
        "EA123456789CN", "ems", "本人签收", DELIVERED)
    assert current.correction == correction and current.recorded_by_id == street["manager"].pk
    # and the written demand follows: still one contact delivered on the delivery date, now proven by the right number
    assert ContactAttempt.objects.filter(channel="letter", outcome="delivered").current().count() == 1
    standing = LimitationEvent.objects.filter(limitation.standing())
    assert list(standing.values_list("kind", "occurred_on")) == [("written_demand", DELIVERED)]
    assert list(LimitationProof.objects.filter(event__in=standing).values_list("reference", flat=True)) == [
        f"{letter.number} EMS EA123456789CN"]
    assert _written() == (1, 1)


def test_a_correction_that_withdraws_the_proof_stops_the_restart(delivered, street):  # noqa: F811
    # given the written demand restarted limitation on 11 May, proven by the EMS tracking number
    today = timezone.localdate()  # proof counts from the day it was recorded
    def deadline():
        return next(e.limitation_deadline for e in assess(today) if e.unit_id == delivered.unit_id)

    before = deadline()
    assert before == date(2029, 5, 11)
    # when the manager admits the letter went as an SMS link, with nothing to prove it reached the owner
    letters.correct_delivery(letter=delivered, staff=street["manager"], reason="实际是短信链接发送，没有邮寄",
                             method="sms_link", tracking_no="")
    # then the demand no longer holds the period open: it waits for proof (待补证据)
    assert deadline() < before
    assert [e.kind for e in limitation.unproven_events()] == ["written_demand"]


def test_the_latest_correction_counts_and_points_at_the_one_before(delivered, street):  # noqa: F811
    # given
    first = letters.correct_delivery(letter=delivered, staff=street["manager"], reason="单号录错", tracking_no="EA111111111CN")
    scan = SimpleUploadedFile("签收单.jpg", b"\xff\xd8signed", content_type="image/jpeg")
    # when the second correction says it was handed over in person, with the signed receipt
    second = letters.correct_delivery(letter=delivered, staff=street["collector"], reason="实为当面送达，补签收单",
                                      method="hand", tracking_no="", proof=scan)
    # then
    assert second.corrects == first
    current = Letter.objects.get(pk=delivered.pk).delivery
    assert (current.method, current.tracking_no, current.correction) == ("hand", "", second)
    assert current.proof.read() == b"\xff\xd8signed" and len(current.proof_sha256) == 64
    # a third one that only adds a note carries the proof over
    third = letters.correct_delivery(letter=delivered, staff=street["manager"], reason="补充说明", note="业主本人在前台签收")
    assert (third.proof.name, third.proof_sha256, third.corrects) == (second.proof.name, second.proof_sha256, second)


@pytest.mark.parametrize(("values", "code"), [
    ({"reason": "  "}, "reason"),
    ({"reason": "无变化"}, "unchanged"),
    ({"reason": "改为挂号信", "method": "registered_mail", "tracking_no": ""}, "tracking_no"),
    ({"reason": "改为当面送达", "method": "hand", "tracking_no": ""}, "proof"),
    ({"reason": "未知方式", "method": "pigeon"}, "method"),
])
def test_it_refuses_a_correction_that_says_nothing_or_lacks_its_proof(delivered, street, values, code):  # noqa: F811
    with pytest.raises(DomainError) as error:
        letters.correct_delivery(letter=delivered, staff=street["manager"], **values)
    assert error.value.code == code
    assert _written() == (0, 0)


def test_it_refuses_to_correct_a_letter_that_was_not_delivered(street):  # noqa: F811
    letter = letters.issue_batch(kind="collection", cases=street["cases"][:1], issued_on=ISSUE,
                                 staff=street["collector"]).letters.get()
    with pytest.raises(DomainError) as error:
        letters.correct_delivery(letter=letter, staff=street["manager"], reason="单号录错", tracking_no="EA1CN")
    assert error.value.code == "status" and _written() == (0, 0)


def test_the_database_refuses_to_rewrite_a_delivery(delivered, street):  # noqa: F811
    # given a correction exists too
    correction = letters.correct_delivery(letter=delivered, staff=street["manager"], reason="单号录错",
                                          tracking_no="EA123456789CN")
    # when raw SQL tries to change the tracking number, the date or the status, or the correction
    _raw_refused("UPDATE notices_letter SET tracking_no = %s WHERE id = %s", ["EA999999999CN", delivered.pk])
    _raw_refused("UPDATE notices_letter SET delivered_on = %s WHERE id = %s", [date(2026, 5, 12), delivered.pk])
    _raw_refused("UPDATE notices_letter SET status = %s WHERE id = %s", ["issued", delivered.pk])
    _raw_refused("UPDATE notices_letter SET pdf_sha256 = %s WHERE id = %s", ["0" * 64, delivered.pk])
    _raw_refused("UPDATE notices_deliverycorrection SET tracking_no = %s WHERE id = %s", ["EA9CN", correction.pk])
    # then nothing changed
    letter = Letter.objects.get(pk=delivered.pk)
    assert (letter.tracking_no, letter.delivered_on, letter.status) == ("EA000000000CN", DELIVERED, "delivered")
    assert DeliveryCorrection.objects.get().tracking_no == "EA123456789CN"


def test_an_issued_letter_may_still_be_delivered_or_returned(street):  # noqa: F811
    # given two letters just issued: their delivery columns are still open
    first, second = letters.issue_batch(kind="collection", cases=street["cases"][:2], issued_on=ISSUE,
                                        staff=street["collector"]).letters.order_by("pk")
    # when
    letters.record_return(letter=first, staff=street["collector"], note="查无此人，邮局退回")
    letters.record_delivery(letter=second, method="ems", delivered_on=ISSUE, staff=street["collector"], tracking_no="EA2CN")
    # then
    assert list(Letter.objects.order_by("pk").values_list("status", "delivery_note")) == [
        ("returned", "查无此人，邮局退回"), ("delivered", "")]
    _raw_refused("UPDATE notices_letter SET status = %s, delivery_note = %s WHERE id = %s", ["delivered", "", first.pk])


def test_the_letter_page_shows_the_original_struck_through_and_takes_a_correction(client, delivered, street):  # noqa: F811
    # given
    client.force_login(street["manager"])
    url = reverse("staff:letter", args=[delivered.pk])
    # when the manager posts a correction from the letter page
    response = client.post(reverse("staff:letter_correct_delivery", args=[delivered.pk]), {
        "method": "ems", "tracking_no": "EA123456789CN", "note": "本人签收", "reason": "单号录错"})
    # then
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "<del>EMS EA000000000CN" in html and "EA123456789CN" in html and "单号录错" in html
    assert DeliveryCorrection.objects.get().corrected_by == street["manager"]


def test_finance_staff_cannot_correct_a_delivery(client, delivered, street):  # noqa: F811
    # given finance staff of the community: they see letters but do not record their delivery
    clerk = factories.user("clerk", groups=[roles.FINANCE])
    StaffScope.objects.create(user=clerk, community=street["community"])
    client.force_login(clerk)
    # when
    response = client.post(reverse("staff:letter_correct_delivery", args=[delivered.pk]), {
        "method": "ems", "tracking_no": "EA123456789CN", "reason": "单号录错"})
    # then
    assert response.status_code == 403 and _written() == (0, 0)


@pytest.mark.parametrize("model", [Letter, LetterBatch, DeliveryCorrection, MessageEvent, AuditEvent],
                         ids=lambda m: m._meta.label)
def test_the_admin_shows_letters_and_the_audit_trail_read_only(admin_client, delivered, street, model):  # noqa: F811
    # given one row of each (a message event needs a message: skip the row check when there is none)
    letters.correct_delivery(letter=delivered, staff=street["manager"], reason="单号录错", tracking_no="EA123456789CN")
    obj = model.objects.order_by("pk").first()
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    registered = admin.site._registry[model]
    # then
    assert not registered.has_add_permission(None) and not registered.has_delete_permission(None)
    assert admin_client.get(reverse(f"{prefix}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"{prefix}_add")).status_code == 403
    if obj is None:
        return
    before = list(model.objects.order_by("pk").values())
    page = admin_client.get(reverse(f"{prefix}_change", args=[obj.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.post(reverse(f"{prefix}_change", args=[obj.pk]), {"tracking_no": "X", "action": "x"}).status_code == 403
    assert admin_client.post(reverse(f"{prefix}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert list(model.objects.order_by("pk").values()) == before


def test_the_letter_admin_lists_its_corrections(admin_client, delivered, street):  # noqa: F811
    letters.correct_delivery(letter=delivered, staff=street["manager"], reason="单号录错，以邮局回单为准",
                             tracking_no="EA123456789CN")
    html = admin_client.get(reverse("admin:notices_letter_change", args=[delivered.pk])).content.decode()
    assert "EA000000000CN" in html and "EA123456789CN" in html and "单号录错，以邮局回单为准" in html


def test_it_records_a_correction_with_its_scan_sent_twice_once(delivered, street):  # noqa: F811
    # given: the same page read twice (a double tap): both requests hold the letter as it was
    first, second = Letter.objects.get(pk=delivered.pk), Letter.objects.get(pk=delivered.pk)
    values = {"staff": street["manager"], "reason": "补上签收单", "method": "hand"}
    letters.correct_delivery(letter=first, proof=SimpleUploadedFile("签收.jpg", b"\xff\xd8\xff signed"), **values)
    # when: the second request sends the same correction with the same scan
    with pytest.raises(DomainError) as refused:
        letters.correct_delivery(letter=second, proof=SimpleUploadedFile("签收.jpg", b"\xff\xd8\xff signed"), **values)
    # then: refused, one correction, one audit event
    assert (refused.value.code, refused.value.en) == ("unchanged", "this correction is already recorded")
    assert _written() == (1, 1)
