"""The legal desk attacked as the owner's lawyer and used as a careless user would: each break found
became a test here. The scenario is tests/legal/test_matters.py's (six charges of ¥300.00, January–June
2025, filed 2025-07-31, judged 2025-11-20; contract late fee ¥205.95 on the judgment's date)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.collection.models import LimitationEvent
from arrears.core.errors import DomainError
from arrears.ledger import services as ledger_services
from arrears.ledger.models import Charge, Waiver
from arrears.legal import claims, services
from arrears.legal.models import Award, AwardStatus, Matter, MatterCost, MatterStage
from tests.legal import test_matters
from tests.legal.test_matters import FILED, JUDGED, _open, pdf

world, _clock = test_matters.world, test_matters._clock  # the scenario's fixtures


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


def test_a_late_fee_date_or_a_decision_date_before_the_filing_is_refused(world):
    matter = _filed(world)
    with pytest.raises(DomainError) as refused:
        _award(world, matter, "1800.00", "0", as_of=date(2025, 7, 30))
    assert refused.value.code == "date"
    # a judgment dated before the complaint it decides: a typing slip, refused naming both dates
    with pytest.raises(DomainError) as refused:
        services.record_award(matter=matter, kind="judgment", decided_on=date(2025, 7, 1), late_fee_as_of=JUDGED,
                              principal="1800.00", late_fee="0", costs="0", reference="X", document=pdf(),
                              staff=world["legal"])
    assert refused.value.code == "date" and "2025-07-01" in refused.value.zh and "2025-07-31" in refused.value.zh
    assert not Award.objects.exists()


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


def test_a_correction_sent_twice_is_recorded_once(world):
    # given a hearing moved by the court
    matter = _open(world)
    hearing = services.record_stage(matter=matter, route="suit", stage="hearing", occurred_on=date(2025, 12, 10),
                                    staff=world["legal"])
    first = services.correct_stage(original=hearing, staff=world["legal"], reason="法院改期", occurred_on=date(2025, 12, 17))
    # when the same correction is sent again (a double tap)
    again = services.correct_stage(original=hearing, staff=world["legal"], reason="法院改期", occurred_on=date(2025, 12, 17))
    # then one correction, its task still open
    assert again.pk == first.pk
    assert MatterStage.objects.count() == 2
    first.task.refresh_from_db()
    assert first.task.status == "open"


def test_a_stage_dated_before_the_filing_on_its_route_is_refused_with_the_filing_date(world):
    # given the complaint filed on 2025-07-31
    matter = _filed(world)
    # when a judgment is recorded as of 2025-07-01, before the filing
    with pytest.raises(DomainError) as refused:
        services.record_stage(matter=matter, route="suit", stage="judgment", occurred_on=date(2025, 7, 1),
                              staff=world["legal"], document=pdf("judgment.pdf", b"%PDF-1.4 judgment"))
    # then refused, naming the filing's date; a stage recorded late but dated after the filing is accepted
    assert refused.value.code == "order" and "2025-07-31" in refused.value.zh
    services.record_stage(matter=matter, route="suit", stage="accepted", occurred_on=date(2025, 8, 5), staff=world["legal"],
                          reference="(2025)粤0305民初1234号")
    assert MatterStage.objects.count() == 2


@pytest.mark.parametrize("table, column, value", [
    ("legal_matterstage", "note", "'x'"), ("legal_mattercost", "amount", "1"), ("legal_award", "principal", "1"),
])
def test_raw_sql_cannot_change_or_delete_the_evidence(world, table, column, value):
    matter = _filed(world)
    services.record_cost(matter=matter, kind="court_fee", amount="50.00", paid_on=FILED, staff=world["legal"])
    _award(world, matter, "1800.00", "205.95")
    # raw SQL cannot change a row on either database, nor delete one on PostgreSQL (SQLite's test databases are
    # flushed with DELETE: there the ORM's refusal is the guard, arrears.core.db.Frozen)
    statements = [f"UPDATE {table} SET {column} = {value}"]
    if connection.vendor == "postgresql":
        statements.append(f"DELETE FROM {table}")
    for sql in statements:
        with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    model = {"legal_matterstage": MatterStage, "legal_mattercost": MatterCost, "legal_award": Award}[table]
    with pytest.raises((DomainError, DatabaseError, IntegrityError)), transaction.atomic():
        model.objects.all().delete()
    assert MatterStage.objects.count() == 1 and MatterCost.objects.count() == 1 and Award.objects.count() == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paid=st.integers(0, 1800_00), share=st.integers(0, 100), late_fee=st.integers(0, 400_00),
       costs=st.integers(0, 500_00))
def test_posting_any_award_within_the_claim_makes_the_ledger_equal_it_to_the_fen(world, paid, share, late_fee, costs):
    # given: `paid` fen paid during the suit, an award of some share of what was still owed on the judgment date,
    # any late fee and costs; each example in its own rolled-back savepoint
    late_fee, costs = Decimal(late_fee) / 100, Decimal(costs) / 100
    with transaction.atomic():
        point = transaction.savepoint()
        matter = _filed(world)
        if paid:
            _pay(world, Decimal(paid) / 100, date(2025, 9, 1))
        owed, fees = _after(world, matter)
        principal = (owed * share / 100).quantize(Decimal("0.01"))
        award = _award(world, matter, principal, late_fee, costs)
        # when
        services.approve_award(award=award, staff=world["manager"])
        # then on the judgment's date the claimed charges owe the award's principal, and their late fee with the
        # awarded difference is the award's late fee
        added = {code: sum(Charge.objects.filter(charge_type__code=code).values_list("amount", flat=True), Decimal("0"))
                 for code in ("awarded_late_fee", "court_costs")}
        principal_after, fee_after = _after(world, matter)
        assert principal_after == principal
        assert fee_after + added["awarded_late_fee"] == late_fee
        assert added["court_costs"] == costs
        # and nothing is created or lost: what was waived is exactly the claim less the award
        waived = {component: sum(Waiver.objects.filter(component=component).values_list("amount", flat=True),
                                 Decimal("0")) for component in ("principal", "late_fee")}
        assert waived == {"principal": owed - principal, "late_fee": max(fees - late_fee, Decimal("0"))}
        transaction.savepoint_rollback(point)


def test_the_filing_date_cannot_be_corrected_because_the_claim_and_limitation_hang_on_it(world):
    # given the complaint filed on 2025-07-31 (limitation restarted on that day)
    matter = _filed(world)
    filed = MatterStage.objects.get()
    # when someone corrects its date to 2025-08-15
    with pytest.raises(DomainError) as refused:
        services.correct_stage(original=filed, staff=world["legal"], reason="日期录错", occurred_on=date(2025, 8, 15))
    # then refused, saying why and what to do; a correction of its note alone is taken
    assert refused.value.code == "filing_date" and "重新立项" in refused.value.zh
    services.correct_stage(original=filed, staff=world["legal"], reason="补充说明", note="邮寄立案")
    assert LimitationEvent.objects.get().occurred_on == FILED
    matter.refresh_from_db()
    assert matter.claim_as_of == FILED


def test_every_form_sent_twice_records_once(world):
    # given: opening, recording an award and closing, each sent twice by the same person
    first = _open(world)
    assert _open(world).pk == first.pk
    services.record_stage(matter=first, route="suit", stage="filed", occurred_on=FILED, staff=world["legal"],
                          document=pdf())
    first.refresh_from_db()
    award = _award(world, first, "1800.00", "205.95")
    assert _award(world, first, "1800.00", "205.95").pk == award.pk
    # a different award while one waits is still refused
    with pytest.raises(DomainError) as refused:
        _award(world, first, "1700.00", "205.95")
    assert refused.value.code == "pending"
    services.approve_award(award=award, staff=world["manager"])
    closed = services.close_matter(matter=first, outcome="recovered", closed_on=date(2025, 12, 1), staff=world["legal"])
    again = services.close_matter(matter=first, outcome="recovered", closed_on=date(2025, 12, 1), staff=world["legal"])
    # then one of each
    assert again.pk == closed.pk and again.status == "closed"
    assert Matter.objects.count() == 1 and Award.objects.count() == 1
    # and closing it again with another outcome is refused: it is closed
    with pytest.raises(DomainError) as refused:
        services.close_matter(matter=first, outcome="withdrawn", closed_on=date(2025, 12, 1), staff=world["legal"])
    assert refused.value.code == "matter_closed"


def test_the_admin_neither_changes_nor_deletes_the_evidence_even_for_a_superuser(world, client):
    # given a recorded filing and a superuser
    from django.contrib.auth import get_user_model

    stage = _filed(world).stages.get()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    assert client.get(f"/admin/legal/matterstage/{stage.pk}/change/").status_code == 200  # shown
    # when they post a change and a deletion through the admin
    changed = client.post(f"/admin/legal/matterstage/{stage.pk}/change/", {"note": "改过", "occurred_on": "2025-01-01"})
    deleted = client.post(f"/admin/legal/matterstage/{stage.pk}/delete/", {"post": "yes"})
    # then both are refused and the row is as written
    assert (changed.status_code, deleted.status_code) == (403, 403)
    stage.refresh_from_db()
    assert (stage.occurred_on, stage.note) == (FILED, "")
