"""The legal desk attacked as the owner's lawyer and used as a careless user would: each break found
became a test here. The scenario is tests/legal/test_matters.py's (six charges of ¥300.00, January–June
2025, filed 2025-07-31, judged 2025-11-20; contract late fee ¥205.95 on the judgment's date)."""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import DatabaseError, IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.core.errors import DomainError
from arrears.ledger import services as ledger_services
from arrears.ledger.models import Charge, Waiver
from arrears.legal import claims, services
from arrears.legal.models import Award, AwardStatus, MatterCost, MatterStage
from tests.legal.test_matters import FILED, JUDGED, NOW, SHANGHAI, _clock, _open, pdf, world  # noqa: F401


def _filed(world):
    matter = _open(world)
    services.record_stage(matter=matter, route="suit", stage="filed", occurred_on=FILED, staff=world["legal"],
                          document=pdf())
    matter.refresh_from_db()
    return matter


def _award(world, matter, principal, late_fee, costs="0", as_of=JUDGED):
    return services.record_award(matter=matter, kind="judgment", decided_on=JUDGED, late_fee_as_of=as_of,
                                 principal=principal, late_fee=late_fee, costs=costs, reference="(2025)粤0305民初1234号",
                                 document=pdf("judgment.pdf", b"%PDF-1.4 judgment"), staff=world["legal"])


def _pay(world, amount, on):
    ledger_services.record_payment(unit_id=world["unit"].pk, owner_id=world["owner"].pk, amount=amount, paid_on=on,
                                   method="cash")


def _after(world, matter, as_of=JUDGED):
    found = claims.claim(unit_id=world["unit"].pk, owner_id=world["owner"].pk, as_of=as_of, charge_ids=matter.claim_charges)
    return found.principal, found.late_fee


def test_a_part_payment_between_filing_and_judgment_posts_to_the_fen(world):
    # given: ¥500.00 paid on 2025-09-01, during the suit; the court awards the rest of the principal
    matter = _filed(world)
    _pay(world, "500.00", date(2025, 9, 1))
    before = _after(world, matter)
    award = _award(world, matter, before[0], "100.00")
    # when
    services.approve_award(award=award, staff=world["manager"])
    # then
    assert _after(world, matter) == (before[0], Decimal("100.00"))


def test_a_charge_paid_in_full_before_the_judgment_posts_to_the_fen(world):
    # given: January's ¥300.00 and its late fee paid on 2025-08-10 (designated)
    matter = _filed(world)
    january = Charge.objects.filter(pk__in=matter.claim_charges).order_by("due_date").first()
    ledger_services.record_payment(unit_id=world["unit"].pk, owner_id=world["owner"].pk, amount="400.00",
                                   paid_on=date(2025, 8, 10), method="cash", designation=[january.pk])
    owed = _after(world, matter)[0]
    award = _award(world, matter, owed, "0")
    services.approve_award(award=award, staff=world["manager"])
    assert _after(world, matter) == (owed, Decimal("0.00"))


def test_an_award_of_the_whole_claim_with_no_late_fee_posts_only_late_fee_cuts(world):
    matter = _filed(world)
    award = _award(world, matter, "1800.00", "0")
    services.approve_award(award=award, staff=world["manager"])
    assert _after(world, matter) == (Decimal("1800.00"), Decimal("0.00"))


def test_a_late_fee_date_before_the_filing_is_refused(world):
    matter = _filed(world)
    with pytest.raises(DomainError) as refused:
        _award(world, matter, "1800.00", "0", as_of=date(2025, 7, 30))
    assert refused.value.code == "date"


def test_a_payment_after_the_judgment_before_approval_is_refused_saying_what_to_do(world):
    # given: judged 2025-11-20 at ¥1,500.00 + ¥150.00 (January barred); the owner pays ¥1,000.00 on 2025-11-25,
    # before approval: the rule sends it to January first, the month the award cuts
    matter = _filed(world)
    award = _award(world, matter, "1500.00", "150.00")
    _pay(world, "1000.00", date(2025, 11, 25))
    # when a manager approves: refused, with the payment named and what to do, and nothing is posted
    with pytest.raises(DomainError) as refused:
        services.approve_award(award=award, staff=world["manager"])
    assert refused.value.code == "paid_after_award"
    assert "2025-11-25" in refused.value.zh and "1000.00" in refused.value.zh and "重新登记" in refused.value.zh
    assert not Waiver.objects.exists()
    award.refresh_from_db()
    assert award.status == AwardStatus.REQUESTED
