"""The demo data: small, seeded, consistent with the ledger's own invariants, and reproducible."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from arrears.collection.models import RiskScore
from arrears.core.errors import DomainError
from arrears.demo import history as demo
from arrears.estate.models import (
    Community,
    Company,
    Contact,
    ContactRelation,
    Ownership,
    Unit,
    Vehicle,
)
from arrears.insights.models import RiskModel, Target
from arrears.ledger import selectors
from arrears.ledger.models import Allocation, Charge, IncentiveProgramme, Payment, Tariff

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)
UNITS = 120
SEED = 7


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


@pytest.fixture
def built():
    return demo.build_demo(units=UNITS, seed=SEED)


def _statement_json():
    return selectors.statement_as_dicts(selectors.statement(TODAY))


def test_it_builds_a_consistent_demo(built):
    # estate
    assert Company.objects.get().name == demo.COMPANY_NAME
    assert list(Community.objects.order_by("pk").values_list("name", flat=True)) == ["翠湖花园", "锦绣华庭"]
    assert Unit.objects.count() == UNITS == built.units
    assert Unit.objects.filter(entrance="").exists() and Unit.objects.exclude(entrance="").exists()
    assert Ownership.objects.filter(end__isnull=True).values("unit").distinct().count() == UNITS
    assert Ownership.objects.filter(end__isnull=False).exists()  # owners changed in the 3 years
    assert not Unit.objects.filter(floor_area__lt=60).exists() and not Unit.objects.filter(floor_area__gt=180).exists()
    assert Contact.objects.filter(relation=ContactRelation.SELF).count() >= UNITS
    assert Contact.objects.exclude(relation=ContactRelation.SELF).filter(disclosure_authorised=True).exists()
    assert Vehicle.objects.exists() and Charge.objects.filter(charge_type__code="parking_fee").exists()
    assert Tariff.objects.count() == 5
    assert (built.charges, built.payments) == (Charge.objects.count(), Payment.objects.count())

    # every persona of DESIGN.md §2, and an arrears rate like the seeds' starting point
    assert set(built.personas) == set(demo.PERSONAS)
    # The full 3,000-unit demo lands around 12–18%; 120 units wobble more.
    assert Decimal("5") <= built.arrears_rate <= Decimal("30")
    assert built.units_owned == UNITS

    # payments: none in the future, receipts unique
    assert not Payment.objects.filter(paid_on__gt=TODAY).exists()
    assert Payment.objects.exclude(receipt_number="").values("receipt_number").distinct().count() == built.payments

    # the ledger's caches hold: credit = amount − allocations; no charge paid beyond its amount
    allocated = Allocation.objects.filter(payment_id=OuterRef("pk")).values("payment_id").annotate(t=Sum("amount")).values("t")
    money = DecimalField(max_digits=14, decimal_places=2)
    payments = Payment.objects.annotate(allocated=Coalesce(Subquery(allocated, output_field=money), Value(Decimal("0")), output_field=money))
    assert [p.pk for p in payments if p.unallocated != p.amount - p.allocated] == []
    charges = Charge.objects.annotate(
        paid=Coalesce(Sum("allocations__amount", filter=Q(allocations__component="principal")), Value(Decimal("0")), output_field=money),
    )
    assert [c.pk for c in charges if c.paid > c.amount] == []


def test_the_same_seed_gives_the_same_statement(db):
    # (the first build is rolled back, not deleted: the ledger is append-only)
    sid = transaction.savepoint()
    demo.build_demo(units=UNITS, seed=SEED)
    first = _statement_json()
    transaction.savepoint_rollback(sid)
    demo.build_demo(units=UNITS, seed=SEED)
    assert _statement_json() == first
    assert first  # there is something to compare


def test_it_refuses_a_database_that_already_has_a_company():
    call_command("demo-data", units=30, seed=3)
    counts = (Unit.objects.count(), Payment.objects.count())
    with pytest.raises(DomainError, match="已有物业公司"):
        demo.build_demo(units=30, seed=3)
    assert (Unit.objects.count(), Payment.objects.count()) == counts


def test_the_command_prints_the_rate(capsys):
    call_command("demo-data", units=40, seed=3)
    out = capsys.readouterr().out
    # one language, the installation's: Chinese here, with no English half
    assert "欠费率（按户）" in out and "arrears rate" not in out and "/ units" not in out
    assert Unit.objects.count() == 40


def test_the_demo_opens_the_insights_pages_on_something_real(capsys):
    # when the demo company is built
    call_command("demo-data", units=40, seed=3)
    # then each community has this month's and this quarter's targets (its own and its collectors'), the
    # incentive programmes are open from this month, and the early-warning model is trained and has scored
    out = capsys.readouterr().out
    assert "考核目标" in out
    today = timezone.localdate()
    for community in Community.objects.all():
        kinds = set(Target.objects.filter(community=community, collector=None).values_list("kind", flat=True))
        assert kinds == {"month", "quarter"}
        assert Target.objects.filter(community=community, collector__isnull=False).exists()
        assert IncentiveProgramme.objects.filter(community=community, kind="late_fee_waiver",
                                                 valid_from=today.replace(day=1)).exists()
    assert set(IncentiveProgramme.objects.values_list("kind", flat=True)) == {"early_payment", "prepay_year",
                                                                             "late_fee_waiver"}
    assert RiskModel.objects.count() == Company.objects.count() == 1
    assert RiskScore.objects.exists()
