"""A case with a little of everything, around 9 May 2026 (the pack's date) and the day after it."""

import hashlib
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from arrears.collection.models import (
    AttemptAttachment,
    ContactAttempt,
    LimitationEvent,
    LimitationProof,
)
from arrears.core import roles
from arrears.estate.models import ServiceTicket, StaffScope
from arrears.ledger import services as ledger_services
from arrears.legal import community_documents
from arrears.notices.models import Letter
from tests import factories
from tests.collection.conftest import case, estate, insider, make_case, outsider, today  # noqa: F401

SHANGHAI = ZoneInfo("Asia/Shanghai")
AS_OF = date(2026, 5, 9)
RECORDING = b"ID3 owner: I will pay 600 on the 17th"
LETTER_PDF = b"%PDF-1.4 letter YG-CF-2026-000001"


def at(day, hour, minute=0):
    return datetime(2026, 5, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def legal(estate):  # noqa: F811
    user = factories.user("legal", groups=[roles.LEGAL], first_name="明", last_name="李")
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


def _attempt(case, staff, when, *, logged=None, **values):  # noqa: F811
    with time_machine.travel(logged or when, tick=False):
        return ContactAttempt.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner,
                                             staff=staff, at=when, **{"channel": "call", **values})


@pytest.fixture
def evidence(case, insider, legal, estate):  # noqa: F811
    """Before and on 9 May: the contract, a call with a promise and its recording, a blocked call, a
    correction, a delivered letter, a proven limitation event, an open complaint ticket. On 10 May
    (after the date): a newer contract, another call, a call about the 9th logged on the 10th, a photo,
    a second letter, a payment, the ticket's resolution."""
    contract = community_documents.upload_document(
        community=case.community, kind="contract", title="物业服务合同（2024—2027）", staff=legal, now=at(1, 10),
        upload=SimpleUploadedFile("contract.pdf", b"%PDF-1.4 contract 2024", content_type="application/pdf"))
    call = _attempt(case, insider, at(8, 10), outcome="promised", notes="业主答应5月17日缴600元")
    blocked = _attempt(case, insider, at(8, 22, 30), outcome="blocked", blocked_rule="outside_hours",
                       blocked_reason="22:30 不在可联系时段（21:00 后）")
    correction = _attempt(case, insider, at(8, 10), logged=at(9, 9), outcome="promised", notes="业主答应5月17日缴500元",
                          corrects=call, correction_reason="金额记错：应为500元")
    with time_machine.travel(at(8, 11), tick=False):
        recording = AttemptAttachment.objects.create(
            community=case.community, attempt=call, kind="recording", sha256=hashlib.sha256(RECORDING).hexdigest(),
            file=ContentFile(RECORDING, name="call.m4a"), uploaded_by=insider)
    event = LimitationEvent.objects.create(community=case.community, unit=case.unit, owner=case.owner, kind="promise",
                                           occurred_on=date(2026, 5, 8), attempt=call)
    LimitationProof.objects.create(community=case.community, event=event, kind="recording", attachment=recording,
                                   added_at=at(8, 11), added_by=insider)
    letter = Letter.objects.create(
        community=case.community, case=case, unit=case.unit, owner=case.owner, kind="collection", template_code="collection",
        number="YG-CF-2026-000001", issued_on=date(2026, 4, 1), deadline=date(2026, 4, 15), as_of=date(2026, 4, 1),
        principal=Decimal("600.00"), late_fee=Decimal("21.00"), pdf=ContentFile(LETTER_PDF, name="letter1.pdf"),
        pdf_sha256=hashlib.sha256(LETTER_PDF).hexdigest(), status="delivered", delivery_method="ems",
        tracking_no="EA123456789CN", delivered_on=date(2026, 4, 3))
    ticket = ServiceTicket.objects.create(community=case.community, unit=case.unit, kind="complaint", summary="电梯长期故障无人修",
                                          opened_on=date(2026, 5, 1), closed_on=date(2026, 5, 10), status="resolved",
                                          resolution="五月十日已更换电梯主板")
    # after the date
    community_documents.upload_document(
        community=case.community, kind="contract", title="物业服务合同（续签）", staff=legal, now=at(10, 9),
        upload=SimpleUploadedFile("renewal.pdf", b"%PDF-1.4 contract renewal", content_type="application/pdf"))
    later = _attempt(case, insider, at(10, 9), outcome="answered", notes="次日电话：业主说下周缴")
    late_logged = _attempt(case, insider, at(9, 20), logged=at(10, 8), outcome="answered", notes="补录：九日晚上门")
    with time_machine.travel(at(10, 9), tick=False):
        AttemptAttachment.objects.create(community=case.community, attempt=call, kind="photo", sha256="",
                                         file=ContentFile(b"\xff\xd8 photo after", name="door.jpg"), uploaded_by=insider)
    Letter.objects.create(
        community=case.community, case=case, unit=case.unit, owner=case.owner, kind="lawyer", template_code="lawyer",
        number="YG-LS-2026-000009", issued_on=date(2026, 5, 10), deadline=date(2026, 5, 20), as_of=date(2026, 5, 10),
        principal=Decimal("600.00"), late_fee=Decimal("25.00"), pdf=ContentFile(b"%PDF-1.4 later", name="letter2.pdf"),
        pdf_sha256=hashlib.sha256(b"%PDF-1.4 later").hexdigest())
    ledger_services.record_payment(unit_id=case.unit_id, owner_id=case.owner_id, amount="77.00", paid_on=date(2026, 5, 10),
                                   method="cash", receipt_number="R-LATER-0002")
    return {"contract": contract, "call": call, "blocked": blocked, "correction": correction, "recording": recording,
            "event": event, "letter": letter, "ticket": ticket, "later": later, "late_logged": late_logged}


@pytest.fixture
def far_case(estate):  # noqa: F811
    far_unit = estate["far_unit"]
    return make_case(far_unit, far_unit.ownerships.get().owner)
