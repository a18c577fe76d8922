"""The collector's day: one card per case, tasks routed by role, one set of amounts, and what a
collector records from a card (call time, promise, waiver request, plan, satisfaction, file)."""

import hashlib
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from arrears.collection import outcomes, routing
from arrears.collection import selectors as collection_selectors
from arrears.collection.models import (
    AttemptAttachment,
    ContactAttempt,
    InstalmentPlan,
    Promise,
    SatisfactionRating,
    Task,
)
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.estate.models import ServiceTicket, StaffScope
from arrears.ledger.models import Charge, Waiver
from tests import factories
from tests.collection.conftest import make_case
from tests.collection.test_views import make_task

SHANGHAI = ZoneInfo("Asia/Shanghai")
AFTERNOON = datetime(2026, 5, 10, 15, 30, tzinfo=SHANGHAI)
MORNING_CALL = datetime(2026, 5, 10, 10, 5, tzinfo=SHANGHAI)
RECORDING = b"ID3 owner says: I will pay 621 on the 17th"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def legal(estate):
    user = factories.user("legal", groups=[roles.LEGAL])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


@pytest.fixture
def manager(estate):
    user = factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


@pytest.fixture
def far_case(estate):
    """A case in 翠湖苑, the other community of the company: nobody here is scoped to it."""
    far_unit = estate["far_unit"]
    return make_case(far_unit, far_unit.ownerships.get().owner)


# -- amounts: one source ------------------------------------------------------------------------


def test_the_card_amounts_come_from_the_ledger_not_the_run_snapshot(case, today):
    # given: a stale snapshot (the run last saw other figures)
    case.principal, case.late_fee = Decimal("999.00"), Decimal("0.00")
    case.save()
    # when
    amounts = collection_selectors.case_amounts([case], today=today)
    # then, by hand: 100 m² × 2.00 = 200.00 a month, Jan–Apr billed, 200.00 paid on 01-20 (January's
    # principal) → principal 600.00; late fee 万分之五 a day = 0.10 a day on each 200.00:
    # Jan 15 days (01-05→01-20) 1.50 + Feb 94 days 9.40 + Mar 66 days 6.60 + Apr 35 days 3.50 = 21.00
    assert amounts == {case.pk: (Decimal("600.00"), Decimal("21.00"))}


def test_the_card_shows_principal_late_fee_total_and_the_promise_labelled(client, insider, case, today):
    make_task(case)
    Promise.objects.create(community=case.community, case=case, amount=Decimal("300.00"), due_on=date(2026, 5, 17),
                           made_on=date(2026, 5, 9))
    client.force_login(insider)
    html = client.get(reverse("staff:workbench")).content.decode()
    amounts = html[html.index('data-testid="amounts"'):html.index("</dl>")]
    assert "¥600.00" in amounts and "¥21.00" in amounts and "¥621.00" in amounts
    assert "承诺金额 <span class=\"mono\">¥300.00</span>" in html
    # the script names the same total as the card
    assert "合计621.00元" in html


# -- one card per case, routed by role ------------------------------------------------------------


def test_a_case_with_three_due_tasks_is_one_card_holding_all_three_most_urgent_case_first(client, insider, case, estate, today):
    # given: three tasks on one case, one task on a more urgent case
    make_task(case, key="a", title="电话提醒", priority=5)
    make_task(case, key="b", title="承诺到期跟进", kind="promise_follow_up", priority=20)
    make_task(case, key="c", title="上门拜访", channel="visit", priority=1, due_on=date(2026, 5, 2))
    urgent_unit = factories.unit(estate["community"], building="3栋", entrance="2", room="0101")
    urgent = make_case(urgent_unit, factories.owner(urgent_unit, "急业主", start=date(2024, 1, 1)))
    make_task(urgent, key="x", title="紧急电话", priority=99)
    client.force_login(insider)
    # when
    response = client.get(reverse("staff:workbench"))
    html = response.content.decode()
    # then
    assert html.count('data-testid="case-card"') == 2
    assert html.count(">阳光花园 3栋1单元1201</a>") == 1
    assert html.index("紧急电话") < html.index("承诺到期跟进") < html.index("电话提醒") < html.index("上门拜访")
    assert [(label, count) for _, label, count in response.context["day"].buildings] == [("阳光花园 3栋", 2)]


def test_legal_review_tasks_are_legals_not_the_collectors(client, insider, legal, manager, case, today):
    # given
    make_task(case, key="call", title="电话提醒")
    make_task(case, key="legal", title="法务审查：起诉前核对", channel="legal_review", kind="ladder", technique=None, script_code="")
    # then: not on the collector's list, on legal's, and a manager sees both
    client.force_login(insider)
    collector_html = client.get(reverse("staff:workbench")).content.decode()
    assert "法务审查：起诉前核对" not in collector_html and "电话提醒" in collector_html
    client.force_login(legal)
    legal_html = client.get(reverse("staff:workbench")).content.decode()
    assert "法务审查：起诉前核对" in legal_html and "电话提醒" not in legal_html
    assert {task.key for task in collection_selectors.open_tasks_for(manager, today=today)} == {"call", "legal"}


def test_a_collector_cannot_log_a_legal_review_by_its_id(client, insider, case, today):
    task = make_task(case, key="legal", channel="legal_review", technique=None, script_code="")
    client.force_login(insider)
    assert client.post(reverse("staff:task_log", args=[task.pk]), {"outcome": "answered"}).status_code == 404


def test_routing_lives_in_one_table():
    assert routing.roles_for(kind="ladder", channel="legal_review") == {roles.LEGAL}
    assert routing.roles_for(kind="ladder", channel="call") == {roles.COLLECTOR}
    assert routing.roles_for(kind="limitation_warning", channel="call") == {roles.COLLECTOR, roles.LEGAL}


def test_the_collectors_home_page_is_todays_work(client, insider, case, today):
    make_task(case, title="电话提醒")
    client.force_login(insider)
    html = client.get(reverse("staff:home")).content.decode()
    assert 'data-testid="case-card"' in html and "电话提醒" in html


def test_the_quick_filter_and_the_building_chip_narrow_the_day(client, insider, case, estate, today):
    make_task(case, key="v", channel="visit", title="上门拜访")
    other = make_case(estate["other_unit"], estate["neighbour_owner"])
    make_task(other, key="c", title="邻楼电话")
    client.force_login(insider)
    visits = client.get(reverse("staff:workbench"), {"quick": "visits"}).content.decode()
    assert "上门拜访" in visits and "邻楼电话" not in visits
    building = client.get(reverse("staff:workbench"), {"building": estate["other_unit"].building_id}).content.decode()
    assert "邻楼电话" in building and "上门拜访" not in building


# -- logging from the card ------------------------------------------------------------------------


def test_a_call_made_this_morning_is_logged_at_its_time_with_a_promise_and_a_recording(client, insider, case):
    # given: two call steps due on the case
    lead = make_task(case, key="a", priority=10)
    other = make_task(case, key="b", priority=5, title="第二个电话步骤")
    client.force_login(insider)
    # when: at 15:30 the collector logs the 10:05 call, in one submit
    with time_machine.travel(AFTERNOON, tick=False):
        response = client.post(reverse("staff:task_log", args=[lead.pk]), {
            "outcome": "promised", "at": "2026-05-10T10:05", "promise_amount": "621.00", "promise_due": "2026-05-17",
            "attachment_kind": "recording", "attachment": SimpleUploadedFile("call.m4a", RECORDING, content_type="audio/mp4"),
        }, follow=True)
    # then
    assert "已记录" in response.content.decode(), [str(m) for m in response.context["messages"]]
    attempt = ContactAttempt.objects.get()
    assert (attempt.at, attempt.outcome, attempt.staff) == (MORNING_CALL, "promised", insider)
    assert list(Promise.objects.values_list("amount", "due_on")) == [(Decimal("621.00"), date(2026, 5, 17))]
    assert AttemptAttachment.objects.get().sha256 == hashlib.sha256(RECORDING).hexdigest()
    assert set(Task.objects.values_list("key", "status")) == {("a", "done"), ("b", "done")}
    other.refresh_from_db()
    assert other.done_at is not None


def test_a_refused_file_writes_nothing(case, insider):
    task = make_task(case)
    with time_machine.travel(AFTERNOON, tick=False), pytest.raises(DomainError):
        outcomes.log_card(task=task, outcome="answered", staff=insider, at=MORNING_CALL, attachment_kind="recording",
                          upload=SimpleUploadedFile("door.jpg", b"\xff\xd8\xff door", content_type="image/jpeg"))
    assert not ContactAttempt.objects.exists()
    task.refresh_from_db()
    assert task.status == "open"


@pytest.mark.parametrize(("rating", "tickets", "follow_ups"), [("satisfied", 0, 0), ("neutral", 0, 0), ("unsatisfied", 1, 1)])
def test_satisfaction_after_payment_is_stored_and_dissatisfaction_opens_a_ticket_and_a_follow_up(
        client, insider, case, rating, tickets, follow_ups):
    task = make_task(case, key="thanks", kind="satisfaction", title="缴费后回访", technique=None, script_code="")
    client.force_login(insider)
    with time_machine.travel(AFTERNOON, tick=False):
        client.post(reverse("staff:task_log", args=[task.pk]), {"satisfaction": rating, "at": "2026-05-10T10:05",
                                                                 "notes": "电梯还没修"})
    stored = SatisfactionRating.objects.get()
    assert (stored.rating, stored.attempt.outcome, stored.case) == (rating, "answered", case)
    assert ServiceTicket.objects.filter(kind="complaint", unit=case.unit).count() == tickets
    assert Task.objects.filter(kind="complaint_follow_up", case=case, status="open").count() == follow_ups
    if tickets:
        follow_up = Task.objects.get(kind="complaint_follow_up")
        assert (stored.ticket.summary, follow_up.due_on, follow_up.assignee) == (
            "缴费后回访：业主不满意。电梯还没修", date(2026, 5, 13), insider)


def test_a_rating_sent_twice_is_stored_once(case, insider):
    task = make_task(case, key="thanks", kind="satisfaction", technique=None, script_code="")
    with time_machine.travel(AFTERNOON, tick=False):
        outcomes.log_card(task=task, outcome="", satisfaction="unsatisfied", staff=insider, at=MORNING_CALL)
        with pytest.raises(DomainError, match="该任务已处理"):
            outcomes.log_card(task=Task.objects.get(pk=task.pk), outcome="", satisfaction="unsatisfied", staff=insider,
                              at=MORNING_CALL)
    assert (SatisfactionRating.objects.count(), ServiceTicket.objects.count(), ContactAttempt.objects.count()) == (1, 1, 1)


def test_a_rating_goes_only_with_the_follow_up_after_payment(case, insider):
    task = make_task(case)
    with time_machine.travel(AFTERNOON, tick=False), pytest.raises(DomainError, match="满意度只在缴费后回访时记录"):
        outcomes.log_card(task=task, outcome="answered", satisfaction="satisfied", staff=insider, at=MORNING_CALL)
    assert not ContactAttempt.objects.exists()


# -- waiver requests and plans -------------------------------------------------------------------


def test_a_late_fee_waiver_is_spread_over_the_oldest_charges_first(case, insider, today):
    # when: 10.00 of the 21.00 late fee (Jan 1.50, Feb 9.40, Mar 6.60, Apr 3.50)
    made = outcomes.request_case_waiver(case=case, component="late_fee", amount="10.00", reason="电话中约定", staff=insider)
    # then: January's 1.50, then 8.50 of February's; both wait for approval
    assert [(w.charge.due_date, w.amount, w.status) for w in made] == [
        (date(2026, 1, 5), Decimal("1.50"), "requested"), (date(2026, 2, 5), Decimal("8.50"), "requested")]


def test_a_waiver_above_what_is_owed_or_sent_twice_is_refused(case, insider, today):
    with pytest.raises(DomainError, match="减免金额 21.01 超过欠缴违约金 21.00"):
        outcomes.request_case_waiver(case=case, component="late_fee", amount="21.01", reason="约定", staff=insider)
    outcomes.request_case_waiver(case=case, component="late_fee", amount="21.00", reason="约定", staff=insider)
    with pytest.raises(DomainError, match="已有待审批的减免申请"):
        outcomes.request_case_waiver(case=case, component="late_fee", amount="21.00", reason="约定", staff=insider)
    assert Waiver.objects.count() == 4  # one per charge with a late fee, once


def test_a_collector_asks_and_cannot_approve_a_manager_cannot_approve_their_own(client, insider, manager, case, estate, today):
    # given: the collector asks from the card
    client.force_login(insider)
    client.post(reverse("staff:case_waiver", args=[case.pk]), {"component": "late_fee", "amount": "3.00", "reason": "约定"})
    # by hand: 3.00 of late fee = January's 1.50 + 1.50 of February's
    assert list(Waiver.objects.order_by("charge__due_date").values_list("amount", flat=True)) == [Decimal("1.50")] * 2
    waiver = Waiver.objects.order_by("pk").first()
    # then: the collector may not decide it
    assert client.post(reverse("staff:waiver_decide", args=[waiver.pk, "approve"])).status_code == 403
    # and a manager who asked may not approve their own
    client.force_login(manager)
    client.post(reverse("staff:case_waiver", args=[case.pk]), {"component": "principal", "amount": "100.00", "reason": "约定"})
    own = Waiver.objects.get(component="principal")
    html = client.post(reverse("staff:waiver_decide", args=[own.pk, "approve"]), follow=True).content.decode()
    assert "申请人不能审批自己的减免" in html
    own.refresh_from_db()
    assert own.status == "requested"
    # but the manager approves the collector's
    client.post(reverse("staff:waiver_decide", args=[waiver.pk, "approve"]))
    waiver.refresh_from_db()
    assert (waiver.status, waiver.approved_by) == ("approved", manager)


def test_an_instalment_plan_proposed_on_the_card_waits_for_a_manager(client, insider, manager, case, today):
    client.force_login(insider)
    client.post(reverse("staff:case_plan", args=[case.pk]), {"months": "3", "first_due": "2026-05-20"})
    plan = InstalmentPlan.objects.get()
    # the snapshot's principal 600.00 in three parts
    assert (plan.status, plan.total, [i.amount for i in plan.instalments.all()]) == (
        "proposed", Decimal("600.00"), [Decimal("200.00")] * 3)
    assert client.post(reverse("staff:plan_accept", args=[plan.pk])).status_code == 403
    client.force_login(manager)
    assert "¥600.00" in client.get(reverse("staff:approvals")).content.decode()
    client.post(reverse("staff:plan_accept", args=[plan.pk]))
    plan.refresh_from_db()
    assert (plan.status, plan.accepted_on) == ("accepted", date(2026, 5, 10))


@pytest.mark.parametrize("name", ["case_waiver", "case_plan"])
def test_another_communitys_case_is_404(client, insider, far_case, name, today):
    client.force_login(insider)
    data = {"component": "late_fee", "amount": "1.00", "reason": "x", "months": "3", "first_due": "2026-05-20"}
    assert client.post(reverse(f"staff:{name}", args=[far_case.pk]), data).status_code == 404
    assert not Waiver.objects.exists() and not InstalmentPlan.objects.exists()


def test_another_communitys_task_and_waiver_are_404(client, insider, manager, far_case, today):
    task = make_task(far_case)
    client.force_login(insider)
    assert client.post(reverse("staff:task_log", args=[task.pk]), {"outcome": "answered"}).status_code == 404
    far_manager = factories.user("far_boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=far_manager, community=far_case.community)
    charge = Charge.objects.create(community=far_case.community, unit=far_case.unit, owner=far_case.owner,
                                   charge_type=factories.charge_type(), period_start=date(2026, 1, 1),
                                   period_end=date(2026, 1, 31), amount=Decimal("100.00"), due_date=date(2026, 1, 5))
    waiver = Waiver.objects.create(community=far_case.community, charge=charge, component="late_fee", amount="1.00",
                                   reason="x", requested_by=far_manager, requested_on=today)
    client.force_login(manager)
    assert client.post(reverse("staff:waiver_decide", args=[waiver.pk, "approve"])).status_code == 404


def test_a_follow_up_after_payment_borrows_no_dunning_technique(insider, case, today):
    task = make_task(case, key="thanks", kind="satisfaction", title="缴费后回访", technique=None, script_code="")
    [row] = collection_selectors.workbench_rows(insider, Task.objects.filter(pk=task.pk), today=today,
                                                now=datetime(2026, 5, 10, 10, 0, tzinfo=SHANGHAI))
    assert (row.technique, row.script) == (None, None)
