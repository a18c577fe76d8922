"""Races on the collector's day, on PostgreSQL (helper L): the same card logged from two phones at
once, a waiver decided by two managers at once, a plan proposed twice at once. Threads with their
own connections; nothing doubled, nothing lost, money neither appears nor vanishes."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from arrears.collection import outcomes, services
from arrears.collection.models import ContactAttempt, InstalmentPlan, SatisfactionRating, Task
from arrears.core import roles
from arrears.estate.models import ServiceTicket
from arrears.ledger.models import Waiver
from tests import factories
from tests.collection.conftest import make_case
from tests.collection.test_break_races import _race
from tests.collection.test_views import make_task
from tests.staff import conftest as staff

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 5, 10, 15, 30, tzinfo=SHANGHAI)
CALL = datetime(2026, 5, 10, 10, 5, tzinfo=SHANGHAI)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
estate = staff.estate
today = staff.today


def _kinds(results):
    return sorted(type(r).__name__ for r in results)


def test_unsatisfied_logged_from_two_phones_at_once_is_one_attempt_one_rating_one_ticket(estate):
    collector = factories.user("c1", groups=[roles.COLLECTOR])
    with time_machine.travel(NOW, tick=False):
        case = make_case(estate["unit"], estate["owner"], collector=collector)
        task = make_task(case, key="thanks", kind="satisfaction", technique=None, script_code="")

        def log():
            with time_machine.travel(NOW, tick=False):
                return outcomes.log_card(task=Task.objects.get(pk=task.pk), outcome="", satisfaction="unsatisfied",
                                         staff=collector, at=CALL, notes="电梯坏了")

        results = _race(log, log)
    assert _kinds(results) == ["DomainError", "Logged"], results
    assert (ContactAttempt.objects.count(), SatisfactionRating.objects.count(), ServiceTicket.objects.count(),
            Task.objects.filter(kind="complaint_follow_up").count()) == (1, 1, 1, 1)


def test_a_waiver_approved_and_rejected_at_once_ends_one_way(estate):
    collector = factories.user("c1", groups=[roles.COLLECTOR])
    boss, other_boss = (factories.user(name, groups=[roles.MANAGER]) for name in ("m1", "m2"))
    with time_machine.travel(NOW, tick=False):
        case = make_case(estate["unit"], estate["owner"], collector=collector)
        [waiver] = outcomes.request_case_waiver(case=case, component="late_fee", amount="1.50", reason="约定", staff=collector)
        from arrears.ledger import services as ledger_services

        def approve():
            with time_machine.travel(NOW, tick=False):
                return ledger_services.approve_waiver(waiver_id=waiver.pk, approved_by=boss)

        def reject():
            with time_machine.travel(NOW, tick=False):
                return ledger_services.reject_waiver(waiver_id=waiver.pk, decided_by=other_boss)

        results = _race(approve, reject)
    # then: one decision stands and the other is refused; the row says what the ledger did
    assert _kinds(results) == ["DomainError", "Waiver"], results
    winner = next(r for r in results if isinstance(r, Waiver))
    waiver.refresh_from_db()
    assert (waiver.status, waiver.approved_by_id) == (winner.status, winner.approved_by_id)


def test_a_waiver_approved_by_two_managers_at_once_is_approved_once(estate):
    collector = factories.user("c1", groups=[roles.COLLECTOR])
    boss, other_boss = (factories.user(name, groups=[roles.MANAGER]) for name in ("m1", "m2"))
    with time_machine.travel(NOW, tick=False):
        case = make_case(estate["unit"], estate["owner"], collector=collector)
        [waiver] = outcomes.request_case_waiver(case=case, component="late_fee", amount="1.50", reason="约定", staff=collector)
        from arrears.ledger import services as ledger_services

        def approve(who):
            def job():
                with time_machine.travel(NOW, tick=False):
                    return ledger_services.approve_waiver(waiver_id=waiver.pk, approved_by=who)
            return job

        results = _race(approve(boss), approve(other_boss))
        # then: once; the late fee owed drops by exactly 1.50 (21.00 → 19.50)
        assert _kinds(results) == ["DomainError", "Waiver"], results
        assert outcomes.owed_today(case, date(2026, 5, 10)) == (Decimal("600.00"), Decimal("19.50"))
    assert Waiver.objects.get().status == "approved"


def test_a_plan_proposed_twice_at_once_is_proposed_once(estate):
    collector = factories.user("c1", groups=[roles.COLLECTOR])
    with time_machine.travel(NOW, tick=False):
        case = make_case(estate["unit"], estate["owner"], collector=collector)

        def propose():
            with time_machine.travel(NOW, tick=False):
                return services.propose_plan(case=case, staff=collector, months=3, first_due=date(2026, 5, 20))

        results = _race(propose, propose)
    assert _kinds(results) == ["DomainError", "InstalmentPlan"], results
    plan = InstalmentPlan.objects.get()
    assert sum(i.amount for i in plan.instalments.all()) == plan.total == Decimal("600.00")


def test_two_waiver_requests_at_once_ask_once(estate):
    collector = factories.user("c1", groups=[roles.COLLECTOR])
    with time_machine.travel(NOW, tick=False):
        case = make_case(estate["unit"], estate["owner"], collector=collector)

        def ask():
            with time_machine.travel(NOW, tick=False):
                return outcomes.request_case_waiver(case=case, component="late_fee", amount="21.00", reason="约定",
                                                    staff=collector)

        results = _race(ask, ask)
    assert _kinds(results) == ["DomainError", "list"], results
    assert sum(w.amount for w in Waiver.objects.all()) == Decimal("21.00")


def test_two_steps_of_one_case_logged_at_once_from_two_filtered_lists_log_one_call(estate):
    # given: two call steps due on one case; one collector's list is filtered to promises, so the
    # two phones show different lead steps of the same card
    collector, manager = factories.user("c1", groups=[roles.COLLECTOR]), factories.user("m1", groups=[roles.MANAGER])
    with time_machine.travel(NOW, tick=False):
        case = make_case(estate["unit"], estate["owner"], collector=collector)
        ladder = make_task(case, key="a", priority=10)
        promise = make_task(case, key="p", kind="promise_follow_up", priority=5)

        def log(task, who):
            def job():
                with time_machine.travel(NOW, tick=False):
                    return outcomes.log_card(task=Task.objects.get(pk=task.pk), outcome="answered", staff=who, at=CALL)
            return job

        results = _race(log(ladder, collector), log(promise, manager))
    # then: no database error; one call is logged and closes both steps, the other is told it was done
    assert _kinds(results) == ["DomainError", "Logged"], results
    assert ContactAttempt.objects.count() == 1
    assert set(Task.objects.values_list("status", flat=True)) == {"done"}
