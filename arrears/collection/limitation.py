"""Limitation restarts (民法典第195条) and their proof: a restart moves a deadline only when proven.

An event (a letter that reached the owner, a promise, an accepted plan, the owner's written
acknowledgement, a suit) is recorded as a `LimitationEvent`; it counts once a `LimitationProof`
row points at it. The proofs DESIGN.md §3 accepts, by event:

- written demand: a letter delivered through the letters module with its tracking number
  (registered mail, EMS) or the owner's signed receipt — never a hand-logged "letter delivered";
- promise: a recording attached to the attempt it was taken on, or the owner's written
  acknowledgement (an uploaded document);
- plan: the owner's own request in the portal, or the signed plan uploaded;
- acknowledgement: the uploaded document, or the owner's portal action;
- suit: the court's receipt.
Part payments are read from the ledger's allocations: a payment is its own proof.

Timing: an event counts from the day its first proof was added, and then restarts the period
from the event's own date — the owner promised on the day of the call; the recording attached a
week later proves that day. An assessment of a past date sees only the proof held on that date,
so a report for a given day does not change afterwards. Paths that are their own proof (a
letter with its tracking number, a portal request, a suit with its receipt) write the event and
its proof in one transaction. Events and proofs are append-only: proving is inserting a row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from arrears.collection.models import (
    AttachmentKind,
    AttemptAttachment,
    Case,
    CaseStatus,
    Channel,
    ContactAttempt,
    LimitationEvent,
    LimitationEventKind,
    LimitationProof,
    Outcome,
    ProofKind,
)
from arrears.core.errors import DomainError
from arrears.estate.models import Unit

# Letters reach the owner only through the letters module (notices/letters.py), which holds the proof.
LETTER_CHANNELS = frozenset({Channel.LETTER, Channel.LAWYER_LETTER})
PROOFS_FOR = {
    LimitationEventKind.WRITTEN_DEMAND: frozenset({ProofKind.LETTER_DELIVERY}),
    LimitationEventKind.PROMISE: frozenset({ProofKind.RECORDING, ProofKind.WRITTEN_ACKNOWLEDGEMENT}),
    LimitationEventKind.PLAN: frozenset({ProofKind.PORTAL, ProofKind.SIGNED_PLAN}),
    LimitationEventKind.ACKNOWLEDGEMENT: frozenset({ProofKind.WRITTEN_ACKNOWLEDGEMENT, ProofKind.PORTAL}),
    LimitationEventKind.SUIT: frozenset({ProofKind.COURT_RECEIPT}),
}
# What staff can upload for an event (the owner's portal action is never uploaded).
UPLOADABLE = frozenset(set(ProofKind.values) - {ProofKind.PORTAL})
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
AUDIO, IMAGE, PDF = "audio", "image", "pdf"
EXTENSIONS = {
    **dict.fromkeys((".mp3", ".m4a", ".aac", ".amr", ".wav", ".ogg", ".oga", ".opus", ".3gp", ".3gpp", ".weba"), AUDIO),
    **dict.fromkeys((".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".gif"), IMAGE),
    ".pdf": PDF,
}
DOCUMENT = frozenset({IMAGE, PDF})
ANY_FILE = frozenset({AUDIO, IMAGE, PDF})
FAMILIES_FOR_PROOF = {kind: DOCUMENT for kind in ProofKind.values} | {ProofKind.RECORDING: frozenset({AUDIO})}
FAMILIES_FOR_ATTACHMENT = {
    AttachmentKind.RECORDING: frozenset({AUDIO}), AttachmentKind.PHOTO: frozenset({IMAGE}),
    AttachmentKind.RECEIPT: DOCUMENT, AttachmentKind.OTHER: ANY_FILE,
}
FAMILY_LABELS = {AUDIO: ("录音", "an audio recording"), IMAGE: ("照片", "a photo"), PDF: ("PDF 扫描件", "a PDF scan")}
TEXT_LIMIT = 300
# What a program or a web page starts with: a file so named as a recording or photo is refused
# (the name decides the family, the content must not contradict it). PE, ELF, Mach-O, a script,
# an archive (apk, jar), HTML or PHP.
# (AMR recordings start with "#!AMR": a script's "#!" is followed by a path.)
EXECUTABLE_STARTS = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe",
                     b"#!/", b"#! /", b"PK\x03\x04")
PAGE_STARTS = (b"<?php", b"<script", b"<html", b"<!doctype html")


@dataclass(frozen=True)
class Proof:
    """What proves an event: an uploaded file, an attempt's attachment, or a pointer to proof held
    elsewhere (a letter's number and tracking number, the SHA-256 of its signed receipt, a portal request)."""

    kind: str
    upload: object | None = None
    attachment: AttemptAttachment | None = None
    reference: str = ""
    sha256: str = ""
    note: str = ""


@dataclass(frozen=True)
class LetterDelivery:
    """A letter the letters module recorded as delivered: its number and what proves the delivery
    (the tracking number of registered mail or EMS, the SHA-256 of the owner's signed receipt)."""

    number: str
    method: str
    tracking_no: str = ""
    receipt_sha256: str = ""

    @property
    def proof(self) -> Proof | None:
        if not (self.tracking_no or self.receipt_sha256):
            return None
        reference = " ".join(part for part in (self.number, self.method, self.tracking_no) if part)
        return Proof(kind=ProofKind.LETTER_DELIVERY, reference=reference, sha256=self.receipt_sha256)


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    sha256: str
    name: str


def check_upload(upload, families=ANY_FILE) -> CheckedFile:
    """Refuse a missing, empty, oversized or unknown file; return its bytes and their SHA-256."""
    if upload is None:
        raise DomainError("请选择要上传的文件", "choose a file to upload", code="file")
    if upload.size > MAX_UPLOAD_BYTES:
        raise DomainError(f"文件不能超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB",
                          f"the file may not exceed {MAX_UPLOAD_BYTES // 1024 // 1024} MB", code="file_size")
    name = PurePosixPath(upload.name or "").name
    family = EXTENSIONS.get(PurePosixPath(name).suffix.lower())
    # The name's extension decides; the type the phone declares must agree with it, or say nothing
    # (octet-stream). Some phones record calls into a .3gp or .m4a they call video.
    declared = (getattr(upload, "content_type", "") or "application/octet-stream").lower()
    declared_family = {"audio": AUDIO, "image": IMAGE}.get(declared.split("/")[0]) or (
        PDF if declared == "application/pdf" else "" if declared == "application/octet-stream" else None)
    if family == AUDIO and declared.startswith("video/"):
        declared_family = AUDIO
    if family is None or declared_family not in ("", family):
        raise DomainError(f"不支持的文件类型：{name or '—'}（只收录音、照片或 PDF）",
                          f"unsupported file type: {name or '-'} (audio, photo or PDF only)", code="file_type")
    if family not in families:
        wanted_zh = "、".join(FAMILY_LABELS[f][0] for f in sorted(families))
        wanted_en = ", ".join(FAMILY_LABELS[f][1] for f in sorted(families))
        raise DomainError(f"此处须上传{wanted_zh}：{name}", f"this needs {wanted_en}: {name}", code="file_type")
    data = upload.read()
    if not data:
        raise DomainError(f"文件是空的：{name}", f"the file is empty: {name}", code="file_empty")
    if data.startswith(EXECUTABLE_STARTS) or data[:64].lstrip().lower().startswith(PAGE_STARTS):
        raise DomainError(f"文件内容不是录音、照片或 PDF（像是程序或网页）：{name}",
                          f"the file is not audio, a photo or a PDF (it looks like a program or a web page): {name}",
                          code="file_type")
    return CheckedFile(data=data, sha256=hashlib.sha256(data).hexdigest(), name=name)


def stored_name(prefix: str, name: str) -> str:
    return f"{prefix}-{name}"[-100:]


# -- proof ----------------------------------------------------------------------------------------


def check_proof_kind(event: LimitationEvent, kind: str) -> None:
    """Refuse a proof that does not prove this kind of event (a court receipt for a promise, say)."""
    allowed = PROOFS_FOR.get(event.kind, frozenset())
    if kind not in allowed:
        labels_zh = "、".join(str(ProofKind(value).label) for value in sorted(allowed))
        raise DomainError(f"{event.get_kind_display()}须以{labels_zh}为证",
                          f"a {event.kind} event is proven by {', '.join(sorted(allowed))} only", code="proof_kind")


def _validate_proof(event: LimitationEvent, proof: Proof) -> CheckedFile | None:
    check_proof_kind(event, proof.kind)
    if len(proof.reference) > 200 or len(proof.note) > TEXT_LIMIT:
        raise DomainError(f"凭证编号最多 200 字，说明最多 {TEXT_LIMIT} 字",
                          f"the reference is at most 200 characters, the note {TEXT_LIMIT}", code="note")
    if proof.attachment is not None:
        attachment = proof.attachment
        if proof.kind != ProofKind.RECORDING or attachment.kind != AttachmentKind.RECORDING:
            raise DomainError("只有录音附件可以证明承诺", "only a recording attachment proves a promise", code="proof_kind")
        if event.attempt_id is None or attachment.attempt_id not in contact_versions(event.attempt):
            raise DomainError("录音不属于该承诺所在的联系记录", "the recording belongs to another contact attempt", code="attachment")
        if event.occurred_on is not None and timezone.localdate(attachment.attempt.at) != event.occurred_on:
            # A correction may move the call to another day: the recording proves the day it was attached to.
            raise DomainError("录音所在的联系记录与承诺不是同一天：请上传该日通话的录音",
                              "the recording is of a call on another day: attach the recording of that day's call",
                              code="attachment_date")
        return None
    if proof.upload is not None:
        return check_upload(proof.upload, FAMILIES_FOR_PROOF[proof.kind])
    if not (proof.reference.strip() or proof.sha256):
        raise DomainError(f"请上传{ProofKind(proof.kind).label}", f"upload the {proof.kind} file", code="file")
    return None


def _write_proof(event: LimitationEvent, proof: Proof, checked: CheckedFile | None, staff, now: datetime) -> LimitationProof:
    row = LimitationProof(
        community_id=event.community_id, event=event, kind=proof.kind, attachment=proof.attachment,
        reference=proof.reference.strip(), note=proof.note.strip(), sha256=checked.sha256 if checked else proof.sha256,
        added_by=staff, added_at=now,
    )
    if checked is not None:
        row.file.save(stored_name(f"{event.pk}-{proof.kind}", checked.name), ContentFile(checked.data), save=False)
    row.save()
    return row


def attach_proof(*, event: LimitationEvent, proof: Proof, staff, now: datetime | None = None) -> LimitationProof:
    """Prove an event: a new proof row (nothing on the event changes); the deadline moves from then on."""
    checked = _validate_proof(event, proof)
    with transaction.atomic():
        # The same file sent twice for one event (a double tap) is one proof.
        list(LimitationEvent.objects.select_for_update().filter(pk=event.pk).values_list("pk", flat=True))
        same = _same_proof(LimitationProof.objects.filter(event=event), proof, checked)
        if same is not None:
            return same
        return _write_proof(event, proof, checked, staff, now or timezone.now())


def _same_proof(proofs, proof: Proof, checked: CheckedFile | None) -> LimitationProof | None:
    """A proof already written with the same file (or attachment), kind and reference."""
    if checked is None and proof.attachment is None:
        return None
    found = proofs.filter(kind=proof.kind, reference=proof.reference.strip())
    found = found.filter(sha256=checked.sha256) if checked is not None else found.filter(attachment=proof.attachment)
    return found.order_by("pk").first()


def record_event(*, community_id: int, unit_id: int, owner_id: int, kind: str, occurred_on: date, staff=None,
                 attempt=None, plan=None, note: str = "", proof: Proof | None = None,
                 now: datetime | None = None) -> LimitationEvent:
    """Record a restart; with `proof` it is proven in the same transaction, without it it waits for proof (待补证据)."""
    if kind not in LimitationEventKind.values:
        raise DomainError(f"时效中断事件类型无效：{kind}", f"unknown limitation event kind: {kind}", code="kind")
    # A restart dated after today would move the deadline beyond anything its proof can show.
    _day_on_or_before(occurred_on, timezone.localdate(now) if now else timezone.localdate(),
                      what_zh="时效中断日期", what_en="limitation event's date")
    if proof is None and kind == LimitationEventKind.PROMISE and attempt is not None and attempt.corrects_id is not None:
        # A correction re-describes a call already recorded: the recording of the call proves it too.
        # Only a recording of a version made the same day: a correction that moves the call to
        # another day needs the recording of that day's call.
        recording = next((row for row in AttemptAttachment.objects.filter(
            attempt_id__in=contact_versions(attempt), kind=AttachmentKind.RECORDING).select_related("attempt").order_by("pk")
            if timezone.localdate(row.attempt.at) == occurred_on), None)
        if recording is not None:
            proof = Proof(kind=ProofKind.RECORDING, attachment=recording)
    probe = LimitationEvent(community_id=community_id, kind=kind, attempt=attempt, occurred_on=occurred_on)
    checked = _validate_proof(probe, proof) if proof is not None else None
    with transaction.atomic():
        if checked is not None:
            # An acknowledgement or a suit sent twice with the same document is recorded once.
            list(Unit.objects.select_for_update().filter(pk=unit_id).values_list("pk", flat=True))
            same = _same_proof(LimitationProof.objects.filter(
                event__unit_id=unit_id, event__owner_id=owner_id, event__kind=kind, event__occurred_on=occurred_on,
                event__attempt=attempt, event__plan=plan), proof, checked)
            if same is not None:
                return same.event
        event = LimitationEvent.objects.create(community_id=community_id, unit_id=unit_id, owner_id=owner_id, kind=kind,
                                               occurred_on=occurred_on, attempt=attempt, plan=plan, note=note[:TEXT_LIMIT])
        if proof is not None:
            _write_proof(event, proof, checked, staff, now or timezone.now())
    return event


def record_written_demand(*, attempt, letter: LetterDelivery, staff) -> LimitationEvent:
    """A letter reached the owner (called by log_attempt for the letters module): proven when it has its proof."""
    return record_event(
        community_id=attempt.community_id, unit_id=attempt.unit_id, owner_id=attempt.owner_id,
        kind=LimitationEventKind.WRITTEN_DEMAND, occurred_on=timezone.localdate(attempt.at), attempt=attempt, staff=staff,
        note=f"{Channel(attempt.channel).label} {letter.number}", proof=letter.proof,
    )


def _day_on_or_before(day, today: date, *, what_zh: str, what_en: str) -> date:
    if not isinstance(day, date):
        raise DomainError(f"请填写{what_zh}", f"the {what_en} is required", code="date")
    if day > today:
        raise DomainError(f"{what_zh}不能晚于今天", f"the {what_en} cannot be in the future", code="date")
    return day


def record_acknowledgement(*, case: Case, acknowledged_on: date, document, staff, note: str = "") -> LimitationEvent:
    """The owner acknowledged the debt in writing (a signed note, a message): the event with its document."""
    _day_on_or_before(acknowledged_on, timezone.localdate(), what_zh="确认日期", what_en="acknowledgement date")
    return record_event(
        community_id=case.community_id, unit_id=case.unit_id, owner_id=case.owner_id,
        kind=LimitationEventKind.ACKNOWLEDGEMENT, occurred_on=acknowledged_on, staff=staff, note=note,
        proof=Proof(kind=ProofKind.WRITTEN_ACKNOWLEDGEMENT, upload=document, note=note),
    )


def record_suit(*, case: Case, filed_on: date, court_receipt, staff, court_case_number: str = "",
                note: str = "") -> LimitationEvent:
    """A suit was filed (民法典第195条第三项): the event with the court's receipt, or nothing."""
    if case.status != CaseStatus.OPEN:
        raise DomainError("案件已结案", "the case is closed", code="case_closed")
    _day_on_or_before(filed_on, timezone.localdate(), what_zh="起诉日期", what_en="filing date")
    if court_receipt is None:
        raise DomainError("起诉须上传法院的受理凭证", "a suit needs the court's receipt", code="file")
    return record_event(
        community_id=case.community_id, unit_id=case.unit_id, owner_id=case.owner_id, kind=LimitationEventKind.SUIT,
        occurred_on=filed_on, staff=staff, note=note or court_case_number,
        proof=Proof(kind=ProofKind.COURT_RECEIPT, upload=court_receipt, reference=court_case_number, note=note),
    )


# -- reads ----------------------------------------------------------------------------------------


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def proven(as_of: date | None = None) -> Exists:
    """For a LimitationEvent queryset: it had a proof by the end of `as_of` (any proof when None)."""
    proofs = LimitationProof.objects.filter(event_id=OuterRef("pk"))
    if as_of is not None:
        proofs = proofs.filter(added_at__lt=_end_of(as_of))
    return Exists(proofs)


def standing(as_of: date | None = None) -> Q:
    """For a LimitationEvent queryset: not set off by a version of a contact that a correction
    replaced (by the end of `as_of`). Every effect of an attempt follows its latest correction:
    a promise corrected away restarts nothing."""
    original = Coalesce(OuterRef("attempt__corrects_id"), OuterRef("attempt_id"))
    later = ContactAttempt.objects.filter(corrects_id=original, pk__gt=OuterRef("attempt_id"))
    if as_of is not None:
        later = later.filter(created_at__lt=_end_of(as_of))
    return Q(attempt__isnull=True) | ~Exists(later)


def contact_versions(attempt) -> list[int]:
    """The ids of every version of one contact: the original and each of its corrections."""
    original_id = attempt.corrects_id or attempt.pk
    return [original_id, *ContactAttempt.objects.filter(corrects_id=original_id).values_list("pk", flat=True)]


def unproven_events(events=None, *, units=None):
    """待补证据: events without proof of owners with an open case on the unit, newest first."""
    events = LimitationEvent.objects.all() if events is None else events
    if units is not None:
        events = events.filter(unit__in=units)
    open_case = Case.objects.filter(unit_id=OuterRef("unit_id"), owner_id=OuterRef("owner_id"), status=CaseStatus.OPEN)
    return (
        events.filter(~proven(), standing(), Exists(open_case))
        .select_related("unit__building", "owner", "attempt", "plan")
        .order_by("-occurred_on", "-pk")
    )


def uploadable_kinds(event: LimitationEvent) -> list[tuple[str, str]]:
    """The proof kinds staff can upload for this event, as (value, label)."""
    allowed = PROOFS_FOR.get(event.kind, frozenset()) & UPLOADABLE
    return [(value, label) for value, label in ProofKind.choices if value in allowed]


@dataclass(frozen=True)
class EvidenceRow:
    """An unproven event with the proof kinds staff may upload for it."""

    event: LimitationEvent
    kinds: list[tuple[str, str]]

    @property
    def recording_goes_to_attempt(self) -> bool:
        return self.event.attempt_id is not None


def evidence_rows(events) -> list[EvidenceRow]:
    return [EvidenceRow(event=event, kinds=uploadable_kinds(event)) for event in events]


UNIT_ATTEMPTS_SHOWN = 20


def unit_evidence(unit_id: int, open_cases: list[Case]) -> dict:
    """The unit page's 待补证据 block for its open cases (already loaded by the page): their unproven
    events and the recent attempts to attach files to. Two queries, none without an open case."""
    if not open_cases:
        return {"unproven": [], "attempts": [], "cases": [], "files": [], "proofs": []}
    events = unproven_events(LimitationEvent.objects.filter(unit_id=unit_id))[:50]
    attempts = (ContactAttempt.objects.filter(unit_id=unit_id).exclude(outcome=Outcome.BLOCKED)
                .annotate(files=Count("attachments")).order_by("-at", "-pk")[:UNIT_ATTEMPTS_SHOWN])
    files = (AttemptAttachment.objects.filter(attempt__unit_id=unit_id).select_related("attempt", "uploaded_by")
             .order_by("-uploaded_at", "-pk")[:UNIT_ATTEMPTS_SHOWN])
    proofs = (LimitationProof.objects.filter(event__unit_id=unit_id).exclude(file="").select_related("event", "added_by")
              .order_by("-added_at", "-pk")[:UNIT_ATTEMPTS_SHOWN])
    return {"unproven": evidence_rows(events), "attempts": list(attempts), "cases": list(open_cases), "files": list(files),
            "proofs": list(proofs)}
