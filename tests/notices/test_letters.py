"""Letters: numbered batches with frozen content and PDFs, delivery as written demand, ⑨'s rules."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from arrears.collection import limitation
from arrears.collection.assess import assess
from arrears.collection.models import (
    Case,
    ContactAttempt,
    LimitationEvent,
    LimitationProof,
    OwnerProfile,
    Task,
)
from arrears.collection.run import run_collection
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.estate.models import Contact, StaffScope
from arrears.ledger import services
from arrears.notices import letters
from arrears.notices.models import Letter, LetterBatch, LetterCounter, LetterStatus
from tests import factories

ISSUE = date(2026, 5, 12)
LAW_FIRM = {"name": "示范律师事务所", "address": "深圳市福田区", "phone": "0755-12345678", "lawyer": "陈律师",
            "licence_no": "14403201810000000"}


@pytest.fixture
def street(db, settings, tmp_path):
    """Three units of 100 m² at 2.00/m²/month, billed January to March 2026, nothing paid."""
    settings.MEDIA_ROOT = tmp_path
    settings.ARREARS_LAW_FIRM = LAW_FIRM
    community = factories.community(company_obj=factories.company(phone="0755-88886200", address="深圳市南山区"))
    factories.tariff(community)
    units = [factories.unit(community, building=building, room=room)
             for building, room in (("1栋", "101"), ("1栋", "102"), ("2栋", "201"))]
    owners = [factories.owner(unit, name) for unit, name in zip(units, ("张三", "李四", "王五"), strict=True)]
    for owner in owners:
        Contact.objects.create(community=community, owner=owner, kind="mobile", value="13900000000", relation="self")
    services.bill(through=date(2026, 3, 1))
    with time_machine.travel(date(2026, 3, 10), tick=False):
        run_collection(as_of=date(2026, 3, 10))
    manager = factories.user("manager", groups=[roles.MANAGER])
    collector = factories.user("collector", groups=[roles.COLLECTOR])
    legal = factories.user("legal", groups=[roles.LEGAL])
    for user in (manager, collector, legal):
        StaffScope.objects.create(user=user, community=community)
    with time_machine.travel(ISSUE, tick=False):
        yield {"community": community, "units": units, "owners": owners, "manager": manager, "collector": collector,
               "legal": legal, "cases": list(Case.objects.order_by("unit__building__name", "unit__room"))}


def test_a_batch_numbers_renders_and_freezes_each_letter(street):
    batch = letters.issue_batch(kind="collection", cases=street["cases"][:2], issued_on=ISSUE, staff=street["collector"])
    first, second = batch.letters.order_by("number")
    assert (first.number, second.number) == (f"CF{street['community'].pk:03d}-2026-00001",
                                              f"CF{street['community'].pk:03d}-2026-00002")
    # By hand: 3 × ¥200.00 unpaid; late fee ¥200 × 0.05% a day for 127, 96 and 68 days = 12.70 + 9.60 + 6.80.
    assert (first.principal, first.late_fee, first.total) == (Decimal("600.00"), Decimal("29.10"), Decimal("629.10"))
    assert first.content["total"] == "629.10" and len(first.content["lines"]) == 3
    assert any("629.10" in paragraph for paragraph in first.content["paragraphs"])
    assert first.deadline == date(2026, 5, 27)
    data = first.pdf.read()
    assert data.startswith(b"%PDF") and letters.pdf.sha256(data) == first.pdf_sha256
    assert len(PdfReader(batch.merged_pdf.path).pages) >= 2
    assert AuditEvent.objects.filter(action="letters.issue").count() == 1
    assert LetterCounter.objects.get().last == 2


def test_nothing_is_written_when_one_letter_of_the_batch_is_refused(street):
    services.record_payment(unit_id=street["units"][1].pk, owner_id=street["owners"][1].pk, amount="700.00",
                            paid_on=date(2026, 5, 11), method="cash")
    with pytest.raises(DomainError, match="已无欠费"):
        letters.issue_batch(kind="collection", cases=street["cases"][:2], issued_on=ISSUE, staff=street["collector"])
    assert not LetterBatch.objects.exists() and not Letter.objects.exists() and not LetterCounter.objects.exists()


def test_a_future_issue_date_or_a_mixed_batch_is_refused(street):
    with pytest.raises(DomainError, match="出函日期"):
        letters.issue_batch(kind="collection", cases=street["cases"], issued_on=date(2026, 5, 13), staff=street["collector"])
    with pytest.raises(DomainError, match="至少选择"):
        letters.issue_batch(kind="collection", cases=[], issued_on=ISSUE, staff=street["collector"])


def test_the_second_collection_letter_uses_its_own_wording(street):
    case = street["cases"][0]
    # 32 days apart: the policy's 30 days without a second letter have passed
    letters.issue_batch(kind="collection", cases=[case], issued_on=date(2026, 4, 10), staff=street["collector"])
    batch = letters.issue_batch(kind="collection", cases=[case], issued_on=ISSUE, staff=street["collector"])
    assert batch.letters.get().template_code == "collection_letter_2"


def _deliver(letter, staff, on, **extra):
    values = {"method": "registered_mail", "tracking_no": "XA123456789CN"}
    values.update(extra)
    return letters.record_delivery(letter=letter, delivered_on=on, staff=staff, **values)


def test_delivery_is_a_written_demand_that_starts_the_quiet_period(street):
    case = street["cases"][0]
    task = Task.objects.create(community=case.community, case=case, key="step:letter_1", kind="ladder", channel="letter",
                               title="催费函", due_on=date(2026, 5, 10), created_on=date(2026, 5, 10))
    letter = letters.issue_batch(kind="collection", cases=[case], issued_on=date(2026, 5, 10),
                                 staff=street["collector"]).letters.get()
    assert letter.task == task
    with pytest.raises(DomainError, match="邮件单号"):
        _deliver(letter, street["collector"], ISSUE, tracking_no="")
    with pytest.raises(DomainError, match="签收"):
        _deliver(letter, street["collector"], ISSUE, method="hand", tracking_no="")
    scan = SimpleUploadedFile("签收单.jpg", b"\xff\xd8signed", content_type="image/jpeg")
    _deliver(letter, street["collector"], date(2026, 5, 11), method="hand", tracking_no="", proof=scan)
    letter.refresh_from_db()
    assert letter.status == LetterStatus.DELIVERED and len(letter.proof_sha256) == 64
    attempt = ContactAttempt.objects.get(channel="letter", outcome="delivered")
    assert letter.attempt == attempt and attempt.task == task
    event = LimitationEvent.objects.get(kind="written_demand")
    assert event.occurred_on == date(2026, 5, 11)
    assert list(event.proofs.values_list("kind", "sha256")) == [("letter_delivery", letter.proof_sha256)]
    task.refresh_from_db()
    case.refresh_from_db()
    assert task.status == "done" and case.quiet_until == date(2026, 5, 18)
    with pytest.raises(DomainError, match="已出函"):
        _deliver(letter, street["collector"], ISSUE)


def _deadline(case, as_of):
    return next(entry.limitation_deadline for entry in assess(as_of) if entry.key == (case.unit_id, case.owner_id))


def test_a_letter_posted_with_its_tracking_number_restarts_limitation_on_the_day_it_arrived(street):
    # given: charges due 2026-01-05, 02-05 and 03-05: the earliest deadline is 2029-01-05
    case = street["cases"][0]
    letter = letters.issue_batch(kind="collection", cases=[case], issued_on=date(2026, 5, 8), staff=street["collector"]).letters.get()
    assert _deadline(case, ISSUE) == date(2029, 1, 5)
    # when
    _deliver(letter, street["collector"], date(2026, 5, 11))
    # then: every charge restarts on 2026-05-11
    proof = LimitationProof.objects.get()
    assert (proof.kind, proof.reference) == ("letter_delivery", f"{letter.number} 挂号信 XA123456789CN")
    assert _deadline(case, ISSUE) == date(2029, 5, 11)


def test_a_letter_delivered_without_proof_waits_for_its_signed_receipt(street):
    # given: delivered by SMS link, nothing signed
    case = street["cases"][0]
    letter = letters.issue_batch(kind="collection", cases=[case], issued_on=date(2026, 5, 8), staff=street["collector"]).letters.get()
    _deliver(letter, street["collector"], date(2026, 5, 11), method="sms_link", tracking_no="")
    event = LimitationEvent.objects.get()
    assert list(limitation.unproven_events()) == [event] and _deadline(case, ISSUE) == date(2029, 1, 5)
    # when: legal uploads the signed receipt
    letter.refresh_from_db()
    letters.attach_delivery_proof(letter=letter, staff=street["legal"],
                                  upload=SimpleUploadedFile("回执.pdf", b"%PDF signed", content_type="application/pdf"))
    # then
    assert list(limitation.unproven_events()) == [] and _deadline(case, ISSUE) == date(2029, 5, 11)
    assert Letter.objects.get().proof_sha256 == ""  # the letter's own record is not rewritten


def test_a_returned_letter_is_not_a_demand(street):
    letter = letters.issue_batch(kind="collection", cases=street["cases"][:1], issued_on=ISSUE,
                                 staff=street["collector"]).letters.get()
    letters.record_return(letter=letter, staff=street["collector"], note="查无此人，邮局退回")
    assert Letter.objects.get().status == LetterStatus.RETURNED
    assert not LimitationEvent.objects.exists()


def _ready_for_lawyer(street, cases):
    """Two collection letters delivered and ignored, arrears deliberate: ⑨ is due."""
    for case in cases:
        OwnerProfile.objects.create(community=case.community, owner=case.owner, intent="deliberate")
        for day in (date(2026, 4, 1), date(2026, 4, 20)):
            ContactAttempt.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner,
                                          channel="letter", at=f"{day}T10:00:00+08:00", outcome="delivered")


def test_lawyer_letters_only_for_eligible_cases_with_the_reasons(street):
    eligible, short = street["cases"][0], street["cases"][1]
    _ready_for_lawyer(street, [eligible])
    checks = letters.lawyer_letter_checks([eligible, short], ISSUE)
    assert checks[eligible.pk].eligible and checks[eligible.pk].letters_delivered == 2
    assert not checks[short.pk].eligible
    assert any("催费函 0 封" in reason for reason in checks[short.pk].reasons)
    assert any("恶意" in reason for reason in checks[short.pk].reasons)
    with pytest.raises(DomainError, match="不符合律师函条件"):
        letters.issue_batch(kind="lawyer", cases=[eligible, short], issued_on=ISSUE, staff=street["legal"])
    with pytest.raises(DomainError, match="法务或经理"):
        letters.issue_batch(kind="lawyer", cases=[eligible], issued_on=ISSUE, staff=street["collector"])
    batch = letters.issue_batch(kind="lawyer", cases=[eligible], issued_on=ISSUE, staff=street["legal"])
    letter = batch.letters.get()
    assert letter.deadline == date(2026, 5, 26)  # 14 days after issue
    assert letter.number.startswith("LS")
    assert any("示范律师事务所" in paragraph for paragraph in letter.content["paragraphs"])
    _deliver(letter, street["legal"], ISSUE)
    assert Case.objects.get(pk=eligible.pk).quiet_until == date(2026, 5, 26)  # no contact until the deadline


def test_one_lawyer_letter_per_building_a_week_unless_a_manager_says_why(street):
    same_building = street["cases"][:2]  # 1栋 101 and 102
    _ready_for_lawyer(street, street["cases"])
    with pytest.raises(DomainError, match="同一楼栋"):
        letters.issue_batch(kind="lawyer", cases=same_building, issued_on=ISSUE, staff=street["legal"])
    with pytest.raises(DomainError, match="理由"):
        letters.issue_batch(kind="lawyer", cases=same_building, issued_on=ISSUE, staff=street["manager"])
    batch = letters.issue_batch(kind="lawyer", cases=same_building, issued_on=ISSUE, staff=street["manager"],
                                override_reason="两户同为开发商关联户，业委会要求同时处理")
    assert batch.override_by == street["manager"] and batch.override_reason.startswith("两户")
    # A week later counts from the batch: 2栋 is free, 1栋 is not.
    later = letters.propose([letters.lawyer_letter_checks([c], date(2026, 5, 12))[c.pk] for c in street["cases"]],
                            date(2026, 5, 12))
    proposed = {c.case.unit.room for c in later if c.proposed}
    assert proposed == {"201"}


def test_the_page_proposes_one_per_building_the_most_cautious_first(street):
    _ready_for_lawyer(street, street["cases"])
    OwnerProfile.objects.filter(owner=street["owners"][1]).update(persona="understanding")
    OwnerProfile.objects.filter(owner=street["owners"][0]).update(persona="evasive")
    ordered = letters.propose([letters.lawyer_letter_checks([c], ISSUE)[c.pk] for c in street["cases"]], ISSUE)
    assert [(c.case.unit.room, c.proposed) for c in ordered] == [("102", True), ("201", True), ("101", False)]
    assert "已有律师函" in ordered[2].building_conflict or "本批" in ordered[2].building_conflict
