from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin

from arrears.collection import guard, limitation, services
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

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 5, 10, 10, 0, tzinfo=SHANGHAI)
NOW = datetime(2026, 5, 10, 12, 30, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def clock(today):
    """Half past noon on the fixtures' day: AT (10:00) is a contact of this morning."""
    with time_machine.travel(NOW, tick=False):
        yield NOW


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
    attempt = log(case, insider, contact=spouse, outcome="no_answer")
    assert attempt.relation == "spouse" and attempt.contact == spouse


@pytest.mark.parametrize("channel", ["letter", "lawyer_letter"])
def test_it_refuses_a_letter_delivered_outside_the_letters_module(case, insider, channel):
    # given
    before = written_rows()
    # when
    with pytest.raises(DomainError) as refused:
        log(case, insider, channel=channel, outcome="delivered")
    # then
    assert refused.value.code == "letter_channel"
    assert written_rows() == before


def test_it_records_a_letter_the_letters_module_delivered_with_its_tracking_number_as_proven(case, insider):
    # when
    attempt = log(case, insider, channel="letter", outcome="delivered", letter=limitation.LetterDelivery(
        number="CF001-2026-00001", method="挂号信", tracking_no="XA123456789CN"))
    # then
    event = LimitationEvent.objects.get()
    assert (event.kind, event.occurred_on, event.attempt) == ("written_demand", date(2026, 5, 10), attempt)
    assert list(event.proofs.values_list("kind", "reference")) == [("letter_delivery", "CF001-2026-00001 挂号信 XA123456789CN")]


@pytest.mark.parametrize("channel", ["sms", "wechat"])
def test_it_records_no_limitation_event_for_a_message_logged_as_delivered(case, insider, channel):
    log(case, insider, channel=channel, outcome="delivered")
    assert LimitationEvent.objects.count() == 0


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
    # when: the owner accepts it two days later
    with time_machine.travel(datetime(2026, 5, 12, 10, 0, tzinfo=SHANGHAI), tick=False):
        services.accept_plan(plan=plan, accepted_on=date(2026, 5, 12))
    # then
    assert (plan.status, plan.accepted_on) == (PlanStatus.ACCEPTED, date(2026, 5, 12))
    assert list(LimitationEvent.objects.values_list("kind", "occurred_on")) == [("plan", date(2026, 5, 12))]
    assert list(limitation.unproven_events()) == list(LimitationEvent.objects.all())  # no signed plan yet
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


# -- corrections (never an edit in place) ------------------------------------------------------


def test_it_corrects_an_attempt_with_a_new_row_and_leaves_the_old_one(case, insider):
    # given
    old = log(case, insider, outcome="answered", notes="接通")
    # when
    correction = services.correct_attempt(attempt=old, staff=insider, correction_reason="其实未接通", outcome="no_answer")
    # then
    old.refresh_from_db()
    assert (old.outcome, old.notes) == ("answered", "接通")
    assert (correction.corrects, correction.outcome, correction.at, correction.channel, correction.notes,
            correction.correction_reason, correction.staff) == (old, "no_answer", AT, "call", "接通", "其实未接通", insider)
    assert ContactAttempt.objects.count() == 2
    assert list(ContactAttempt.objects.current()) == [correction]
    assert list(ContactAttempt.objects.superseded()) == [old]


def test_it_offers_no_edit_in_place():
    assert not hasattr(services, "edit_attempt") and not hasattr(services, "EDIT_WINDOW")


@pytest.mark.parametrize(("extra", "code"), [
    ({"correction_reason": "  "}, "correction_reason"),
    ({"correction_reason": "x" * 301}, "correction_reason"),
    ({"correction_reason": "无变化"}, "unchanged"),
    ({"correction_reason": "改为未来", "at": NOW + timedelta(minutes=1)}, "at_future"),
    ({"correction_reason": "改为承诺", "outcome": "promised"}, "promise_missing"),
    ({"correction_reason": "改为已拦截", "outcome": "blocked"}, "outcome"),
])
def test_it_refuses_a_bad_correction_and_writes_nothing(case, insider, extra, code):
    # given
    old = log(case, insider)
    before = written_rows()
    # when
    with pytest.raises(DomainError) as error:
        services.correct_attempt(attempt=old, staff=insider, **extra)
    # then
    assert error.value.code == code and written_rows() == before


def test_it_corrects_only_the_latest_version_and_points_every_correction_at_the_original(case, insider):
    # given
    old = log(case, insider, outcome="answered")
    first = services.correct_attempt(attempt=old, staff=insider, correction_reason="未接通", outcome="no_answer")
    # when: correcting the original again is refused; the latest correction may be corrected
    with pytest.raises(DomainError) as error:
        services.correct_attempt(attempt=old, staff=insider, correction_reason="再改", outcome="rejected")
    second = services.correct_attempt(attempt=first, staff=insider, correction_reason="对方拒接", outcome="rejected")
    # then
    assert error.value.code == "superseded"
    assert (first.corrects, second.corrects) == (old, old)
    assert list(ContactAttempt.objects.current()) == [second]
    assert set(ContactAttempt.objects.superseded()) == {old, first}


def test_it_cancels_the_promise_of_an_attempt_corrected_to_no_answer(case, insider):
    # given
    attempt = log(case, insider, outcome="promised", promise_amount="600.00", promise_due=date(2026, 5, 17))
    # when
    correction = services.correct_attempt(attempt=attempt, staff=insider, correction_reason="记错了，电话没接通",
                                          outcome="no_answer")
    # then
    promise = Promise.objects.get()
    assert (promise.attempt, promise.status, promise.resolved_on) == (attempt, "cancelled", date(2026, 5, 10))
    assert correction.promises.count() == 0


def test_it_makes_the_promise_of_an_attempt_corrected_to_promised(case, insider):
    # given
    attempt = log(case, insider, outcome="answered")
    # when
    correction = services.correct_attempt(attempt=attempt, staff=insider, correction_reason="漏记了承诺", outcome="promised",
                                          promise_amount="300.00", promise_due=date(2026, 5, 20))
    # then
    assert list(Promise.objects.values_list("attempt", "amount", "due_on", "made_on", "status")) == [
        (correction.pk, Decimal("300.00"), date(2026, 5, 20), date(2026, 5, 10), "open")]


def test_it_carries_the_promise_over_when_only_the_notes_are_corrected(case, insider):
    # given
    attempt = log(case, insider, outcome="promised", promise_amount="600.00", promise_due=date(2026, 5, 17))
    # when
    correction = services.correct_attempt(attempt=attempt, staff=insider, correction_reason="补记内容", notes="周日来缴")
    # then
    assert list(Promise.objects.order_by("pk").values_list("attempt", "amount", "due_on", "status")) == [
        (attempt.pk, Decimal("600.00"), date(2026, 5, 17), "cancelled"),
        (correction.pk, Decimal("600.00"), date(2026, 5, 17), "open")]


def test_it_judges_a_corrected_time_without_counting_the_contact_twice(case, insider):
    # given: one call a day, and this morning's call logged at 10:00
    CollectionPolicy.objects.create(community=case.community, calls_per_day=1)
    attempt = log(case, insider)
    # when: the time is corrected to 11:00, then to 13:00 (the lunch break)
    at_eleven = services.correct_attempt(attempt=attempt, staff=insider, correction_reason="实际 11 点",
                                         at=datetime(2026, 5, 10, 11, 0, tzinfo=SHANGHAI))
    at_one = services.correct_attempt(attempt=at_eleven, staff=insider, correction_reason="实际 13 点",
                                      at=datetime(2026, 5, 10, 13, 0, tzinfo=SHANGHAI) - timedelta(hours=1, minutes=1))
    # then: the call itself is not a second call of the day; 11:59 is inside 08:00–12:00
    assert (at_eleven.violation_rule, at_one.violation_rule) == ("", "")


def test_it_removes_the_refused_signal_when_the_refusal_is_corrected(case, insider):
    from arrears.collection.assess import assess

    # given
    attempt = log(case, insider, outcome="refused")
    assert _signals(assess, case).refused is True
    # when
    services.correct_attempt(attempt=attempt, staff=insider, correction_reason="业主其实答应考虑", outcome="answered")
    # then
    assert _signals(assess, case).refused is False


def test_it_counts_the_latest_version_in_the_unreachable_streak(case, insider):
    from arrears.collection.assess import assess

    # given: three failed calls, the last corrected to answered
    first = log(case, insider, outcome="no_answer", at=AT - timedelta(days=2))
    log(case, insider, outcome="no_answer", at=AT - timedelta(days=1))
    last = log(case, insider, outcome="no_answer")
    assert _signals(assess, case).failed_streak == 3
    # when
    services.correct_attempt(attempt=last, staff=insider, correction_reason="其实接通了", outcome="answered")
    # then
    assert _signals(assess, case).failed_streak == 0
    assert first.outcome == "no_answer"


def _signals(assess, case):
    (found,) = [entry for entry in assess(date(2026, 5, 10)) if entry.key == (case.unit_id, case.owner_id)]
    return found.signals


# -- the time of contact ------------------------------------------------------------------------


def test_it_keeps_the_promise_of_a_call_at_1150_logged_at_1208(case, insider):
    # given
    task = make_task(case)
    # when: logged at 12:08 for a call made at 11:50
    with time_machine.travel(datetime(2026, 5, 10, 12, 8, tzinfo=SHANGHAI), tick=False):
        attempt = log(case, insider, task=task, at=datetime(2026, 5, 10, 11, 50, tzinfo=SHANGHAI), outcome="promised",
                      promise_amount="600.00", promise_due=date(2026, 5, 17))
    # then: inside 08:00–12:00, no violation, the promise stands
    task.refresh_from_db()
    assert (attempt.outcome, attempt.violation_rule, attempt.violation_reason) == ("promised", "", "")
    assert (attempt.at, attempt.created_at) == (datetime(2026, 5, 10, 11, 50, tzinfo=SHANGHAI),
                                                datetime(2026, 5, 10, 12, 8, tzinfo=SHANGHAI))
    assert list(Promise.objects.values_list("attempt", "status")) == [(attempt.pk, "open")]
    assert task.status == "done"


def test_it_records_a_call_at_1230_as_made_with_the_violation(case, insider):
    # given
    task = make_task(case)
    # when: logged at 12:40 for a call made at 12:30
    with time_machine.travel(datetime(2026, 5, 10, 12, 40, tzinfo=SHANGHAI), tick=False):
        attempt = log(case, insider, task=task, at=datetime(2026, 5, 10, 12, 30, tzinfo=SHANGHAI), outcome="promised",
                      promise_amount="600.00", promise_due=date(2026, 5, 17))
    # then
    task.refresh_from_db()
    assert (attempt.outcome, attempt.violation_rule, attempt.blocked_rule) == ("promised", "outside_hours", "")
    assert attempt.violation_reason == "电话仅可在 08:00–12:00、14:00–21:00 拨打 / calls only 08:00–12:00 and 14:00–21:00"
    assert list(Promise.objects.values_list("attempt", "status")) == [(attempt.pk, "open")]
    assert task.status == "done"


@pytest.mark.parametrize(("at", "code"), [
    (NOW + timedelta(minutes=1), "at_future"),
    (NOW - timedelta(days=7, minutes=1), "at_too_old"),
])
def test_it_refuses_a_time_of_contact_in_the_future_or_over_7_days_back(case, insider, at, code):
    # given
    task = make_task(case)
    before = written_rows()
    # when
    with pytest.raises(DomainError) as error:
        log(case, insider, task=task, at=at)
    # then
    assert error.value.code == code and written_rows() == before
    task.refresh_from_db()
    assert task.status == "open"


def test_it_accepts_a_time_of_contact_exactly_7_days_back(case, insider):
    # when: 2026-05-03 was in the Labour Day holiday
    attempt = log(case, insider, at=NOW - timedelta(days=7))
    # then: recorded as made, with the rule it broke
    assert (attempt.at, attempt.outcome, attempt.violation_rule) == (datetime(2026, 5, 3, 12, 30, tzinfo=SHANGHAI), "answered",
                                                                     "holiday")


# -- third parties ------------------------------------------------------------------------------


@pytest.mark.parametrize(("extra", "code"), [
    ({"outcome": "promised", "promise_amount": "100.00", "promise_due": date(2026, 5, 17)}, "third_party_outcome"),
    ({"outcome": "refused"}, "third_party_outcome"),
    ({"outcome": "answered"}, "third_party_outcome"),
    ({"outcome": "complaint"}, "third_party_outcome"),
    ({"outcome": "paid"}, "third_party_outcome"),
    ({"outcome": "no_answer", "reason": "economic"}, "third_party_reason"),
])
def test_it_refuses_a_debt_outcome_from_a_relative_and_writes_nothing(case, insider, extra, code):
    # given: the spouse was not authorised to hear of the debt
    spouse = Contact.objects.get(value="13700001111")
    task = make_task(case)
    before = written_rows()
    # when
    with pytest.raises(DomainError) as error:
        log(case, insider, contact=spouse, task=task, **extra)
    # then
    assert error.value.code == code and written_rows() == before
    assert "未获业主授权" in error.value.zh or "第三方" in error.value.zh
    task.refresh_from_db()
    assert task.status == "open"


@pytest.mark.parametrize("outcome", ["callback_requested", "wrong_number", "no_answer", "declined_to_pass_on"])
def test_it_records_a_neutral_outcome_from_a_relative_without_any_effect(case, insider, outcome):
    from arrears.collection.assess import assess

    # given
    spouse = Contact.objects.get(value="13700001111")
    # when
    attempt = log(case, insider, contact=spouse, outcome=outcome)
    # then
    assert (attempt.outcome, attempt.third_party, attempt.relation, attempt.violation_rule) == (outcome, True, "spouse", "")
    assert Promise.objects.count() == 0 and LimitationEvent.objects.count() == 0
    assert _signals(assess, case).failed_streak == 0


def test_it_takes_a_promise_from_an_authorised_relative(case, insider):
    spouse = Contact.objects.get(value="13700001111")
    spouse.disclosure_authorised = True
    spouse.save()
    attempt = log(case, insider, contact=spouse, outcome="promised", promise_amount="100.00", promise_due=date(2026, 5, 17))
    assert attempt.third_party is False and Promise.objects.get().attempt == attempt


def test_it_refuses_a_relayed_outcome_for_the_owner_in_person(case, insider):
    with pytest.raises(DomainError) as error:
        log(case, insider, outcome="callback_requested")
    assert error.value.code == "outcome" and ContactAttempt.objects.count() == 0


def test_it_keeps_a_relatives_correction_to_neutral_outcomes(case, insider):
    # given
    spouse = Contact.objects.get(value="13700001111")
    attempt = log(case, insider, contact=spouse, outcome="no_answer")
    before = written_rows()
    # when
    with pytest.raises(DomainError) as error:
        services.correct_attempt(attempt=attempt, staff=insider, correction_reason="其实承诺了", outcome="promised",
                                 promise_amount="100.00", promise_due=date(2026, 5, 17))
    # then
    assert error.value.code == "third_party_outcome" and written_rows() == before


# -- the guard judges the time of contact (last: written against the guard's interface) ---------


def test_it_records_a_contact_that_broke_a_rule_as_made_and_keeps_its_promise(case, insider, estate):
    # given: the owner asked not to be contacted, and the collector called anyway
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
    assert (attempt.outcome, attempt.violation_rule, attempt.violation_reason, attempt.blocked_rule) == (
        "promised", str(expected.rule), expected.reason, "")
    assert task.status == "done"
    assert list(Promise.objects.values_list("attempt", "amount")) == [(attempt.pk, Decimal("100.00"))]


def test_it_records_the_time_of_the_attempt_given(case, insider):
    attempt = log(case, insider, at=AT - timedelta(hours=1))
    assert attempt.at == AT - timedelta(hours=1)


def test_it_stops_counting_a_corrected_refusal_toward_a_lawyer_letter(case, insider):
    from arrears.notices.letters import lawyer_letter_checks

    # given
    attempt = log(case, insider, outcome="refused")
    deliberate = "未认定为恶意欠费（拒缴、两次失约或画像为恶意） / arrears not established as deliberate"
    assert deliberate not in lawyer_letter_checks([case], date(2026, 5, 10))[case.pk].reasons
    # when
    services.correct_attempt(attempt=attempt, staff=insider, correction_reason="录错了，业主没有拒缴", outcome="answered")
    # then
    assert deliberate in lawyer_letter_checks([case], date(2026, 5, 10))[case.pk].reasons


def test_it_finds_one_current_version_in_a_chain_of_corrections_from_before_they_pointed_at_the_original(case, insider):
    # given: B corrects A and C corrects B (how rows could chain before this rule)
    a = log(case, insider)
    b = ContactAttempt.objects.create(community=a.community, unit=a.unit, owner=a.owner, channel="call", at=a.at,
                                      outcome="no_answer", corrects=a, correction_reason="未接通")
    c = ContactAttempt.objects.create(community=a.community, unit=a.unit, owner=a.owner, channel="call", at=a.at,
                                      outcome="rejected", corrects=b, correction_reason="拒接")
    # when
    current, superseded = list(ContactAttempt.objects.current()), set(ContactAttempt.objects.superseded())
    # then
    assert current == [c] and superseded == {a, b}
    with pytest.raises(DomainError) as error:
        services.correct_attempt(attempt=b, staff=insider, correction_reason="再改", outcome="answered")
    assert error.value.code == "superseded"
    assert services.correct_attempt(attempt=c, staff=insider, correction_reason="其实接通", outcome="answered").corrects == a


@pytest.mark.parametrize("extra", [{"corrects": "a", "correction_reason": ""}, {"violation_rule": "holiday", "violation_reason": ""}])
def test_the_database_refuses_a_correction_without_a_reason_or_a_violation_without_one(case, insider, extra):
    from django.db import IntegrityError, transaction

    # given
    a = log(case, insider)
    values = {**extra, **({"corrects": a} if extra.get("corrects") else {})}
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactAttempt.objects.create(community=a.community, unit=a.unit, owner=a.owner, channel="call", at=a.at,
                                      outcome="answered", **values)
    assert ContactAttempt.objects.count() == 1


def test_it_leaves_a_letters_delivery_to_the_letters_module(case, insider):
    # given a letter recorded as delivered through the letters module
    from arrears.collection import limitation
    with time_machine.travel(NOW, tick=False):
        attempt = services.log_attempt(unit=case.unit, owner=case.owner, case=case, channel="letter", outcome="delivered",
                                       staff=insider, at=NOW, letter=limitation.LetterDelivery(
                                           number="CF001-2026-00001", method="ems", tracking_no="EA123456789CN"))
    before = written_rows()
    # when it is corrected as a contact attempt
    with pytest.raises(DomainError) as error:
        services.correct_attempt(attempt=attempt, staff=insider, correction_reason="日期记错", outcome="answered")
    # then it is refused: the letters page corrects a delivery
    assert error.value.code == "letter_channel" and written_rows() == before


def test_it_logs_a_task_sent_twice_once(case, insider):
    # given: the same task read by two requests (a double tap on "记录"), both see it open
    make_task(case)
    first, second = Task.objects.get(), Task.objects.get()
    values = {"unit": case.unit, "owner": case.owner, "case": case, "channel": "call", "outcome": "promised",
              "staff": insider, "at": AT, "promise_amount": "600.00", "promise_due": date(2026, 5, 17)}
    services.log_attempt(task=first, **values)
    # when: the second request logs it again
    with pytest.raises(DomainError) as refused:
        services.log_attempt(task=second, **values)
    # then: refused with a reason, one contact, one promise, one limitation event
    assert (refused.value.code, refused.value.en) == ("task_done", "this task was already done")
    assert written_rows() == (1, 1, 1)
