"""The daily run on the real database: hand-computed cases, idempotence, closing and reopening."""

import json
from datetime import date, datetime
from decimal import Decimal as D
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from arrears.collection.models import (
    Case,
    CaseStatus,
    CaseStep,
    ChargeDispute,
    CloseReason,
    CollectionPolicy,
    CollectorAssignment,
    ContactAttempt,
    Instalment,
    InstalmentPlan,
    LadderStep,
    LimitationEvent,
    LimitationProof,
    MessageStatus,
    OutgoingMessage,
    OwnerProfile,
    PlanStatus,
    Promise,
    PromiseStatus,
    Task,
    TaskKind,
    TaskStatus,
)
from arrears.collection.reports import case_rows
from arrears.collection.run import run_collection
from arrears.core.errors import DomainError
from arrears.estate.models import Contact, ServiceTicket
from arrears.ledger import services
from arrears.ledger.models import Charge, Waiver
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


@pytest.fixture
def estate():
    """One unit of 100 m² at ¥2.00/m²/month, due on the 5th: ¥200.00 a month from January 2026."""
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    Contact.objects.create(community=community, owner=owner, kind="mobile", value="13800001234")
    factories.tariff(community)
    services.bill(through=date(2026, 1, 1))
    return community, unit, owner


def counts():
    return (Case.objects.count(), Task.objects.count(), OutgoingMessage.objects.count(), CaseStep.objects.count(),
            Promise.objects.filter(status=PromiseStatus.OPEN).count())


def test_it_opens_a_case_the_day_after_the_due_date_and_sends_the_overdue_sms(estate):
    community, unit, owner = estate
    # given one charge of ¥200.00 due 2026-01-05
    # when the run goes on the due date, then the day after
    assert run_collection(as_of=date(2026, 1, 5)).opened == 0
    summary = run_collection(as_of=date(2026, 1, 6))
    # then
    case = Case.objects.get()
    assert (case.opened_on, case.principal, case.days_overdue, case.bucket, case.tier, case.months_overdue) == (
        date(2026, 1, 6), D("200.00"), 1, "1-5", "C", 0)
    assert case.late_fee == D("0.10")  # 万分之五 × ¥200 × 1 day
    assert case.situations == "1" and case.techniques == "1"
    assert case.limitation_deadline == date(2029, 1, 5)
    message = OutgoingMessage.objects.get()
    assert (message.channel, message.template_code, message.status, message.case) == ("sms", "overdue", "queued", case)
    assert message.not_before.isoformat() == "2026-01-06T01:00:00+00:00"  # 09:00 in Shanghai
    assert message.contact.value == "13800001234"
    assert (summary.opened, summary.steps, summary.messages) == (1, 1, 1)
    assert CollectionPolicy.objects.filter(community=community).count() == 1


def test_running_twice_for_a_date_is_running_once(estate):
    run_collection(as_of=date(2026, 1, 6))
    before = counts()
    case = Case.objects.get()
    summary = run_collection(as_of=date(2026, 1, 6))
    assert counts() == before
    assert (summary.opened, summary.closed, summary.updated, summary.steps, summary.tasks, summary.messages) == (0, 0, 0, 0, 0, 0)
    assert Case.objects.get().as_of == case.as_of


def test_it_refuses_to_run_for_a_date_before_the_last_run(estate):
    run_collection(as_of=date(2026, 1, 8))
    with pytest.raises(DomainError) as refused:
        run_collection(as_of=date(2026, 1, 7))
    assert "2026-01-08" in refused.value.zh


def test_the_ladder_moves_on_with_the_days(estate):
    _, unit, _ = estate
    collector = factories.user("wang")
    CollectorAssignment.objects.create(community=unit.community, building=unit.building, user=collector)
    for day in range(6, 16):
        run_collection(as_of=date(2026, 1, day))
    fired = list(CaseStep.objects.order_by("fired_on", "step__code").values_list("step__code", "fired_on"))
    assert fired == [("overdue_sms", date(2026, 1, 6)), ("call_3", date(2026, 1, 8)),
                     ("call_10", date(2026, 1, 15)), ("sms_10", date(2026, 1, 15))]
    call = Task.objects.get(key="step:call_3")
    assert (call.assignee, call.channel, call.technique, call.script_code, call.due_on) == (
        collector, "call", 1, "reminder_call", date(2026, 1, 8))


def test_a_payment_between_runs_closes_the_case_and_a_recurrence_opens_a_new_one(estate):
    community, unit, owner = estate
    run_collection(as_of=date(2026, 1, 8))
    first = Case.objects.get()
    assert Task.objects.get(key="step:call_3").status == TaskStatus.OPEN
    # when the owner pays the principal between two runs
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=D("200.00"), paid_on=date(2026, 1, 9), method="cash")
    run_collection(as_of=date(2026, 1, 9))
    # then the case closes as paid, its open task is cancelled, and a satisfaction call is due
    first.refresh_from_db()
    assert (first.status, first.closed_on, first.close_reason) == (CaseStatus.CLOSED, date(2026, 1, 9), CloseReason.PAID)
    assert Task.objects.get(key="step:call_3").status == TaskStatus.CANCELLED
    assert Task.objects.get(case=first, key="satisfaction").kind == TaskKind.SATISFACTION
    # when February's charge goes unpaid
    services.bill(through=date(2026, 2, 1))
    run_collection(as_of=date(2026, 2, 6))
    second = Case.objects.get(status=CaseStatus.OPEN)
    assert second.pk != first.pk and second.previous == first
    assert (second.oldest_due, second.principal) == (date(2026, 2, 5), D("200.00"))


def test_a_waived_case_closes_as_waived(estate):
    _, unit, owner = estate
    run_collection(as_of=date(2026, 1, 6))
    clerk, manager = factories.user("clerk"), factories.user("boss")
    charge = Charge.objects.get()
    waiver = services.request_waiver(charge_id=charge.pk, component="principal", amount=D("200.00"), reason="房屋漏水补偿",
                                     requested_by=clerk, requested_on=date(2026, 1, 7))
    services.approve_waiver(waiver_id=waiver.pk, approved_by=manager, decided_on=date(2026, 1, 7))
    run_collection(as_of=date(2026, 1, 7))
    case = Case.objects.get()
    assert (case.status, case.close_reason) == (CaseStatus.CLOSED, CloseReason.WAIVED)
    assert not Task.objects.filter(key="satisfaction").exists()


def test_tier_and_months_follow_the_oldest_overdue_charge():
    community = factories.community()
    unit = factories.unit(community, area="300.00")  # ¥600.00 a month
    factories.owner(unit)
    factories.tariff(community)
    services.bill(through=date(2026, 3, 1))
    run_collection(as_of=date(2026, 3, 15))
    case = Case.objects.get()
    # due 2026-01-05, run 2026-03-15: 2 whole months; ¥1,800.00 overdue ≥ ¥1,000 → B
    assert (case.months_overdue, case.principal, case.tier, case.days_overdue, case.bucket) == (
        2, D("1800.00"), "B", 69, "31-90")


def test_a_promise_due_today_gets_a_follow_up_and_a_broken_one_becomes_situation_2(estate):
    _, unit, owner = estate
    run_collection(as_of=date(2026, 1, 6))
    case = Case.objects.get()
    promise = Promise.objects.create(community=case.community, case=case, amount=D("200.00"), due_on=date(2026, 1, 7),
                                     made_on=date(2026, 1, 6))
    run_collection(as_of=date(2026, 1, 7))
    follow_up = Task.objects.get(key=f"promise:{promise.pk}")
    assert (follow_up.kind, follow_up.due_on, follow_up.technique) == (TaskKind.PROMISE_FOLLOW_UP, date(2026, 1, 7), 2)
    assert follow_up.priority == 100 + 150  # tier C, a promise due today comes before ladder steps
    run_collection(as_of=date(2026, 1, 8))
    promise.refresh_from_db()
    assert (promise.status, promise.resolved_on) == (PromiseStatus.BROKEN, date(2026, 1, 8))
    case.refresh_from_db()
    assert case.situations == "1,2" and case.techniques == "1,2,3,7"


def test_a_promise_paid_in_full_is_kept(estate):
    _, unit, owner = estate
    run_collection(as_of=date(2026, 1, 6))
    case = Case.objects.get()
    promise = Promise.objects.create(community=case.community, case=case, amount=D("100.00"), due_on=date(2026, 1, 10),
                                     made_on=date(2026, 1, 6))
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=D("100.00"), paid_on=date(2026, 1, 8), method="wechat")
    run_collection(as_of=date(2026, 1, 8))
    promise.refresh_from_db()
    assert promise.status == PromiseStatus.KEPT
    assert Case.objects.get().principal == D("100.00")


def test_the_ladder_waits_while_a_promise_is_pending(estate):
    run_collection(as_of=date(2026, 1, 6))
    case = Case.objects.get()
    Promise.objects.create(community=case.community, case=case, amount=D("200.00"), due_on=date(2026, 1, 12),
                           made_on=date(2026, 1, 6))
    run_collection(as_of=date(2026, 1, 8))
    assert not Task.objects.filter(key="step:call_3").exists()


def test_a_breached_plan_puts_the_case_back_on_the_ladder():
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    factories.tariff(community)
    services.bill(through=date(2026, 3, 1))
    run_collection(as_of=date(2026, 3, 6))
    case = Case.objects.get()
    plan = InstalmentPlan.objects.create(community=community, case=case, total=D("600.00"), status=PlanStatus.ACCEPTED,
                                         proposed_on=date(2026, 3, 6), accepted_on=date(2026, 3, 6), breach_days=15)
    for number, due in enumerate([date(2026, 3, 10), date(2026, 4, 10), date(2026, 5, 10)], start=1):
        Instalment.objects.create(community=community, plan=plan, number=number, due_on=due, amount=D("200.00"))
    # on a plan, contact steps wait
    run_collection(as_of=date(2026, 3, 25))
    assert not CaseStep.objects.filter(fired_on=date(2026, 3, 25)).exclude(step__channel__in=["front_desk_flag", "legal_review"]).exists()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACCEPTED  # 15 days after 10 March is not yet passed
    run_collection(as_of=date(2026, 3, 26))
    plan.refresh_from_db()
    assert (plan.status, plan.resolved_on) == (PlanStatus.BREACHED, date(2026, 3, 26))
    assert Task.objects.get(key=f"plan:{plan.pk}:breached").kind == TaskKind.PLAN_FOLLOW_UP
    assert CaseStep.objects.filter(fired_on=date(2026, 3, 26)).exists()
    assert owner.pk == case.owner_id


def test_limitation_restarts_on_a_proven_promise_and_on_a_part_payment(estate):
    _, unit, owner = estate
    run_collection(as_of=date(2026, 1, 6))
    assert Case.objects.get().limitation_deadline == date(2029, 1, 5)
    event = LimitationEvent.objects.create(community=unit.community, unit=unit, owner=owner, kind="promise",
                                           occurred_on=date(2026, 2, 1))
    run_collection(as_of=date(2026, 2, 2))
    assert Case.objects.get().limitation_deadline == date(2029, 1, 5)  # no proof: the deadline stays
    LimitationProof.objects.create(community=unit.community, event=event, kind="written_acknowledgement",
                                   sha256="a" * 64, added_at=datetime(2026, 2, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    run_collection(as_of=date(2026, 2, 2))
    assert Case.objects.get().limitation_deadline == date(2029, 2, 1)
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=D("50.00"), paid_on=date(2026, 3, 1), method="cash")
    run_collection(as_of=date(2026, 3, 2))
    assert Case.objects.get().limitation_deadline == date(2029, 3, 1)


def test_it_warns_90_and_30_days_before_the_limitation_deadline(estate):
    run_collection(as_of=date(2028, 10, 6))
    assert not Task.objects.filter(kind=TaskKind.LIMITATION_WARNING).exists()
    run_collection(as_of=date(2028, 10, 7))
    run_collection(as_of=date(2028, 10, 8))
    assert list(Task.objects.filter(kind=TaskKind.LIMITATION_WARNING).values_list("key", flat=True)) == [
        "limitation:2029-01-05:90"]
    run_collection(as_of=date(2028, 12, 6))
    assert Task.objects.filter(kind=TaskKind.LIMITATION_WARNING).count() == 2


def test_a_case_whose_charges_are_all_disputed_pauses(estate):
    _, unit, owner = estate
    ChargeDispute.objects.create(community=unit.community, charge=Charge.objects.get(), reason="面积有误",
                                 opened_on=date(2026, 1, 5))
    run_collection(as_of=date(2026, 1, 6))
    assert Case.objects.get().principal == D("200.00")
    assert not CaseStep.objects.exists() and not OutgoingMessage.objects.exists()


def test_signals_become_situations_and_a_suggested_persona(estate):
    community, unit, owner = estate
    ServiceTicket.objects.create(community=community, unit=unit, kind="rectification", summary="外墙渗水",
                                 opened_on=date(2025, 12, 1))
    OwnerProfile.objects.create(community=community, owner=owner, irritable=True)
    run_collection(as_of=date(2026, 1, 6))
    case = Case.objects.get()
    # situation 4 → ③⑤⑥⑧, but no 苦肉计 (③) for an irritable owner; the resistant owner's service fix (⑥ ⑤) first
    assert (case.situations, case.techniques, case.suggested_persona) == ("1,4", "6,5,1,8", "resistant")


def test_an_unreachable_owner_is_situation_3(estate):
    community, unit, owner = estate
    run_collection(as_of=date(2026, 1, 6))
    case = Case.objects.get()
    for hour in (10, 11, 15):
        ContactAttempt.objects.create(community=community, case=case, unit=unit, owner=owner, channel="call",
                                      at=f"2026-01-06T{hour}:00:00+08:00", outcome="no_answer")
    run_collection(as_of=date(2026, 1, 7))
    case.refresh_from_db()
    assert (case.situations, case.techniques, case.suggested_persona) == ("1,3", "4,7,1", "evasive")


def test_collectors_of_a_building_share_its_cases_evenly():
    community = factories.community()
    factories.tariff(community)
    for room in ("101", "102", "103", "104"):
        factories.owner(factories.unit(community, room=room), name=f"业主{room}")
    a, b = factories.user("a"), factories.user("b")
    building = community.buildings.get()
    CollectorAssignment.objects.create(community=community, building=building, user=a)
    CollectorAssignment.objects.create(community=community, building=building, user=b)
    services.bill(through=date(2026, 1, 1))
    run_collection(as_of=date(2026, 1, 6))
    assert sorted(Case.objects.values_list("collector__username", flat=True)) == ["a", "a", "b", "b"]


def test_only_one_lawyer_letter_is_in_hand_at_once_per_community():
    community = factories.community()
    factories.tariff(community)
    owners = [factories.owner(factories.unit(community, room=room, area=area), name=f"业主{room}")
              for room, area in (("101", "100.00"), ("102", "150.00"))]
    services.bill(through=date(2026, 1, 1))
    run_collection(as_of=date(2026, 1, 6))
    ladder = {step.code: step for step in LadderStep.objects.all()}
    for case in Case.objects.all():
        for code, day in (("heads_up_60", date(2026, 3, 6)), ("letter_1", date(2026, 3, 7)), ("letter_2", date(2026, 4, 6)),
                          ("front_desk_flag", date(2026, 2, 4))):
            CaseStep.objects.create(community=community, case=case, step=ladder[code], fired_on=day)
        for day in ("2026-03-09", "2026-04-08"):  # both letters reached the owner, and nothing was paid
            ContactAttempt.objects.create(community=community, case=case, unit=case.unit, owner=case.owner,
                                          channel="letter", at=f"{day}T10:00:00+08:00", outcome="delivered")
    for owner in owners:
        OwnerProfile.objects.create(community=community, owner=owner, intent="deliberate")
    run_collection(as_of=date(2026, 4, 30))  # day 115: both hear of it privately first
    assert Task.objects.filter(key="step:lawyer_heads_up").count() == 2
    run_collection(as_of=date(2026, 5, 5))  # day 120
    letters = Task.objects.filter(channel="lawyer_letter")
    assert letters.count() == 1
    assert letters.get().case.unit.room == "102"  # the larger debt first
    assert letters.get().assignee is None  # the legal department picks it up
    assert Case.objects.get(unit__room="102").quiet_until == date(2026, 5, 19)


def test_owners_not_in_arrears_get_the_pre_due_notice():
    community = factories.community()
    unit = factories.unit(community)
    factories.owner(unit)
    factories.tariff(community)
    services.bill(through=date(2026, 1, 1))
    run_collection(as_of=date(2025, 12, 29))
    message = OutgoingMessage.objects.get()
    assert (message.template_code, message.case, message.scheduled_on) == ("pre_due", None, date(2025, 12, 29))
    run_collection(as_of=date(2025, 12, 30))
    assert OutgoingMessage.objects.count() == 1


def test_an_owner_whose_prepaid_credit_ran_out_gets_the_other_wording():
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    factories.tariff(community)
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=D("200.00"), paid_on=date(2025, 12, 20), method="cash")
    services.bill(through=date(2026, 2, 1))  # January paid from credit, February not covered
    run_collection(as_of=date(2026, 1, 29))
    assert list(OutgoingMessage.objects.values_list("template_code", flat=True)) == ["pre_due_credit_exhausted"]


def test_report_cases_prints_every_open_case(estate):
    community, unit, owner = estate
    run_collection(as_of=date(2026, 1, 8))
    out = StringIO()
    call_command("report", "cases", "--date", "2026-01-08", "--format", "json", stdout=out)
    [row] = json.loads(out.getvalue())
    assert {k: v for k, v in row.items() if k != "next_steps"} == {
        "case": Case.objects.get().pk, "community": "阳光花园", "building": "1栋", "unit": "1", "room": "101", "owner": "张三",
        "principal": "200.00", "late_fee": "0.30", "oldest_due": "2026-01-05", "days_overdue": 3, "bucket": "1-5",
        "tier": "C", "persona": None, "situations": [1], "techniques": [1], "limitation_deadline": "2029-01-05",
    }
    assert row["next_steps"][0] == {"channel": "call", "due": "2026-01-08", "allowed": True, "blocked_by": None}
    assert [(step["channel"], step["due"]) for step in row["next_steps"]] == [
        ("call", "2026-01-08"), ("call", "2026-01-15"), ("sms", "2026-01-15"), ("call", "2026-01-25")]


def test_report_cases_lists_the_techniques_in_the_personas_order(estate):
    # given an owner who cannot be reached (situation 3: ①④⑦), so the system suggests 逃避型
    community, unit, owner = estate
    run_collection(as_of=date(2026, 1, 6))
    case = Case.objects.get()
    for hour in (10, 11, 15):
        ContactAttempt.objects.create(community=community, case=case, unit=unit, owner=owner, channel="call",
                                      at=f"2026-01-06T{hour}:00:00+08:00", outcome="no_answer")
    out = StringIO()
    # when
    call_command("report", "cases", "--date", "2026-01-07", "--format", "json", stdout=out)
    # then ④ and ⑦ lead
    [row] = json.loads(out.getvalue())
    assert (row["persona"], row["situations"], row["techniques"]) == (None, [1, 3], [4, 7, 1])


def test_report_cases_is_right_before_the_run_and_shows_the_guard(estate):
    _, _, owner = estate
    owner.do_not_contact = True
    owner.save()
    rows = case_rows(date(2026, 1, 6))
    assert rows[0]["next_steps"][0] == {"channel": "sms", "due": "2026-01-06", "allowed": False, "blocked_by": "do_not_contact"}
    assert not Case.objects.exists()
    assert rows[0]["case"] is None  # the run has not opened it yet


def test_the_collect_command_prints_a_summary(estate):
    out = StringIO()
    call_command("collect", "--date", "2026-01-06", "--json", stdout=out)
    assert json.loads(out.getvalue())["opened"] == 1


def test_three_years_of_paid_history_leave_only_the_open_charge():
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    factories.tariff(community, effective_from=date(2023, 1, 1))
    services.bill(through=date(2026, 1, 1))
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=D("7200.00"), paid_on=date(2025, 12, 31), method="cash")
    run_collection(as_of=date(2026, 1, 6))
    assert Case.objects.get().principal == D("200.00")
    assert Case.objects.get().oldest_due == date(2026, 1, 5)


def test_a_do_not_contact_owner_gets_no_sms_and_the_block_is_recorded(estate):
    _, _, owner = estate
    owner.do_not_contact = True
    owner.save()
    summary = run_collection(as_of=date(2026, 1, 6))
    message = OutgoingMessage.objects.get()
    assert (message.status, message.blocked_rule, summary.blocked_messages) == (MessageStatus.BLOCKED, "do_not_contact", 1)
    assert "不再联系" in message.blocked_reason or "联系" in message.blocked_reason


def test_a_completed_plan_asks_for_the_late_fee_to_be_waived(estate):
    community, unit, owner = estate
    run_collection(as_of=date(2026, 2, 4))  # 30 days overdue: ¥3.00 late fee so far
    case = Case.objects.get()
    clerk = factories.user("clerk")
    plan = InstalmentPlan.objects.create(community=community, case=case, total=D("200.00"), status=PlanStatus.ACCEPTED,
                                         proposed_on=date(2026, 2, 4), accepted_on=date(2026, 2, 4), created_by=clerk)
    Instalment.objects.create(community=community, plan=plan, number=1, due_on=date(2026, 2, 10), amount=D("200.00"))
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=D("200.00"), paid_on=date(2026, 2, 10), method="cash")
    run_collection(as_of=date(2026, 2, 10))
    run_collection(as_of=date(2026, 2, 10))
    case.refresh_from_db()
    plan.refresh_from_db()
    assert (case.close_reason, plan.status) == (CloseReason.PLAN_COMPLETED, PlanStatus.COMPLETED)
    [waiver] = Waiver.objects.all()
    # 200 × 0.0005 × 36 days (5 January to 10 February) = 3.60
    assert (waiver.component, waiver.amount, waiver.status, waiver.requested_by) == ("late_fee", D("3.60"), "requested", clerk)


# -- the persona and the seeds' letters (⑧ follow-up, ⑨ heads-up) --------------------------------------


def test_the_collectors_persona_orders_the_techniques_over_the_suggestion(estate):
    community, unit, owner = estate
    run_collection(as_of=date(2026, 1, 6))
    case = Case.objects.get()
    for hour in (10, 11, 15):  # unreachable (situation 3): the system suggests 逃避型
        ContactAttempt.objects.create(community=community, case=case, unit=unit, owner=owner, channel="call",
                                      at=f"2026-01-06T{hour}:00:00+08:00", outcome="no_answer")
    run_collection(as_of=date(2026, 1, 7))
    case.refresh_from_db()
    assert (case.suggested_persona, case.techniques) == ("evasive", "4,7,1")
    # when the collector judges the owner 抗拒型: no ⑥ or ⑤ among this case's techniques, so none is added
    OwnerProfile.objects.create(community=community, owner=owner, persona="resistant")
    run_collection(as_of=date(2026, 1, 8))
    case.refresh_from_db()
    assert (case.suggested_persona, case.techniques) == ("evasive", "1,4,7")


def _letters_fired(case, ladder, **days):
    for code, day in days.items():
        CaseStep.objects.create(community=case.community, case=case, step=ladder[code], fired_on=day)


def _delivered(case, channel, day):
    """What the letters module records when a letter reaches the owner: the attempt and the quiet period."""
    ContactAttempt.objects.create(community=case.community, case=case, unit=case.unit, owner=case.owner, channel=channel,
                                  at=f"{day.isoformat()}T12:00:00+08:00", outcome="delivered")


def test_it_follows_up_the_day_after_a_delivered_letters_quiet_week_once(estate):
    # given letter #1 fell due on 03-07 (day 61) and reached the owner on 03-10: quiet to 03-17
    run_collection(as_of=date(2026, 1, 6))
    case = Case.objects.get()
    ladder = {step.code: step for step in LadderStep.objects.all()}
    _letters_fired(case, ladder, front_desk_flag=date(2026, 2, 4), heads_up_60=date(2026, 3, 6), letter_1=date(2026, 3, 7))
    _delivered(case, "letter", date(2026, 3, 10))
    Case.objects.filter(pk=case.pk).update(quiet_until=date(2026, 3, 17))
    # when the run goes on the last quiet day, then the day after, then again the same day
    run_collection(as_of=date(2026, 3, 17))
    assert not Task.objects.filter(key="step:letter_1_follow_up").exists()
    run_collection(as_of=date(2026, 3, 18))
    before = counts()
    run_collection(as_of=date(2026, 3, 18))
    # then one call task, the day after the quiet week, with the follow-up words; a rerun adds nothing
    task = Task.objects.get(key="step:letter_1_follow_up")
    assert (task.channel, task.title, task.script_code, task.technique, task.due_on) == (
        "call", "函件静默期结束后跟进", "letter_follow_up", 8, date(2026, 3, 18))
    assert counts() == before
    assert CaseStep.objects.filter(case=case, step__code="letter_1_follow_up").count() == 1


def test_it_does_not_follow_up_a_letter_not_yet_delivered(estate):
    run_collection(as_of=date(2026, 1, 6))
    case = Case.objects.get()
    ladder = {step.code: step for step in LadderStep.objects.all()}
    _letters_fired(case, ladder, front_desk_flag=date(2026, 2, 4), heads_up_60=date(2026, 3, 6), letter_1=date(2026, 3, 7))
    Case.objects.filter(pk=case.pk).update(quiet_until=date(2026, 3, 14))
    run_collection(as_of=date(2026, 3, 18))
    assert not Task.objects.filter(key="step:letter_1_follow_up").exists()
    # the delivery recorded on 03-18 starts the quiet week; the call comes on 03-26
    _delivered(case, "letter", date(2026, 3, 18))
    Case.objects.filter(pk=case.pk).update(quiet_until=date(2026, 3, 25))
    run_collection(as_of=date(2026, 3, 25))
    assert not Task.objects.filter(key="step:letter_1_follow_up").exists()
    run_collection(as_of=date(2026, 3, 26))
    assert Task.objects.get(key="step:letter_1_follow_up").due_on == date(2026, 3, 26)


def test_the_heads_up_before_a_lawyer_letter_goes_only_to_eligible_cases():
    # given two owners each with two delivered, unpaid letters; only one judged deliberate (恶意)
    community = factories.community()
    factories.tariff(community)
    deliberate, other = (factories.owner(factories.unit(community, room=room), name=f"业主{room}") for room in ("101", "102"))
    services.bill(through=date(2026, 1, 1))
    run_collection(as_of=date(2026, 1, 6))
    ladder = {step.code: step for step in LadderStep.objects.all()}
    for case in Case.objects.all():
        _letters_fired(case, ladder, front_desk_flag=date(2026, 2, 4), heads_up_60=date(2026, 3, 6),
                       letter_1=date(2026, 3, 7), letter_1_follow_up=date(2026, 3, 17), letter_2=date(2026, 4, 6),
                       letter_2_follow_up=date(2026, 4, 16))
        for day in (date(2026, 3, 9), date(2026, 4, 8)):
            _delivered(case, "letter", day)
    OwnerProfile.objects.create(community=community, owner=deliberate, intent="deliberate")
    # when the run reaches day 114, 115, then 120
    run_collection(as_of=date(2026, 4, 29))
    assert not Task.objects.filter(key="step:lawyer_heads_up").exists()
    run_collection(as_of=date(2026, 4, 30))
    run_collection(as_of=date(2026, 4, 30))
    # then only the eligible owner hears privately, once; the lawyer letter follows five days later
    heads_up = Task.objects.get(key="step:lawyer_heads_up")
    assert (heads_up.case.owner, heads_up.channel, heads_up.script_code, heads_up.title) == (
        deliberate, "call", "lawyer_heads_up", "律师函前私下告知")
    run_collection(as_of=date(2026, 5, 4))
    assert not Task.objects.filter(channel="lawyer_letter").exists()
    run_collection(as_of=date(2026, 5, 5))
    assert list(Task.objects.filter(channel="lawyer_letter").values_list("case__owner", flat=True)) == [deliberate.pk]
    assert not Task.objects.filter(case__owner=other, key__in=["step:lawyer_heads_up", "step:lawyer_letter"]).exists()
