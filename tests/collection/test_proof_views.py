"""待补证据 on the legal page and the unit page, attachments from a phone, the letter channels gone from the contact form."""

import hashlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from arrears.collection import limitation, services
from arrears.collection.models import (
    AttemptAttachment,
    ContactAttempt,
    LimitationEvent,
    LimitationProof,
)
from arrears.core import roles
from arrears.estate.models import StaffScope
from tests import factories
from tests.collection.conftest import make_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALL_AT = datetime(2026, 5, 10, 10, 0, tzinfo=SHANGHAI)
LATER = datetime(2026, 5, 10, 10, 30, tzinfo=SHANGHAI)
RECORDING = b"ID3 owner says: I will pay 600 on the 17th"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def legal(estate):
    user = factories.user("legal", groups=[roles.LEGAL])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


def promise_on_call(case, staff):
    with time_machine.travel(CALL_AT, tick=False):
        return services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="call", outcome="promised",
                                    staff=staff, at=CALL_AT, promise_amount="600.00", promise_due=date(2026, 5, 17))


def test_the_legal_page_lists_the_unproven_promise_and_the_recording_clears_it(client, case, insider, legal):
    # given: a promise on a call, no recording
    promise_on_call(case, insider)
    event = LimitationEvent.objects.get()
    client.force_login(legal)
    # when
    with time_machine.travel(LATER, tick=False):
        html = client.get(reverse("staff:evidence_needed")).content.decode()
    # then: listed, linking to the unit page, with a phone upload
    assert html.count('data-testid="unproven-event"') == 1
    assert f'href="{reverse("staff:unit", args=[case.unit_id])}#evidence"' in html
    assert 'accept="audio/*,image/*,application/pdf" capture' in html and "业主承诺缴费" in html
    # when: legal uploads the recording
    with time_machine.travel(LATER, tick=False):
        response = client.post(reverse("staff:event_proof", args=[event.pk]), {
            "kind": "recording", "next": reverse("staff:evidence_needed"),
            "file": SimpleUploadedFile("call.m4a", RECORDING, content_type="audio/mp4")}, follow=True)
        html = response.content.decode()
    # then: attached to the call, the event proven, the page empty
    attachment = AttemptAttachment.objects.get()
    assert (attachment.attempt_id, attachment.kind, attachment.sha256, attachment.uploaded_by) == (
        event.attempt_id, "recording", hashlib.sha256(RECORDING).hexdigest(), legal)
    assert LimitationProof.objects.get().attachment == attachment
    assert 'data-testid="unproven-event"' not in html and "没有待补证据的事件" in html


def test_the_legal_page_is_for_legal_staff_and_managers_of_the_community(client, case, insider, estate):
    # given
    promise_on_call(case, insider)
    far = factories.user("far", groups=[roles.LEGAL])
    StaffScope.objects.create(user=far, community=estate["far_unit"].community)
    # then: a collector may not open it; legal staff of another community see nothing and cannot upload
    client.force_login(insider)
    assert client.get(reverse("staff:evidence_needed")).status_code == 403
    client.force_login(far)
    assert 'data-testid="unproven-event"' not in client.get(reverse("staff:evidence_needed")).content.decode()
    response = client.post(reverse("staff:event_proof", args=[LimitationEvent.objects.get().pk]), {
        "kind": "recording", "file": SimpleUploadedFile("call.m4a", RECORDING, content_type="audio/mp4")})
    assert response.status_code == 404 and not AttemptAttachment.objects.exists()


def test_the_legal_page_costs_the_same_queries_for_one_event_or_many(client, case, insider, legal, estate):
    promise_on_call(case, insider)
    client.force_login(legal)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("staff:evidence_needed"))
    for room in ("0201", "0301", "0401"):
        unit = factories.unit(estate["community"], building="3栋", entrance="2", room=room)
        owner = factories.owner(unit, f"业主{room}", start=date(2024, 1, 1))
        promise_on_call(make_case(unit, owner), insider)
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("staff:evidence_needed")).content.decode()
    assert html.count('data-testid="unproven-event"') == 4
    assert len(many) == len(one)


def test_the_unit_page_shows_waiting_events_and_offers_no_letter_channel(client, case, insider):
    # given
    promise_on_call(case, insider)
    client.force_login(insider)
    # when
    with time_machine.travel(LATER, tick=False):
        html = client.get(reverse("staff:unit", args=[case.unit_id])).content.decode()
    # then
    evidence = html[html.index('id="evidence"'):]
    assert evidence.count('data-testid="unproven-event"') == 1 and 'data-testid="attachment-upload"' in evidence
    channels = html[html.index('name="channel"'):]
    channels = channels[:channels.index("</select>")]
    assert 'value="call"' in channels and 'value="letter"' not in channels and 'value="lawyer_letter"' not in channels


def test_a_letter_delivered_posted_from_the_unit_page_is_refused(client, case, insider):
    # given
    client.force_login(insider)
    # when
    with time_machine.travel(LATER, tick=False):
        client.post(reverse("staff:case_attempt", args=[case.pk]), {"channel": "letter", "outcome": "delivered"})
    # then
    assert not ContactAttempt.objects.exists() and not LimitationEvent.objects.exists()


def test_a_collector_attaches_a_photo_from_the_unit_page_and_an_empty_file_is_refused(client, case, insider):
    # given
    attempt = promise_on_call(case, insider)
    client.force_login(insider)
    url = reverse("staff:unit_attachment", args=[case.unit_id])
    # when: an empty file
    with time_machine.travel(LATER, tick=False):
        html = client.post(url, {"attempt": attempt.pk, "kind": "photo",
                                 "file": SimpleUploadedFile("door.jpg", b"", content_type="image/jpeg")}, follow=True).content.decode()
    # then
    assert "文件是空的：door.jpg" in html and not AttemptAttachment.objects.exists()
    # when: a photo
    with time_machine.travel(LATER, tick=False):
        client.post(url, {"attempt": attempt.pk, "kind": "photo",
                          "file": SimpleUploadedFile("door.jpg", b"\xff\xd8\xff door", content_type="image/jpeg")})
    # then: kept with its SHA-256, and a photo proves no promise
    assert AttemptAttachment.objects.get().sha256 == hashlib.sha256(b"\xff\xd8\xff door").hexdigest()
    assert list(limitation.unproven_events()) == [LimitationEvent.objects.get()]


def test_legal_records_a_suit_with_its_court_receipt_on_the_unit_page(client, case, legal):
    client.force_login(legal)
    with time_machine.travel(LATER, tick=False):
        client.post(reverse("staff:case_suit", args=[case.pk]), {"filed_on": "2026-05-10", "court_case_number": "(2026)沪0115民初1号"})
        assert not LimitationEvent.objects.exists()
        client.post(reverse("staff:case_suit", args=[case.pk]), {
            "filed_on": "2026-05-10", "court_case_number": "(2026)沪0115民初1号",
            "file": SimpleUploadedFile("受理通知书.pdf", b"%PDF court", content_type="application/pdf")})
    event = LimitationEvent.objects.get()
    assert (event.kind, event.occurred_on, event.proofs.get().kind) == ("suit", date(2026, 5, 10), "court_receipt")


def test_legal_records_the_owners_written_acknowledgement(client, case, legal):
    client.force_login(legal)
    with time_machine.travel(LATER, tick=False):
        client.post(reverse("staff:case_acknowledgement", args=[case.pk]), {
            "acknowledged_on": "2026-05-09", "note": "业主签字确认欠费",
            "file": SimpleUploadedFile("确认书.jpg", b"\xff\xd8\xff ack", content_type="image/jpeg")})
    event = LimitationEvent.objects.get()
    assert (event.kind, event.occurred_on, event.proofs.get().sha256) == (
        "acknowledgement", date(2026, 5, 9), hashlib.sha256(b"\xff\xd8\xff ack").hexdigest())


def test_the_unit_page_lists_evidence_files_and_only_staff_in_scope_download_them(client, case, insider, neighbour):
    # given: a recording attached from the unit page
    attempt = promise_on_call(case, insider)
    client.force_login(insider)
    with time_machine.travel(LATER, tick=False):
        client.post(reverse("staff:unit_attachment", args=[case.unit_id]), {
            "attempt": attempt.pk, "kind": "recording", "file": SimpleUploadedFile("call.m4a", RECORDING, content_type="audio/mp4")})
        html = client.get(reverse("staff:unit", args=[case.unit_id])).content.decode()
    attachment = AttemptAttachment.objects.get()
    url = reverse("staff:evidence_file", args=["attachment", attachment.pk])
    # then: listed with its SHA-256, the download is the bytes uploaded
    files = html[html.index('data-testid="evidence-files"'):]
    assert url in files and hashlib.sha256(RECORDING).hexdigest() in files
    assert b"".join(client.get(url).streaming_content) == RECORDING
    # and: the recording proved the promise
    assert LimitationProof.objects.get().attachment == attachment
    # then: a colleague scoped to another building cannot download it
    client.force_login(neighbour)
    assert client.get(url).status_code == 404


def test_it_stores_a_file_sent_twice_once(client, case, insider, legal):
    # given: a promise on a call, and the same recording sent twice from the unit page (a double tap)
    attempt = promise_on_call(case, insider)
    event = LimitationEvent.objects.get()
    client.force_login(insider)
    url = reverse("staff:unit_attachment", args=[case.unit_id])
    # when
    with time_machine.travel(LATER, tick=False):
        for _ in range(2):
            client.post(url, {"attempt": attempt.pk, "kind": "recording",
                              "file": SimpleUploadedFile("call.m4a", RECORDING, content_type="audio/mp4")})
    # then: one attachment, one proof
    assert AttemptAttachment.objects.count() == 1 and LimitationProof.objects.filter(event=event).count() == 1
    # when: legal sends a scan twice for an event as proof
    client.force_login(legal)
    with time_machine.travel(LATER, tick=False):
        for _ in range(2):
            client.post(reverse("staff:event_proof", args=[event.pk]), {
                "kind": "recording", "file": SimpleUploadedFile("call.m4a", RECORDING, content_type="audio/mp4")})
    # then: still one of each
    assert AttemptAttachment.objects.count() == 1 and LimitationProof.objects.count() == 1


def test_it_records_an_acknowledgement_or_a_suit_sent_twice_once(client, case, legal):
    # given
    client.force_login(legal)
    # when: each form is sent twice with the same document
    with time_machine.travel(LATER, tick=False):
        for _ in range(2):
            client.post(reverse("staff:case_acknowledgement", args=[case.pk]), {
                "acknowledged_on": "2026-05-09", "note": "业主签字确认欠费",
                "file": SimpleUploadedFile("确认书.jpg", b"\xff\xd8\xff ack", content_type="image/jpeg")})
            client.post(reverse("staff:case_suit", args=[case.pk]), {
                "filed_on": "2026-05-10", "court_case_number": "(2026)沪0115民初1号",
                "file": SimpleUploadedFile("受理通知书.pdf", b"%PDF court", content_type="application/pdf")})
    # then: one event and one proof of each
    assert sorted(LimitationEvent.objects.values_list("kind", flat=True)) == ["acknowledgement", "suit"]
    assert LimitationProof.objects.count() == 2
