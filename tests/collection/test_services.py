from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin

from arrears.collection import guard, services
from arrears.collection.admin import ChargeDisputeAdmin
from arrears.collection.models import (
    ChargeDispute,
    CollectionPolicy,
    ContactAttempt,
    LimitationEvent,
    OwnerProfile,
    PlanStatus,
    ProfileChange,
    Promise,
    Task,
)
from arrears.core.errors import DomainError
from arrears.estate.models import Contact
from arrears.ledger import services as ledger_services
from arrears.ledger.models import Allocation, Charge
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 5, 10, 10, 0, tzinfo=SHANGHAI)


def make_task(case, **extra):
    values = {"community": case.community, "case": case, "key": "call_10", "kind": "ladder", "channel": "call",
              "technique": 2, "script_code": "promise_call", "title": "电话提醒", "due_on": date(2026, 5, 10),
              "priority": 10, "created_on": date(2026, 5, 10)}
    values.update(extra)
    return Task.objects.create(**values)


def written_rows():
    return (ContactAttempt.objects.count(), Promise.objects.count(), LimitationEvent.objects.count())


def log(case_obj, staff, **extra):
    values = {"unit": case_obj.unit, "owner": case_obj.owner, "case": case_obj, "channel": "call", "outcome": "answered",
              "staff": staff, "at": AT}
    values.update(extra)
    return services.log_attempt(**values)


# -- log_attempt --------------------------------------------------------------------------------


def test_it_logs_an_answered_call_and_closes_the_task(case, insider):
    # given
    task = make_task(case)
    # when
    attempt = log(case, insider, task=task, notes="说下周来缴")
    # then
    task.refresh_from_db()
    assert (attempt.outcome, attempt.relation, attempt.channel, attempt.notes) == ("answered", "self", "call", "说下周来缴")
    assert attempt.community_id == case.community_id and attempt.staff == insider
    assert task.status == "done" and task.done_at is not None
    assert Promise.objects.count() == 0 and LimitationEvent.objects.count() == 0


def test_it_makes_the_promise_and_a_limitation_event_when_promised(case, insider):
    # when
    attempt = log(case, insider, outcome="promised", promise_amount="600.00", promise_due=date(2026, 5, 17))
    # then
    promise = Promise.objects.get()
    assert (promise.amount, promise.due_on, promise.made_on, promise.attempt, promise.status) == (
        Decimal("600.00"), date(2026, 5, 17), date(2026, 5, 10), attempt, "open")
    event = LimitationEvent.objects.get()
    assert (event.kind, event.occurred_on, event.unit_id, event.owner_id, event.attempt) == (
        "promise", date(2026, 5, 10), case.unit_id, case.owner_id, attempt)


def test_it_copies_the_relation_from_the_contact(case, insider, estate):
    spouse = Contact.objects.get(value="13700001111")
    attempt = log(case, insider, contact=spouse, neutral=True, outcome="no_answer")
    assert attempt.relation == "spouse" and attempt.contact == spouse


@pytest.mark.parametrize("channel", ["letter", "lawyer_letter", "sms", "wechat"])
def test_it_records_a_delivered_written_demand_as_a_limitation_event(case, insider, channel):
    attempt = log(case, insider, channel=channel, outcome="delivered")
    event = LimitationEvent.objects.get()
    assert (event.kind, event.occurred_on, event.attempt) == ("written_demand", date(2026, 5, 10), attempt)


def test_it_records_no_limitation_event_for_a_delivered_visit(case, insider):
    log(case, insider, channel="visit", outcome="delivered")
    assert LimitationEvent.objects.count() == 0


def test_it_logs_an_internal_step_without_asking_the_guard(case, insider, estate):
    # given: the owner asked not to be contacted, but a legal review does not reach the owner
    estate["owner"].do_not_contact = True
    estate["owner"].save()
    # when
    attempt = log(case, insider, channel="legal_review", outcome="answered")
    # then
    assert attempt.outcome == "answered" and attempt.blocked_rule == ""


@pytest.mark.parametrize(("extra", "code"), [
    ({"channel": "fax"}, "channel"),
    ({"outcome": "maybe"}, "outcome"),
    ({"outcome": "blocked"}, "outcome"),
    ({"reason": "lazy"}, "reason"),
    ({"outcome": "promised"}, "promise_missing"),
    ({"outcome": "promised", "promise_amount": "100.00"}, "promise_missing"),
    ({"outcome": "answered", "promise_amount": "100.00", "promise_due": date(2026, 5, 17)}, "promise_unexpected"),
    ({"outcome": "promised", "promise_amount": "0.00", "promise_due": date(2026, 5, 17)}, "promise_amount"),
    ({"outcome": "promised", "promise_amount": "621.01", "promise_due": date(2026, 5, 17)}, "promise_amount"),
    ({"outcome": "promised", "promise_amount": "abc", "promise_due": date(2026, 5, 17)}, "amount"),
    ({"outcome": "promised", "promise_amount": "100.00", "promise_due": date(2026, 5, 9)}, "promise_due"),
    ({"outcome": "promised", "promise_amount": "100.00", "promise_due": date(2026, 7, 10)}, "promise_due"),
    ({"outcome": "promised", "promise_amount": "100.00", "promise_due": date(2026, 5, 17), "case": None}, "case"),
])
def test_it_refuses_bad_input_and_writes_nothing(case, insider, extra, code):
    # given
    task = make_task(case)
    before = written_rows()
    # when
    with pytest.raises(DomainError) as error:
        log(case, insider, task=task if extra.get("case", case) else None, **extra)
    # then
    assert error.value.code == code
    assert written_rows() == before
    task.refresh_from_db()
    assert task.status == "open"


def test_it_refuses_a_contact_of_another_owner(case, insider, estate):
    stranger = Contact.objects.create(community=estate["community"], owner=estate["neighbour_owner"], kind="mobile",
                                      value="13600002222")
    with pytest.raises(DomainError) as error:
        log(case, insider, contact=stranger)
    assert error.value.code == "contact" and ContactAttempt.objects.count() == 0


def test_it_refuses_a_case_of_another_unit(case, insider, estate):
    with pytest.raises(DomainError) as error:
        services.log_attempt(unit=estate["other_unit"], owner=estate["neighbour_owner"], case=case, channel="call",
                             outcome="answered", staff=insider, at=AT)
    assert error.value.code == "case" and ContactAttempt.objects.count() == 0


def test_it_refuses_an_owner_who_never_owned_the_unit(case, insider, estate):
    with pytest.raises(DomainError) as error:
        services.log_attempt(unit=estate["unit"], owner=estate["neighbour_owner"], channel="call", outcome="answered",
                             staff=insider, at=AT)
    assert error.value.code == "owner" and ContactAttempt.objects.count() == 0


def test_it_refuses_a_task_of_another_case(case, insider, estate):
    from tests.collection.conftest import make_case

    other = make_case(estate["other_unit"], estate["neighbour_owner"])
    with pytest.raises(DomainError) as error:
        log(case, insider, task=make_task(other))
    assert error.value.code == "task" and ContactAttempt.objects.count() == 0


# -- make_promise -------------------------------------------------------------------------------


def test_it_makes_a_promise_up_to_the_total_owed_and_60_days_ahead(case, insider):
    # when
    promise = services.make_promise(case=case, amount="621.00", due_on=date(2026, 7, 9), staff=insider)
    # then
    assert (promise.amount, promise.made_on, promise.due_on, promise.created_by) == (
        Decimal("621.00"), date(2026, 5, 10), date(2026, 7, 9), insider)
    assert list(LimitationEvent.objects.values_list("kind", "occurred_on")) == [("promise", date(2026, 5, 10))]


@pytest.mark.parametrize(("amount", "due_on"), [
    ("-1.00", date(2026, 5, 17)), ("621.01", date(2026, 5, 17)), ("100.00", date(2026, 7, 10)), ("100.00", date(2026, 5, 9)),
])
def test_it_refuses_a_promise_out_of_bounds(case, insider, amount, due_on):
    with pytest.raises(DomainError):
        services.make_promise(case=case, amount=amount, due_on=due_on, staff=insider, made_on=date(2026, 5, 10))
    assert Promise.objects.count() == 0 and LimitationEvent.objects.count() == 0


def test_it_refuses_a_promise_on_a_closed_case(case, insider):
    case.status, case.closed_on = "closed", date(2026, 5, 9)
    case.save()
    with pytest.raises(DomainError) as error:
        services.make_promise(case=case, amount="10.00", due_on=date(2026, 5, 17), staff=insider)
    assert error.value.code == "case_closed" and Promise.objects.count() == 0


# -- profile ------------------------------------------------------------------------------------


def test_it_upserts_the_profile_and_keeps_every_change(case, insider, estate):
    # given
    owner = estate["owner"]
    services.set_profile(owner=owner, staff=insider, persona="neglectful", note="常出差")
    # when
    profile = services.set_profile(owner=owner, staff=insider, persona="resistant", irritable=True, reason="service",
                                   intent="excuse")
    # then
    assert OwnerProfile.objects.count() == 1
    assert (profile.persona, profile.irritable, profile.reason, profile.intent, profile.note, profile.updated_by) == (
        "resistant", True, "service", "excuse", "", insider)
    assert list(ProfileChange.objects.order_by("id").values_list("persona", "irritable", "note")) == [
        ("neglectful", False, "常出差"), ("resistant", True, "")]


def test_it_refuses_an_unknown_persona(case, insider, estate):
    with pytest.raises(DomainError):
        services.set_profile(owner=estate["owner"], staff=insider, persona="angry")
    assert OwnerProfile.objects.count() == 0 and ProfileChange.objects.count() == 0


# -- plans --------------------------------------------------------------------------------------


def test_it_splits_a_plan_to_the_fen_with_the_remainder_on_the_last(case, insider):
    # given: 621.00 over 7 months does not divide evenly
    # when
    plan = services.propose_plan(case=case, months=7, first_due=date(2026, 1, 31), staff=insider, include_late_fee=True)
    # then
    rows = list(plan.instalments.values_list("number", "due_on", "amount"))
    assert [amount for _, _, amount in rows] == [Decimal("88.71")] * 6 + [Decimal("88.74")]
    assert sum(amount for _, _, amount in rows) == Decimal("621.00") == plan.total
    assert [due for _, due, _ in rows][:3] == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
    assert (plan.status, plan.breach_days, plan.waive_late_fee_on_completion) == ("proposed", 15, True)


def test_it_takes_the_plan_defaults_from_the_policy(case, insider):
    CollectionPolicy.objects.create(community=case.community, plan_months=3, plan_breach_days=10, plan_waives_late_fee=False)
    plan = services.propose_plan(case=case, first_due=date(2026, 6, 1), staff=insider)
    assert list(plan.instalments.values_list("amount", flat=True)) == [Decimal("200.00")] * 3
    assert (plan.total, plan.breach_days, plan.waive_late_fee_on_completion) == (Decimal("600.00"), 10, False)


@pytest.mark.parametrize("months", [1, 13])
def test_it_refuses_a_plan_of_the_wrong_length(case, insider, months):
    with pytest.raises(DomainError):
        services.propose_plan(case=case, months=months, first_due=date(2026, 6, 1), staff=insider)
    assert not case.plans.exists()


def test_it_accepts_a_plan_as_a_limitation_event_and_cancels_it(case, insider):
    # given
    plan = services.propose_plan(case=case, months=3, first_due=date(2026, 6, 1), staff=insider)
    # when
    services.accept_plan(plan=plan, accepted_on=date(2026, 5, 12))
    # then
    assert (plan.status, plan.accepted_on) == (PlanStatus.ACCEPTED, date(2026, 5, 12))
    assert list(LimitationEvent.objects.values_list("kind", "occurred_on")) == [("plan", date(2026, 5, 12))]
    with pytest.raises(DomainError):
        services.accept_plan(plan=plan, accepted_on=date(2026, 5, 13))
    services.cancel_plan(plan=plan, on=date(2026, 6, 20))
    plan.refresh_from_db()
    assert (plan.status, plan.resolved_on) == ("cancelled", date(2026, 6, 20))
    with pytest.raises(DomainError):
        services.cancel_plan(plan=plan, on=date(2026, 6, 21))


def test_it_refuses_a_second_live_plan(case, insider):
    services.propose_plan(case=case, months=3, first_due=date(2026, 6, 1), staff=insider)
    with pytest.raises(DomainError) as error:
        services.propose_plan(case=case, months=4, first_due=date(2026, 6, 1), staff=insider)
    assert error.value.code == "plan_exists" and case.plans.count() == 1


# -- disputes -----------------------------------------------------------------------------------


def test_it_opens_and_closes_a_dispute(case, insider, estate):
    # given
    charge = Charge.objects.filter(unit=estate["unit"]).order_by("due_date").last()
    # when
    dispute = services.open_dispute(charge=charge, reason="面积有误", staff=insider, opened_on=date(2026, 5, 10))
    # then
    with pytest.raises(DomainError):
        services.open_dispute(charge=charge, reason="再次", staff=insider, opened_on=date(2026, 5, 11))
    with pytest.raises(DomainError):
        services.close_dispute(dispute=dispute, resolution="已核实", closed_on=date(2026, 5, 9))
    services.close_dispute(dispute=dispute, resolution="已核实面积无误", closed_on=date(2026, 5, 20))
    dispute.refresh_from_db()
    assert (dispute.reason, dispute.closed_on, dispute.resolution, dispute.opened_by) == (
        "面积有误", date(2026, 5, 20), "已核实面积无误", insider)
    with pytest.raises(DomainError):
        services.close_dispute(dispute=dispute, resolution="again", closed_on=date(2026, 5, 21))


def held_charges() -> set:
    return set(Charge.objects.filter(on_hold=True).values_list("pk", flat=True))


def open_disputed_charges() -> set:
    return set(ChargeDispute.objects.filter(closed_on__isnull=True).values_list("charge_id", flat=True))


def test_the_ledger_hold_follows_the_open_disputes_and_a_closed_one_frees_the_waiting_credit(case, insider, estate, rf):
    # given: February and April disputed on 05-10; 700.00 paid that day with no designation
    feb, mar, apr = Charge.objects.filter(unit=estate["unit"], owner=estate["owner"]).order_by("due_date")[1:]
    february = services.open_dispute(charge=feb, reason="电梯停运", staff=insider, opened_on=date(2026, 5, 10))
    services.open_dispute(charge=apr, reason="面积有误", staff=insider, opened_on=date(2026, 5, 10))
    payment = ledger_services.record_payment(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount="700.00",
                                             paid_on=date(2026, 5, 10), method="cash")
    # then: the rule passed both by: March 200.00 + 6.60, January's 1.50 late fee; 491.90 waits
    assert held_charges() == open_disputed_charges() == {feb.pk, apr.pk}
    assert payment.unallocated == Decimal("491.90")
    assert not Allocation.objects.filter(charge__in=[feb, apr]).exists()
    # when: February's dispute closes on 05-12
    services.close_dispute(dispute=february, resolution="已核实，费用无误", closed_on=date(2026, 5, 12))
    # then: the waiting credit pays February from 05-12 (200.00 + 96 days' 9.60); April stays held and unpaid
    payment.refresh_from_db()
    assert held_charges() == open_disputed_charges() == {apr.pk}
    assert list(feb.allocations.values_list("component", "amount", "value_date")) == [
        ("principal", Decimal("200.00"), date(2026, 5, 12)), ("late_fee", Decimal("9.60"), date(2026, 5, 12))]
    assert payment.unallocated == Decimal("282.30")
    assert not apr.allocations.exists()
    # when: a dispute on March is entered in the admin
    request = rf.post("/")
    request.user = insider
    added = ChargeDispute(community=mar.community, charge=mar, reason="窗户漏水", opened_on=date(2026, 5, 12))
    ChargeDisputeAdmin(ChargeDispute, admin.site).save_model(request, added, form=SimpleNamespace(initial={}), change=False)
    # then: the cache still equals its derivation
    assert held_charges() == open_disputed_charges() == {apr.pk, mar.pk}


def test_it_refuses_a_dispute_without_a_reason(case, insider, estate):
    charge = Charge.objects.filter(unit=estate["unit"]).first()
    with pytest.raises(DomainError):
        services.open_dispute(charge=charge, reason="  ", staff=insider, opened_on=date(2026, 5, 10))


# -- corrections and edits ----------------------------------------------------------------------


def test_it_corrects_an_attempt_with_a_new_row_and_leaves_the_old_one(case, insider):
    # given
    old = log(case, insider, outcome="answered", notes="接通")
    # when
    correction = services.correct_attempt(attempt=old, staff=insider, notes="其实未接通", outcome="no_answer")
    # then
    old.refresh_from_db()
    assert (old.outcome, old.notes) == ("answered", "接通")
    assert (correction.corrects, correction.outcome, correction.at, correction.channel) == (old, "no_answer", AT, "call")
    assert ContactAttempt.objects.count() == 2


def test_it_edits_an_attempt_within_24_hours_only(case, insider):
    # given
    with time_machine.travel(datetime(2026, 5, 10, 10, 0, tzinfo=SHANGHAI), tick=False):
        attempt = log(case, insider, notes="typo")
    # when: 23 hours later
    with time_machine.travel(datetime(2026, 5, 11, 9, 0, tzinfo=SHANGHAI), tick=False):
        services.edit_attempt(attempt=attempt, staff=insider, notes="fixed", reason="busy")
    # then
    attempt.refresh_from_db()
    assert (attempt.notes, attempt.reason) == ("fixed", "busy")
    with time_machine.travel(datetime(2026, 5, 11, 10, 0, 1, tzinfo=SHANGHAI), tick=False), pytest.raises(DomainError) as error:
        services.edit_attempt(attempt=attempt, staff=insider, notes="too late")
    assert error.value.code == "edit_window"
    attempt.refresh_from_db()
    assert attempt.notes == "fixed"


def test_it_lets_only_the_author_edit(case, insider, estate):
    attempt = log(case, insider)
    other = factories.user("other")
    with pytest.raises(DomainError):
        services.edit_attempt(attempt=attempt, staff=other, notes="mine now")


# -- the guard (last: written against the guard's interface) ------------------------------------


def test_it_records_a_blocked_attempt_with_the_rule_and_keeps_the_task_open(case, insider, estate):
    # given: the owner asked not to be contacted
    estate["owner"].do_not_contact = True
    estate["owner"].save()
    task = make_task(case)
    expected = guard.check_contact(guard.ContactRequest(owner_id=case.owner_id, unit_id=case.unit_id, channel="call",
                                                        at=AT, case_id=case.pk))
    # when
    attempt = log(case, insider, task=task, outcome="promised", promise_amount="100.00", promise_due=date(2026, 5, 17))
    # then
    task.refresh_from_db()
    assert expected.allowed is False
    assert (attempt.outcome, attempt.blocked_rule, attempt.blocked_reason) == ("blocked", str(expected.rule), expected.reason)
    assert task.status == "open" and task.done_at is None
    assert Promise.objects.count() == 0 and LimitationEvent.objects.count() == 0


def test_it_records_the_time_of_the_attempt_given(case, insider):
    attempt = log(case, insider, at=AT - timedelta(hours=1))
    assert attempt.at == AT - timedelta(hours=1)
