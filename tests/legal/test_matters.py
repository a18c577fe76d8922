"""A matter from opening to closure on each route: stages with their tasks, the claim fixed at filing,
limitation restarted by the court's receipt, an award posted to the ledger to the fen, and the
ladder paused meanwhile.

Scenario: a 100 m² unit at ¥3.00/m²·month, due on the 5th, late fee 0.05%/day after 15 days'
grace, capped at 30%; January–June 2025 billed (six charges of ¥300.00), nothing paid.
Late fee per charge on 2025-07-31 (days after grace × 0.15): 192 → 28.80, 161 → 24.15,
133 → 19.95, 102 → 15.30, 72 → 10.80, 41 → 6.15; total 105.15. On 2025-11-20: 304 → 45.60,
273 → 40.95, 245 → 36.75, 214 → 32.10, 184 → 27.60, 153 → 22.95; total 205.95.
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, IntegrityError, connection, transaction

from arrears.collection.assess import assess
from arrears.collection.models import (
    Case,
    CaseStatus,
    Channel,
    LimitationEvent,
    Task,
    TaskKind,
    TaskStatus,
)
from arrears.collection.run import run_collection
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.ledger import services as ledger_services
from arrears.ledger.models import Charge, Waiver, WaiverStatus
from arrears.legal import claims, services
from arrears.legal.models import Award, AwardStatus, Matter, MatterStage, MatterStatus
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 12, 1, 10, 0, tzinfo=SHANGHAI)
FILED = date(2025, 7, 31)
JUDGED = date(2025, 11, 20)
PDF = b"%PDF-1.4\n% court receipt\n"


def pdf(name="receipt.pdf", body=PDF):
    return SimpleUploadedFile(name, body, content_type="application/pdf")


@pytest.fixture
def world(db):
    community = factories.community()
    unit = factories.unit(community, building="3栋", room="1201")
    owner = factories.owner(unit, name="李四")
    factories.tariff(community, price="3.00", rate="0.0005", grace_days=15, cap="0.3", effective_from=date(2025, 1, 1))
    ledger_services.bill(through=date(2025, 6, 1))
    with time_machine.travel(datetime(2025, 7, 20, 6, 0, tzinfo=SHANGHAI), tick=False):
        run_collection(as_of=date(2025, 7, 20))
    case = Case.objects.get(unit=unit, owner=owner, status=CaseStatus.OPEN)
    legal = factories.user("legal", groups=[roles.LEGAL])
    colleague = factories.user("legal2", groups=[roles.LEGAL])
    manager = factories.user("manager", groups=[roles.MANAGER])
    return {"community": community, "unit": unit, "owner": owner, "case": case, "legal": legal, "colleague": colleague,
            "manager": manager}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _open(world, route="suit", **extra):
    return services.open_matter(case=world["case"], route=route, responsible=world["legal"], staff=world["legal"],
                                opened_on=date(2025, 7, 25), **extra)


def _walk(matter, staff, steps):
    for route, stage, day, extra in steps:
        extra = {key: pdf() if value == DOC else value for key, value in extra.items()}
        services.record_stage(matter=matter, route=route, stage=stage, occurred_on=day, staff=staff, **extra)
        matter.refresh_from_db()


def test_the_claim_is_the_ledger_on_the_filing_date_to_the_fen(world):
    # when the complaint is filed with the court's receipt
    matter = _open(world)
    services.record_stage(matter=matter, route="suit", stage="filed", occurred_on=FILED, staff=world["legal"],
                          document=pdf())
    # then the claim is fixed from the ledger on that day
    matter.refresh_from_db()
    assert matter.claim_as_of == FILED
    assert (matter.claim_principal, matter.claim_late_fee) == (Decimal("1800.00"), Decimal("105.15"))
    assert len(matter.claim_charges) == 6
    lines = claims.claim(unit_id=world["unit"].pk, owner_id=world["owner"].pk, as_of=FILED).lines
    assert [line.late_fee for line in lines] == [Decimal(v) for v in ("28.80", "24.15", "19.95", "15.30", "10.80", "6.15")]


def test_filing_restarts_limitation_only_with_the_courts_receipt(world):
    # given: before filing, the oldest charge (due 2025-01-05) runs out on 2028-01-05
    key = (world["unit"].pk, world["owner"].pk)
    before = {a.key: a for a in assess(date(2025, 12, 1))}[key]
    assert before.limitation_deadline == date(2028, 1, 5)
    matter = _open(world)
    # when a filing is recorded without its receipt, it is refused and nothing is written
    with pytest.raises(DomainError) as refused:
        services.record_stage(matter=matter, route="suit", stage="filed", occurred_on=FILED, staff=world["legal"])
    assert refused.value.code == "file"
    assert not MatterStage.objects.exists() and not LimitationEvent.objects.exists()
    # when it is recorded with the receipt
    services.record_stage(matter=matter, route="suit", stage="filed", occurred_on=FILED, staff=world["legal"],
                          reference="(2025)粤0305民初1234号", document=pdf())
    # then a proven suit event restarts every charge from the filing date: three years on
    event = LimitationEvent.objects.get()
    assert (event.kind, event.occurred_on, event.proofs.get().kind) == ("suit", FILED, "court_receipt")
    after = {a.key: a for a in assess(date(2025, 12, 1))}[key]
    assert after.limitation_deadline == date(2028, 7, 31)


def test_an_open_matter_pauses_the_ladders_contact_steps_and_closing_resumes_them(world):
    # given: the case has open contact tasks from the ladder
    case = world["case"]
    Task.objects.create(community=world["community"], case=case, key="step:call", kind=TaskKind.LADDER,
                        channel=Channel.CALL, title="电话催缴", due_on=date(2025, 7, 21), created_on=date(2025, 7, 20))
    # when a matter opens
    matter = _open(world)
    # then the contact task is cancelled, the case is on hold
    case.refresh_from_db()
    assert case.legal_hold
    assert Task.objects.get(key="step:call").status == TaskStatus.CANCELLED
    # and a run months later fires no contact step, only what is internal
    with time_machine.travel(datetime(2025, 12, 1, 6, 0, tzinfo=SHANGHAI), tick=False):
        run_collection(as_of=date(2025, 12, 1))
    opened = Task.objects.filter(case=case, status=TaskStatus.OPEN, kind=TaskKind.LADDER)
    assert set(opened.values_list("channel", flat=True)) <= {Channel.LEGAL_REVIEW, Channel.FRONT_DESK_FLAG,
                                                             Channel.LAWYER_LETTER}
    assert not case.messages.filter(status="queued").exists()
    # when the matter closes, the hold is released
    services.close_matter(matter=matter, outcome="withdrawn", closed_on=date(2025, 12, 1), staff=world["legal"])
    case.refresh_from_db()
    assert not case.legal_hold


def test_an_award_posted_by_a_second_person_makes_the_ledger_match_the_judgment_to_the_fen(world):
    # given: filed 2025-07-31; judgment of 2025-11-20 awards ¥1,500.00 principal (the oldest month barred),
    # ¥150.00 late fee (cut from the contract's ¥205.95 under 第585条) and ¥50.00 costs on the owner
    matter = _open(world)
    _walk(matter, world["legal"], [
        ("suit", "filed", FILED, {"document": pdf()}),
        ("suit", "accepted", date(2025, 8, 5), {"reference": "(2025)粤0305民初1234号"}),
        ("suit", "judgment", JUDGED, {"document": pdf("judgment.pdf", b"%PDF-1.4 judgment")}),
    ])
    award = services.record_award(
        matter=matter, kind="judgment", decided_on=JUDGED, effective_on=date(2025, 12, 1), late_fee_as_of=JUDGED,
        principal="1500.00", late_fee="150.00", costs="50.00", reference="(2025)粤0305民初1234号",
        document=pdf("judgment.pdf", b"%PDF-1.4 judgment"), staff=world["legal"],
    )
    # when the person who recorded it tries to post it: refused, nothing posted
    with pytest.raises(DomainError) as refused:
        services.approve_award(award=award, staff=world["legal"])
    assert refused.value.code == "four_eyes"
    assert not Waiver.objects.exists()
    # when a manager posts it
    services.approve_award(award=award, staff=world["manager"])
    # then on the judgment's date the claimed charges owe exactly what the court awarded
    matter.refresh_from_db()
    after = claims.claim(unit_id=world["unit"].pk, owner_id=world["owner"].pk, as_of=JUDGED, charge_ids=matter.claim_charges)
    assert (after.principal, after.late_fee) == (Decimal("1500.00"), Decimal("150.00"))
    # the cuts fell on the oldest charges first: January's ¥300.00 principal and ¥45.60 late fee, February's ¥10.35
    waivers = sorted((w.charge.due_date, w.component, w.amount) for w in Waiver.objects.select_related("charge"))
    assert waivers == [(date(2025, 1, 5), "late_fee", Decimal("45.60")), (date(2025, 1, 5), "principal", Decimal("300.00")),
                       (date(2025, 2, 5), "late_fee", Decimal("10.35"))]
    assert set(Waiver.objects.values_list("status", "decided_on", "approved_by")) == {
        (WaiverStatus.APPROVED, JUDGED, world["manager"].pk)}
    # and the costs are their own charge, due on the effective date, with no late fee
    costs = Charge.objects.get(charge_type__code="court_costs")
    assert (costs.amount, costs.due_date, costs.late_fee_daily_rate) == (Decimal("50.00"), date(2025, 12, 1), Decimal("0"))
    award.refresh_from_db()
    assert award.status == AwardStatus.POSTED
    assert award.posted["principal_cut"] == "300.00" and award.posted["late_fee_cut"] == "55.95"
    # and a second approval does nothing twice
    with pytest.raises(DomainError):
        services.approve_award(award=award, staff=world["manager"])
    assert Waiver.objects.count() == 3 and Charge.objects.filter(charge_type__code="court_costs").count() == 1


def test_a_late_fee_awarded_beyond_the_ledgers_is_charged_and_principal_beyond_it_is_refused(world):
    matter = _open(world)
    _walk(matter, world["legal"], [("suit", "filed", FILED, {"document": pdf()})])
    # when the recorded principal exceeds what the claimed charges owe: refused, saying how much they owe
    with pytest.raises(DomainError) as refused:
        services.record_award(matter=matter, kind="judgment", decided_on=JUDGED, late_fee_as_of=JUDGED,
                              principal="1800.01", late_fee="0", costs="0", reference="X", document=pdf(),
                              staff=world["legal"])
    assert refused.value.code == "award_exceeds" and "1800.00" in refused.value.localized
    assert not Award.objects.exists()
    # when the court awards the full principal and ¥250.00 late fee (¥44.05 over the ledger's ¥205.95)
    award = services.record_award(matter=matter, kind="judgment", decided_on=JUDGED, late_fee_as_of=JUDGED,
                                  principal="1800.00", late_fee="250.00", costs="0", reference="X", document=pdf(),
                                  staff=world["legal"])
    services.approve_award(award=award, staff=world["manager"])
    # then nothing is waived and the difference is its own charge
    assert not Waiver.objects.exists()
    extra = Charge.objects.get(charge_type__code="awarded_late_fee")
    assert extra.amount == Decimal("44.05")


DOC = "document"  # a fresh upload of the court document at each use
ROUTES = {
    "mediation": [("mediation", "applied", FILED, {"document": DOC}),
                  ("mediation", "session", date(2025, 9, 10), {}),
                  ("mediation", "agreed", date(2025, 12, 1), {"document": DOC, "amount": "1800.00"})],
    "payment_order": [("payment_order", "applied", FILED, {"document": DOC}),
                      ("payment_order", "accepted", date(2025, 8, 4), {"reference": "(2025)粤0305民督88号"}),
                      ("payment_order", "issued", date(2025, 8, 15), {"document": DOC}),
                      ("payment_order", "served", date(2025, 8, 20), {}),
                      ("payment_order", "effective", date(2025, 9, 5), {"document": DOC}),
                      ("enforcement", "applied", date(2025, 9, 20), {"document": DOC}),
                      ("enforcement", "accepted", date(2025, 9, 25), {"reference": "(2025)粤0305执555号"}),
                      ("enforcement", "recovered", date(2025, 11, 1), {"amount": "1905.15"}),
                      ("enforcement", "completed", date(2025, 11, 2), {"document": DOC})],
    "suit": [("suit", "filed", FILED, {"document": DOC}),
             ("suit", "accepted", date(2025, 8, 5), {"reference": "(2025)粤0305民初1234号"}),
             ("suit", "hearing", date(2025, 10, 9), {}),
             ("suit", "judgment", JUDGED, {"document": DOC}),
             ("suit", "effective", date(2025, 12, 1), {"document": DOC})],
    "arbitration": [("arbitration", "applied", FILED, {"document": DOC}),
                    ("arbitration", "accepted", date(2025, 8, 6), {"reference": "深仲受字(2025)77号"}),
                    ("arbitration", "hearing", date(2025, 10, 15), {}),
                    ("arbitration", "award", date(2025, 12, 1), {"document": DOC})],
    "enforcement": [("enforcement", "applied", FILED, {"document": DOC}),
                    ("enforcement", "accepted", date(2025, 8, 8), {"reference": "(2025)粤0305执1号"}),
                    ("enforcement", "recovered", date(2025, 10, 1), {"amount": "500.00"}),
                    ("enforcement", "terminated", date(2025, 11, 1), {"document": DOC})],
}
CLOSES = {"mediation": "settled", "payment_order": "recovered", "suit": "recovered", "arbitration": "recovered",
          "enforcement": "partly_recovered"}


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_matter_walks_its_route_from_opening_to_closure(world, route):
    # given
    matter = _open(world, route, court="深圳仲裁委员会" if route == "arbitration" else "深圳市福田区人民法院")
    # when every stage is recorded in turn
    _walk(matter, world["legal"], ROUTES[route])
    # then each is on record, the legal person's tasks follow the stages, the route is the last one's
    stages = services.current_stages(matter)
    assert [(s.route, s.stage) for s in stages] == [(r, s) for r, s, _, _ in ROUTES[route]]
    tasks = Task.objects.filter(case=world["case"], kind=TaskKind.LEGAL)
    assert tasks.exists() and set(tasks.values_list("assignee", flat=True)) == {world["legal"].pk}
    assert set(tasks.values_list("channel", flat=True)) == {Channel.LEGAL_REVIEW}
    assert matter.route == ROUTES[route][-1][0]
    # and a filing restarted limitation with the court's receipt
    assert LimitationEvent.objects.filter(kind="suit", occurred_on=FILED).count() == 1
    # when it closes
    services.close_matter(matter=matter, outcome=CLOSES[route], closed_on=date(2025, 12, 1), staff=world["legal"])
    matter.refresh_from_db()
    assert (matter.status, matter.outcome) == (MatterStatus.CLOSED, CLOSES[route])
    # then nothing more can be recorded on it
    with pytest.raises(DomainError) as refused:
        services.record_stage(matter=matter, route=matter.route, stage=ROUTES[route][0][1], occurred_on=FILED,
                              staff=world["legal"], document=pdf())
    assert refused.value.code == "matter_closed"


def test_a_hearing_sets_a_preparation_task_the_day_before_and_a_correction_moves_it(world):
    matter = _open(world)
    hearing = services.record_stage(matter=matter, route="suit", stage="hearing", occurred_on=date(2025, 12, 10),
                                    staff=world["legal"])
    assert (hearing.task.due_on, hearing.task.title) == (date(2025, 12, 9), "准备并出庭")
    # when the court moves the hearing
    moved = services.correct_stage(original=hearing, staff=world["legal"], reason="法院改期",
                                   occurred_on=date(2025, 12, 17))
    # then the old task is cancelled, the new one is the day before the new date, both rows kept
    hearing.task.refresh_from_db()
    assert hearing.task.status == TaskStatus.CANCELLED
    assert moved.task.due_on == date(2025, 12, 16) and moved.corrects_id == hearing.pk
    assert [s.occurred_on for s in services.current_stages(matter)] == [date(2025, 12, 17)]
    assert MatterStage.objects.count() == 2


def test_refusals_say_why_and_write_nothing(world):
    matter = _open(world, "payment_order")
    cases = [
        ({"route": "payment_order", "stage": "nonsense", "occurred_on": FILED}, "stage"),
        ({"route": "payment_order", "stage": "served", "occurred_on": date(2025, 12, 2)}, "date"),  # not scheduled
        ({"route": "payment_order", "stage": "accepted", "occurred_on": FILED}, "reference"),
        ({"route": "arbitration", "stage": "applied", "occurred_on": FILED, "document": pdf()}, "route"),
        ({"route": "enforcement", "stage": "recovered", "occurred_on": FILED, "amount": "-1"}, "amount"),
        ({"route": "payment_order", "stage": "applied", "occurred_on": FILED,
          "document": SimpleUploadedFile("x.exe", b"MZ\x90", content_type="application/octet-stream")}, "file_type"),
    ]
    for kwargs, code in cases:
        with pytest.raises(DomainError) as refused:
            services.record_stage(matter=matter, staff=world["legal"], **kwargs)
        assert refused.value.code == code, kwargs
        assert refused.value.zh and refused.value.en
    assert not MatterStage.objects.exists()
    matter.refresh_from_db()
    assert matter.route == "payment_order"
    # a second matter on the same case is refused
    with pytest.raises(DomainError) as refused:
        _open(world)
    assert refused.value.code == "matter_open"
    # arbitration without the contract's arbitration body is refused
    services.close_matter(matter=matter, outcome="withdrawn", closed_on=date(2025, 12, 1), staff=world["legal"])
    with pytest.raises(DomainError) as refused:
        _open(world, "arbitration")
    assert refused.value.code == "court"


def test_the_database_keeps_stages_and_awards_as_written(world):
    matter = _open(world)
    stage = services.record_stage(matter=matter, route="suit", stage="filed", occurred_on=FILED, staff=world["legal"],
                                  document=pdf())
    with pytest.raises((DomainError, DatabaseError, IntegrityError)), transaction.atomic():
        MatterStage.objects.filter(pk=stage.pk).update(occurred_on=date(2025, 1, 1))
    with pytest.raises(DomainError):
        stage.delete()
    award = services.record_award(matter=matter, kind="judgment", decided_on=JUDGED, late_fee_as_of=JUDGED,
                                  principal="1800.00", late_fee="205.95", costs="0", reference="X", document=pdf(),
                                  staff=world["legal"])
    services.approve_award(award=award, staff=world["manager"])
    # a posted decision cannot be turned back into a request by any client
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE legal_award SET status = 'requested' WHERE id = %s", [award.pk])
    award.refresh_from_db()
    assert award.status == AwardStatus.POSTED
    assert Matter.objects.get().status == MatterStatus.OPEN


def test_paid_in_full_during_the_suit_the_case_closes_but_the_matters_tasks_stay(world):
    matter = _open(world)
    _walk(matter, world["legal"], [("suit", "filed", FILED, {"document": pdf()}),
                                   ("suit", "hearing", date(2025, 12, 20), {})])
    # when the owner pays everything and the run closes the case
    ledger_services.record_payment(unit_id=world["unit"].pk, owner_id=world["owner"].pk, amount="2100.00",
                                   paid_on=date(2025, 12, 1), method="cash")
    with time_machine.travel(datetime(2025, 12, 2, 6, 0, tzinfo=SHANGHAI), tick=False):
        run_collection(as_of=date(2025, 12, 2))
    world["case"].refresh_from_db()
    assert world["case"].status == CaseStatus.CLOSED
    # then the hearing's task is still open for the legal person: the suit must still be withdrawn
    assert Task.objects.filter(case=world["case"], kind=TaskKind.LEGAL, status=TaskStatus.OPEN).count() == 2


def test_a_stage_or_a_cost_sent_twice_is_recorded_once(world):
    matter = _open(world)
    first = services.record_stage(matter=matter, route="suit", stage="filed", occurred_on=FILED, staff=world["legal"],
                                  document=pdf())
    again = services.record_stage(matter=matter, route="suit", stage="filed", occurred_on=FILED, staff=world["legal"],
                                  document=pdf())
    assert again.pk == first.pk
    assert MatterStage.objects.count() == 1 and Task.objects.filter(kind=TaskKind.LEGAL).count() == 1
    assert LimitationEvent.objects.count() == 1
    # two hearings on different days are two stages
    services.record_stage(matter=matter, route="suit", stage="hearing", occurred_on=date(2025, 12, 10), staff=world["legal"])
    services.record_stage(matter=matter, route="suit", stage="hearing", occurred_on=date(2026, 1, 14), staff=world["legal"])
    assert MatterStage.objects.filter(stage="hearing").count() == 2
    cost = services.record_cost(matter=matter, kind="court_fee", amount="50.00", paid_on=FILED, staff=world["legal"])
    assert services.record_cost(matter=matter, kind="court_fee", amount="50.00", paid_on=FILED,
                                staff=world["legal"]).pk == cost.pk
    assert services.costs_total(matter) == Decimal("50.00")
