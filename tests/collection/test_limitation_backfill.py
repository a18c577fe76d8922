"""The data migrations that prove what was already proven before proof rows existed: delivered
letters with a tracking number or signed receipt, plans accepted on the owner's portal request."""

import importlib
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps

from arrears.collection.models import (
    Case,
    ContactAttempt,
    InstalmentPlan,
    LimitationEvent,
    LimitationProof,
)
from arrears.notices.models import Letter, LetterBatch
from arrears.portal.models import InstalmentRequest
from tests import factories

pytestmark = pytest.mark.django_db
AT = datetime(2026, 5, 11, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def case():
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    return Case.objects.create(community=community, unit=unit, owner=owner, opened_on=date(2026, 2, 6), as_of=date(2026, 5, 10),
                               principal=Decimal("600.00"), late_fee=Decimal("0.00"), oldest_due=date(2026, 2, 5),
                               days_overdue=94, months_overdue=3, bucket="91-180", tier="B")


def _letter_event(case, number, **delivery):
    attempt = ContactAttempt.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner,
                                            channel="letter", at=AT, outcome="delivered")
    batch = LetterBatch.objects.create(community=case.community, kind="collection", issued_on=date(2026, 5, 8),
                                       deadline=date(2026, 5, 23))
    Letter.objects.create(community=case.community, batch=batch, case=case, unit=case.unit, owner=case.owner, kind="collection",
                          template_code="collection_letter", number=number, issued_on=date(2026, 5, 8), deadline=date(2026, 5, 23),
                          as_of=date(2026, 5, 8), principal=Decimal("600.00"), late_fee=Decimal("0.00"), pdf="letters/x.pdf",
                          pdf_sha256="0" * 64, status="delivered", delivered_on=date(2026, 5, 11), attempt=attempt, **delivery)
    return LimitationEvent.objects.create(community=case.community, unit=case.unit, owner=case.owner, kind="written_demand",
                                          occurred_on=date(2026, 5, 11), attempt=attempt)


def test_it_proves_delivered_letters_that_carry_their_proof_and_only_those(case):
    # given
    posted = _letter_event(case, "CF001-2026-00001", delivery_method="ems", tracking_no="EA123")
    signed = _letter_event(case, "CF001-2026-00002", delivery_method="hand", proof_sha256="b" * 64)
    bare = _letter_event(case, "CF001-2026-00003", delivery_method="sms_link")
    # when
    importlib.import_module("arrears.notices.migrations.0004_letter_limitation_proofs").prove_delivered_letters(apps, None)
    # then
    assert list(LimitationProof.objects.order_by("event_id").values_list("event_id", "reference", "sha256")) == [
        (posted.pk, "CF001-2026-00001 EMS EA123", ""), (signed.pk, "CF001-2026-00002", "b" * 64)]
    assert not bare.proofs.exists()
    assert LimitationProof.objects.get(event=posted).added_at == posted.attempt.created_at


def test_it_proves_plans_accepted_on_the_owners_portal_request(case):
    # given
    plan = InstalmentPlan.objects.create(community=case.community, case=case, total=Decimal("600.00"), status="accepted",
                                         proposed_on=date(2026, 5, 10), accepted_on=date(2026, 5, 10))
    request = InstalmentRequest.objects.create(community=case.community, unit=case.unit, owner=case.owner, months=3,
                                               total=Decimal("600.00"), requested_at=AT, status="accepted", decided_at=AT,
                                               plan=plan)
    event = LimitationEvent.objects.create(community=case.community, unit=case.unit, owner=case.owner, kind="plan",
                                           occurred_on=date(2026, 5, 10))
    # when
    importlib.import_module("arrears.portal.migrations.0002_portal_plan_limitation_proofs").prove_portal_plans(apps, None)
    # then
    assert list(event.proofs.values_list("kind", "reference", "added_at")) == [
        ("portal", f"portal instalment request #{request.pk}", AT)]
