"""A limitation restart counts only with its proof (民法典第195条, DESIGN.md §3).

One unit of 100 m² at ¥2.00/m²/month, billed for January 2026 only: one charge of ¥200.00 due
2026-01-05, whose deadline is 2029-01-05 until a proven restart moves it.
"""

import hashlib
import json
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from arrears.collection import attachments, limitation, services
from arrears.collection.assess import assess
from arrears.collection.models import (
    AttemptAttachment,
    Case,
    ContactAttempt,
    LimitationEvent,
    LimitationProof,
    Promise,
    Task,
    TaskKind,
)
from arrears.collection.run import run_collection
from arrears.core.errors import DomainError
from arrears.estate.models import Contact
from arrears.ledger import services as ledger_services
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
CALL_AT = datetime(2026, 2, 2, 10, 0, tzinfo=SHANGHAI)  # a Monday morning
RECORDING = b"ID3\x03\x00 call recording bytes"
SCAN = b"%PDF-1.4 signed by the owner"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def estate():
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    Contact.objects.create(community=community, owner=owner, kind="mobile", value="13800001234")
    factories.tariff(community)
    ledger_services.bill(through=date(2026, 1, 1))
    with time_machine.travel(date(2026, 1, 6), tick=False):
        run_collection(as_of=date(2026, 1, 6))
    return {"community": community, "unit": unit, "owner": owner, "case": Case.objects.get(),
            "collector": factories.user("collector")}


def deadline(as_of: date) -> date:
    [entry] = assess(as_of)
    return entry.limitation_deadline


def report_deadline(as_of: date) -> str:
    out = StringIO()
    call_command("report", "cases", "--date", as_of.isoformat(), "--format", "json", stdout=out)
    [row] = json.loads(out.getvalue())
    return row["limitation_deadline"]


def upload(name="call.m4a", data=RECORDING, content_type="audio/mp4"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def promise_on_call(estate):
    with time_machine.travel(CALL_AT, tick=False):
        return services.log_attempt(unit=estate["unit"], owner=estate["owner"], case=estate["case"], channel="call",
                                    outcome="promised", staff=estate["collector"], at=CALL_AT, promise_amount="10.00",
                                    promise_due=date(2026, 2, 20))


def test_it_keeps_the_deadline_for_a_promise_without_a_recording_until_the_recording_is_attached(estate):
    # given: a ¥10 promise on a call, nothing recorded
    attempt = promise_on_call(estate)
    event = LimitationEvent.objects.get()
    # then: it waits for proof and does not move the deadline, in assess and in the report
    assert list(limitation.unproven_events()) == [event]
    assert deadline(date(2026, 2, 3)) == date(2029, 1, 5)
    assert report_deadline(date(2026, 2, 3)) == "2029-01-05"
    # when: the recording is attached a week later
    with time_machine.travel(datetime(2026, 2, 9, 18, 0, tzinfo=SHANGHAI), tick=False):
        attachment = attachments.add_attachment(attempt=attempt, kind="recording", upload=upload(), staff=estate["collector"])
    # then: proven from the upload on, restarting from the day of the call
    proof = LimitationProof.objects.get()
    assert (proof.event, proof.kind, proof.attachment, proof.added_by) == (event, "recording", attachment, estate["collector"])
    assert attachment.sha256 == hashlib.sha256(RECORDING).hexdigest()
    assert attachment.uploaded_by == estate["collector"] and attachment.file.read() == RECORDING
    assert list(limitation.unproven_events()) == []
    assert deadline(date(2026, 2, 8)) == date(2029, 1, 5)  # a past day's figures stay what they were
    assert deadline(date(2026, 2, 9)) == date(2029, 2, 2)
    assert report_deadline(date(2026, 2, 10)) == "2029-02-02"


def test_it_uses_the_proven_deadline_for_the_90_and_30_day_warnings(estate):
    # given: an unproven promise on 2026-02-02
    attempt = promise_on_call(estate)
    # when / then: the warning still comes 90 days before 2029-01-05
    with time_machine.travel(date(2028, 10, 7), tick=False):
        run_collection(as_of=date(2028, 10, 7))
    assert list(Task.objects.filter(kind=TaskKind.LIMITATION_WARNING).values_list("key", flat=True)) == [
        "limitation:2029-01-05:90"]
    # given: the recording is attached; 2029-02-02 less 90 days is 2028-11-04, less 30 is 2029-01-03
    with time_machine.travel(datetime(2028, 10, 8, 9, 0, tzinfo=SHANGHAI), tick=False):
        attachments.add_attachment(attempt=attempt, kind="recording", upload=upload(), staff=estate["collector"])
    for day in (date(2028, 11, 3), date(2028, 11, 4), date(2029, 1, 3)):
        with time_machine.travel(day, tick=False):
            run_collection(as_of=day)
    assert Case.objects.get().limitation_deadline == date(2029, 2, 2)
    assert list(Task.objects.filter(kind=TaskKind.LIMITATION_WARNING).order_by("pk").values_list("key", flat=True)) == [
        "limitation:2029-01-05:90", "limitation:2029-02-02:90", "limitation:2029-02-02:30"]


def test_it_refuses_a_letter_delivered_logged_by_hand(estate):
    # given
    before = (ContactAttempt.objects.count(), LimitationEvent.objects.count(), Task.objects.filter(status="done").count())
    for channel in ("letter", "lawyer_letter"):
        # when
        with pytest.raises(DomainError) as refused, time_machine.travel(CALL_AT, tick=False):
            services.log_attempt(unit=estate["unit"], owner=estate["owner"], case=estate["case"], channel=channel,
                                 outcome="delivered", staff=estate["collector"], at=CALL_AT)
        # then
        assert refused.value.code == "letter_channel"
        assert refused.value.zh == "催费函、律师函只能在函件模块登记送达"
    assert (ContactAttempt.objects.count(), LimitationEvent.objects.count(),
            Task.objects.filter(status="done").count()) == before
    assert deadline(date(2026, 2, 3)) == date(2029, 1, 5)


def test_an_sms_logged_as_delivered_restarts_nothing(estate):
    with time_machine.travel(CALL_AT, tick=False):
        services.log_attempt(unit=estate["unit"], owner=estate["owner"], case=estate["case"], channel="sms",
                             outcome="delivered", staff=estate["collector"], at=CALL_AT)
    assert LimitationEvent.objects.count() == 0
    assert deadline(date(2026, 2, 3)) == date(2029, 1, 5)


def test_a_plan_staff_accept_without_the_signed_plan_waits_for_it(estate):
    # given: staff accept a plan on 2026-02-02 with nothing signed
    with time_machine.travel(CALL_AT, tick=False):
        plan = services.propose_plan(case=estate["case"], months=3, first_due=date(2026, 3, 1), staff=estate["collector"])
        services.accept_plan(plan=plan, accepted_on=date(2026, 2, 2), staff=estate["collector"])
    event = LimitationEvent.objects.get()
    assert (event.kind, event.plan, event.occurred_on) == ("plan", plan, date(2026, 2, 2))
    assert deadline(date(2026, 2, 5)) == date(2029, 1, 5)
    assert list(limitation.unproven_events()) == [event]
    # when: the signed plan is uploaded on 2026-02-05
    with time_machine.travel(datetime(2026, 2, 5, 15, 0, tzinfo=SHANGHAI), tick=False):
        proof = limitation.attach_proof(event=event, staff=estate["collector"], proof=limitation.Proof(
            kind="signed_plan", upload=upload("plan.pdf", SCAN, "application/pdf")))
    # then
    assert proof.sha256 == hashlib.sha256(SCAN).hexdigest() and proof.file.read() == SCAN
    assert deadline(date(2026, 2, 5)) == date(2029, 2, 2)


def test_a_plan_accepted_with_its_signed_plan_moves_the_deadline_at_once(estate):
    with time_machine.travel(CALL_AT, tick=False):
        plan = services.propose_plan(case=estate["case"], months=3, first_due=date(2026, 3, 1), staff=estate["collector"])
        services.accept_plan(plan=plan, accepted_on=date(2026, 2, 2), staff=estate["collector"], proof=limitation.Proof(
            kind="signed_plan", upload=upload("plan.jpg", b"\xff\xd8\xff signed", "image/jpeg")))
    assert LimitationProof.objects.get().kind == "signed_plan"
    assert deadline(date(2026, 2, 2)) == date(2029, 2, 2)


def test_it_refuses_a_proof_of_the_wrong_kind_and_writes_nothing(estate):
    # given
    promise_on_call(estate)
    event = LimitationEvent.objects.get()
    # when / then: a court receipt does not prove a promise, a photo is not a recording
    with pytest.raises(DomainError) as wrong_kind:
        limitation.attach_proof(event=event, staff=estate["collector"], proof=limitation.Proof(
            kind="court_receipt", upload=upload("receipt.pdf", SCAN, "application/pdf")))
    assert wrong_kind.value.code == "proof_kind"
    with pytest.raises(DomainError) as not_audio:
        limitation.attach_proof(event=event, staff=estate["collector"], proof=limitation.Proof(
            kind="recording", upload=upload("photo.jpg", b"\xff\xd8\xff", "image/jpeg")))
    assert not_audio.value.code == "file_type"
    assert LimitationProof.objects.count() == 0


@pytest.mark.parametrize(("name", "data", "content_type", "code"), [
    ("call.m4a", b"", "audio/mp4", "file_empty"),
    ("notes.docx", b"PK\x03\x04", "application/octet-stream", "file_type"),
    ("call.exe", b"MZ", "audio/mpeg", "file_type"),
    ("call.mp3", b"ID3", "text/html", "file_type"),
])
def test_it_refuses_an_empty_or_unknown_attachment_with_a_reason(estate, name, data, content_type, code):
    # given
    attempt = promise_on_call(estate)
    # when
    with pytest.raises(DomainError) as refused:
        attachments.add_attachment(attempt=attempt, kind="other", upload=upload(name, data, content_type),
                                   staff=estate["collector"])
    # then
    assert refused.value.code == code
    assert AttemptAttachment.objects.count() == 0 and LimitationProof.objects.count() == 0


def test_it_refuses_an_attachment_over_the_size_limit(estate, monkeypatch):
    attempt = promise_on_call(estate)
    monkeypatch.setattr(limitation, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(DomainError) as refused:
        attachments.add_attachment(attempt=attempt, kind="recording", upload=upload(data=b"x" * 11), staff=estate["collector"])
    assert refused.value.code == "file_size"
    assert AttemptAttachment.objects.count() == 0


def test_a_photo_attached_to_the_call_does_not_prove_the_promise(estate):
    attempt = promise_on_call(estate)
    with time_machine.travel(CALL_AT, tick=False):
        attachment = attachments.add_attachment(attempt=attempt, kind="photo", upload=upload("door.png", b"\x89PNG", "image/png"),
                                                staff=estate["collector"])
    assert attachment.sha256 == hashlib.sha256(b"\x89PNG").hexdigest()
    assert LimitationProof.objects.count() == 0
    assert deadline(date(2026, 2, 3)) == date(2029, 1, 5)


def test_a_written_acknowledgement_with_its_document_moves_the_deadline(estate):
    # when
    with time_machine.travel(datetime(2026, 3, 10, 11, 0, tzinfo=SHANGHAI), tick=False):
        event = limitation.record_acknowledgement(case=estate["case"], acknowledged_on=date(2026, 3, 9),
                                                  document=upload("ack.pdf", SCAN, "application/pdf"), staff=estate["collector"])
    # then
    proof = event.proofs.get()
    assert (event.kind, event.occurred_on, proof.kind, proof.sha256) == (
        "acknowledgement", date(2026, 3, 9), "written_acknowledgement", hashlib.sha256(SCAN).hexdigest())
    assert deadline(date(2026, 3, 10)) == date(2029, 3, 9)


def test_a_suit_needs_the_court_receipt(estate):
    # when / then: no receipt, nothing written
    with time_machine.travel(datetime(2026, 4, 1, 11, 0, tzinfo=SHANGHAI), tick=False):
        with pytest.raises(DomainError) as refused:
            limitation.record_suit(case=estate["case"], filed_on=date(2026, 4, 1), court_receipt=None, staff=estate["collector"])
        assert refused.value.code == "file" and LimitationEvent.objects.count() == 0
        # when: filed with the receipt
        event = limitation.record_suit(case=estate["case"], filed_on=date(2026, 4, 1), staff=estate["collector"],
                                       court_case_number="(2026)沪0115民初1234号",
                                       court_receipt=upload("receipt.jpg", b"\xff\xd8\xff court", "image/jpeg"))
    # then
    proof = event.proofs.get()
    assert (event.kind, proof.kind, proof.reference) == ("suit", "court_receipt", "(2026)沪0115民初1234号")
    assert deadline(date(2026, 4, 1)) == date(2029, 4, 1)


def test_a_promise_made_without_an_attempt_is_proven_by_the_owners_written_acknowledgement(estate):
    with time_machine.travel(CALL_AT, tick=False):
        services.make_promise(case=estate["case"], amount="100.00", due_on=date(2026, 2, 20), staff=estate["collector"])
        event = LimitationEvent.objects.get()
        assert Promise.objects.get().attempt is None and deadline(date(2026, 2, 2)) == date(2029, 1, 5)
        limitation.attach_proof(event=event, staff=estate["collector"], proof=limitation.Proof(
            kind="written_acknowledgement", upload=upload("wechat.png", b"\x89PNG msg", "image/png")))
    assert deadline(date(2026, 2, 2)) == date(2029, 2, 2)


# -- a correction carries the restart with it ----------------------------------------------------


def test_a_promise_corrected_away_restarts_nothing_from_the_day_of_the_correction(estate):
    # given: a recorded promise that moved the deadline to 2029-02-02
    attempt = promise_on_call(estate)
    with time_machine.travel(datetime(2026, 2, 2, 18, 0, tzinfo=SHANGHAI), tick=False):
        attachments.add_attachment(attempt=attempt, kind="recording", upload=upload(), staff=estate["collector"])
    assert deadline(date(2026, 2, 3)) == date(2029, 2, 2)
    # when: on 2026-02-05 the collector corrects it: the owner never promised
    with time_machine.travel(datetime(2026, 2, 5, 9, 0, tzinfo=SHANGHAI), tick=False):
        services.correct_attempt(attempt=attempt, staff=estate["collector"], correction_reason="听错了，业主没有承诺",
                                 outcome="answered")
    # then: the restart goes with the promise; a past day's figures stay what they were
    assert deadline(date(2026, 2, 4)) == date(2029, 2, 2)
    assert deadline(date(2026, 2, 5)) == date(2029, 1, 5)
    assert list(limitation.unproven_events()) == []
    assert Promise.objects.get().status == "cancelled"


def test_a_correction_of_the_notes_keeps_the_proven_promise(estate):
    # given: a recorded promise
    attempt = promise_on_call(estate)
    with time_machine.travel(datetime(2026, 2, 2, 18, 0, tzinfo=SHANGHAI), tick=False):
        attachments.add_attachment(attempt=attempt, kind="recording", upload=upload(), staff=estate["collector"])
    # when: only the notes are corrected
    with time_machine.travel(datetime(2026, 2, 5, 9, 0, tzinfo=SHANGHAI), tick=False):
        correction = services.correct_attempt(attempt=attempt, staff=estate["collector"], correction_reason="补记",
                                              notes="业主说月底发工资后缴")
    # then: the correction's promise is proven by the same recording; the deadline stays
    event = LimitationEvent.objects.get(attempt=correction)
    assert LimitationProof.objects.get(event=event).attachment.attempt == attempt
    assert deadline(date(2026, 2, 6)) == date(2029, 2, 2)
    assert list(limitation.unproven_events()) == []


def test_a_recording_attached_to_the_original_proves_the_corrected_promise(estate):
    # given: an unrecorded promise whose notes were corrected
    attempt = promise_on_call(estate)
    with time_machine.travel(datetime(2026, 2, 3, 9, 0, tzinfo=SHANGHAI), tick=False):
        correction = services.correct_attempt(attempt=attempt, staff=estate["collector"], correction_reason="补记",
                                              notes="月底缴")
    assert [e.attempt for e in limitation.unproven_events()] == [correction]
    # when: the recording is attached to the call as first logged
    with time_machine.travel(datetime(2026, 2, 4, 9, 0, tzinfo=SHANGHAI), tick=False):
        attachments.add_attachment(attempt=attempt, kind="recording", upload=upload(), staff=estate["collector"])
    # then: the standing promise is proven, the superseded one is not
    assert list(LimitationProof.objects.values_list("event__attempt", flat=True)) == [correction.pk]
    assert deadline(date(2026, 2, 4)) == date(2029, 2, 2)


# -- never later than the proof: what an owner's lawyer would try -------------------------------


def test_it_does_not_let_a_recording_of_one_day_prove_a_promise_moved_to_another(estate):
    # given: a promise on the call of 2026-02-02, its recording attached that evening
    attempt = promise_on_call(estate)
    with time_machine.travel(datetime(2026, 2, 2, 18, 0, tzinfo=SHANGHAI), tick=False):
        recording = attachments.add_attachment(attempt=attempt, kind="recording", upload=upload(), staff=estate["collector"])
    assert deadline(date(2026, 2, 3)) == date(2029, 2, 2)
    # when: on 2026-02-05 a correction says the call was made on 2026-02-04
    with time_machine.travel(datetime(2026, 2, 5, 9, 0, tzinfo=SHANGHAI), tick=False):
        correction = services.correct_attempt(attempt=attempt, staff=estate["collector"], correction_reason="日期记错",
                                              at=datetime(2026, 2, 4, 10, 0, tzinfo=SHANGHAI))
    # then: the recording of 2026-02-02 proves no promise of 2026-02-04: it waits for its own proof,
    # and the deadline falls back to the unrestarted one instead of moving two days later
    event = LimitationEvent.objects.get(attempt=correction)
    assert (event.occurred_on, LimitationProof.objects.filter(event=event).count()) == (date(2026, 2, 4), 0)
    assert [e.attempt for e in limitation.unproven_events()] == [correction]
    assert deadline(date(2026, 2, 5)) == date(2029, 1, 5)
    # and attaching the old recording to the moved promise by hand is refused, writing nothing
    with pytest.raises(DomainError) as refused:
        limitation.attach_proof(event=event, staff=estate["collector"],
                                proof=limitation.Proof(kind="recording", attachment=recording))
    assert refused.value.code == "attachment_date"
    assert LimitationProof.objects.filter(event=event).count() == 0
    # when: the recording of the call of 2026-02-04 is attached to the correction
    with time_machine.travel(datetime(2026, 2, 5, 10, 0, tzinfo=SHANGHAI), tick=False):
        attachments.add_attachment(attempt=correction, kind="recording", upload=upload(), staff=estate["collector"])
    # then: proven, from the day it proves
    assert deadline(date(2026, 2, 5)) == date(2029, 2, 4)


def test_it_does_not_restart_limitation_from_a_payment_that_was_reversed(estate):
    # given: ¥30.00 paid on 2026-02-10 that stands, and ¥50.00 paid on 2026-03-02 that bounced and was reversed on 2026-03-10
    unit, owner = estate["unit"], estate["owner"]
    with time_machine.travel(date(2026, 2, 10), tick=False):
        ledger_services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="30.00", paid_on=date(2026, 2, 10),
                                       method="cash")
    with time_machine.travel(date(2026, 3, 2), tick=False):
        bounced = ledger_services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="50.00",
                                                 paid_on=date(2026, 3, 2), method="bank_transfer")
    assert deadline(date(2026, 3, 5)) == date(2029, 3, 2)  # before the reversal, the later part payment counted
    with time_machine.travel(date(2026, 3, 10), tick=False):
        ledger_services.reverse_payment(payment_id=bounced.pk, reversed_on=date(2026, 3, 10), reason="退票")
    # when / then: from the reversal on, only the standing part payment restarts the period
    assert deadline(date(2026, 3, 10)) == date(2029, 2, 10)
    assert deadline(date(2026, 3, 5)) == date(2029, 3, 2)  # a past day's figures stay what they were


def test_it_refuses_a_plan_accepted_on_a_day_still_to_come_and_writes_nothing(estate):
    # given: on 2026-02-02 a proposed plan and its signed plan in hand
    with time_machine.travel(CALL_AT, tick=False):
        plan = services.propose_plan(case=estate["case"], months=3, first_due=date(2026, 3, 1), staff=estate["collector"])
        # when: staff enter an acceptance date of 2026-12-01, which would restart the period ten months after the signature
        with pytest.raises(DomainError) as refused:
            services.accept_plan(plan=plan, accepted_on=date(2026, 12, 1), staff=estate["collector"], proof=limitation.Proof(
                kind="signed_plan", upload=upload("plan.pdf", SCAN, "application/pdf")))
    # then
    plan.refresh_from_db()
    assert refused.value.code == "accepted_on"
    assert (plan.status, LimitationEvent.objects.count(), LimitationProof.objects.count()) == ("proposed", 0, 0)
    assert deadline(date(2026, 12, 1)) == date(2029, 1, 5)


def test_it_records_no_limitation_event_dated_after_today(estate):
    # when: any path asks for a restart dated tomorrow
    with time_machine.travel(CALL_AT, tick=False), pytest.raises(DomainError) as refused:
        limitation.record_event(community_id=estate["community"].pk, unit_id=estate["unit"].pk, owner_id=estate["owner"].pk,
                                kind="acknowledgement", occurred_on=date(2026, 2, 3), staff=estate["collector"],
                                proof=limitation.Proof(kind="written_acknowledgement",
                                                       upload=upload("note.pdf", SCAN, "application/pdf")))
    # then
    assert refused.value.code == "date"
    assert (LimitationEvent.objects.count(), LimitationProof.objects.count()) == (0, 0)
