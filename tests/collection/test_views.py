import re
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from arrears.collection.models import ContactAttempt, OwnerProfile, Promise, Task
from arrears.core.models import AuditEvent
from arrears.estate.models import Owner, ServiceTicket
from tests import factories
from tests.collection.conftest import make_case
from tests.spreadsheets import INJECTIONS, formulas

SHANGHAI = ZoneInfo("Asia/Shanghai")


def make_task(case, key="call_10", **extra):
    values = {"community": case.community, "case": case, "key": key, "kind": "ladder", "channel": "call", "technique": 2,
              "script_code": "promise_call", "title": "电话提醒（6–10 天）", "due_on": date(2026, 5, 10), "priority": 10,
              "created_on": date(2026, 5, 10)}
    values.update(extra)
    return Task.objects.create(**values)


def many_cases(estate, count, *, collector=None, entrance="2"):
    """`count` more units in 3栋 with an owner, a case and a task each."""
    found = []
    for i in range(count):
        unit = factories.unit(estate["community"], building="3栋", entrance=entrance, room=f"{i + 1:02d}01")
        owner = factories.owner(unit, f"业主{i}", start=date(2024, 1, 1))
        case = make_case(unit, owner, collector=collector, principal=f"{100 + i}.00", late_fee="0.00")
        make_task(case, priority=i)
        found.append(case)
    return found


# -- workbench ----------------------------------------------------------------------------------


def test_it_lists_todays_tasks_mine_and_unassigned_highest_priority_first(client, insider, case, scripts, estate):
    # given
    other = factories.user("colleague")
    make_task(case, key="a", title="低优先级", priority=1)
    make_task(case, key="b", title="高优先级", priority=50, assignee=insider)
    make_task(case, key="c", title="别人的任务", priority=99, assignee=other)
    make_task(case, key="d", title="明天的任务", priority=99, due_on=date(2026, 5, 11))
    make_task(case, key="e", title="已完成", priority=99, status="done")
    client.force_login(insider)
    # when
    html = client.get(reverse("staff:workbench")).content.decode()
    # then
    assert html.index("高优先级") < html.index("低优先级")
    for hidden in ("别人的任务", "明天的任务", "已完成"):
        assert hidden not in html
    assert "13912348888" in html and "王小明" in html and "2 断其后路" in html.replace("</span> ", " ")
    # the owner is 忽视型 (the system's suggestion): the reminder call is the education script
    assert "忽视型业主：讲清物业费的用途和义务" in html
    assert "您家3栋1单元1201有3个月的物业费没有办理，合计621.00元。物业费主要用在这几方面" in html
    assert '<span class="badge clear">可联系</span>' in html


def test_it_marks_promises_due_today_and_limitation_warnings(client, insider, case, estate):
    # given
    make_task(case)
    case.limitation_deadline = date(2026, 6, 1)
    case.save()
    Promise.objects.create(community=case.community, case=case, amount=Decimal("100.00"), due_on=date(2026, 5, 10),
                           made_on=date(2026, 5, 3))
    client.force_login(insider)
    # when
    html = client.get(reverse("staff:workbench")).content.decode()
    # then
    assert 'data-testid="promise-today"' in html
    assert "诉讼时效 2026-06-01 届满" in html


def test_it_shows_the_guard_status_of_a_blocked_owner(client, insider, case, estate):
    estate["owner"].do_not_contact = True
    estate["owner"].save()
    make_task(case)
    client.force_login(insider)
    html = client.get(reverse("staff:workbench")).content.decode()
    assert "受限：业主已要求不再联系：只可邮寄书面催费函或律师函" in html


def test_it_shows_nothing_to_an_outsider(client, outsider, case):
    make_task(case, title="秘密任务")
    client.force_login(outsider)
    assert "秘密任务" not in client.get(reverse("staff:workbench")).content.decode()


def test_it_refuses_the_workbench_to_the_front_desk(client, front_desk, case):
    client.force_login(front_desk)
    assert client.get(reverse("staff:workbench")).status_code == 403


def test_it_logs_a_promise_from_the_workbench_and_closes_the_task(client, insider, case, today):
    # given
    task = make_task(case)
    client.force_login(insider)
    # when
    response = client.post(reverse("staff:task_log", args=[task.pk]), {
        "outcome": "promised", "promise_amount": "600.00", "promise_due": "2026-05-17", "reason": "busy", "notes": "周日来",
    }, follow=True)
    # then
    task.refresh_from_db()
    attempt = ContactAttempt.objects.get()
    assert (attempt.outcome, attempt.reason, attempt.notes, attempt.channel, attempt.task, attempt.script_code) == (
        "promised", "busy", "周日来", "call", task, "promise_call")
    assert task.status == "done"
    assert list(Promise.objects.values_list("amount", "due_on")) == [(Decimal("600.00"), date(2026, 5, 17))]
    assert "已记录" in response.content.decode()


def test_it_says_why_a_bad_promise_was_refused(client, insider, case, today):
    task = make_task(case)
    client.force_login(insider)
    response = client.post(reverse("staff:task_log", args=[task.pk]), {
        "outcome": "promised", "promise_amount": "9999.00", "promise_due": "2026-05-17"}, follow=True)
    assert "承诺金额不能超过欠费合计 621.00" in response.content.decode()
    assert ContactAttempt.objects.count() == 0


def test_it_records_a_call_the_guard_would_block_and_says_which_rule_it_broke(client, insider, case, estate, today):
    # given: the owner asked not to be contacted
    estate["owner"].do_not_contact = True
    estate["owner"].save()
    task = make_task(case)
    client.force_login(insider)
    # when: the collector called anyway and logs it
    response = client.post(reverse("staff:task_log", args=[task.pk]), {"outcome": "answered"}, follow=True)
    # then: recorded as made, with the rule; the task is done
    html = response.content.decode()
    assert "已记录" in html and "业主已要求不再联系" in html and "已列入合规报告" in html
    attempt = ContactAttempt.objects.get()
    assert (attempt.outcome, attempt.violation_rule) == ("answered", "do_not_contact")
    task.refresh_from_db()
    assert task.status == "done"


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/", "javascript:alert(1)"])
def test_it_never_sends_the_collector_to_another_site_after_logging(client, insider, case, today, target):
    # given a workbench link whose next points off the site
    task = make_task(case)
    client.force_login(insider)
    # when the outcome is logged
    response = client.post(reverse("staff:task_log", args=[task.pk]), {"outcome": "answered", "next": target})
    # then it goes back to the workbench, not to the other host
    assert (response.status_code, response["Location"]) == (302, reverse("staff:workbench"))


def test_it_goes_back_to_the_page_on_this_site_it_came_from(client, insider, case, today):
    task = make_task(case)
    client.force_login(insider)
    response = client.post(reverse("staff:task_log", args=[task.pk]), {"outcome": "answered", "next": "/workbench/?page=2"})
    assert response["Location"] == "/workbench/?page=2"


def test_it_keeps_a_promise_logged_after_noon_for_a_call_before_it(client, insider, case):
    # given
    task = make_task(case)
    client.force_login(insider)
    # when: at 12:08 the collector logs the 11:50 call
    with time_machine.travel(datetime(2026, 5, 10, 12, 8, tzinfo=SHANGHAI), tick=False):
        client.post(reverse("staff:task_log", args=[task.pk]), {
            "outcome": "promised", "at": "2026-05-10T11:50", "promise_amount": "600.00", "promise_due": "2026-05-17"})
    # then
    attempt = ContactAttempt.objects.get()
    assert (attempt.outcome, attempt.at, attempt.violation_rule) == (
        "promised", datetime(2026, 5, 10, 11, 50, tzinfo=SHANGHAI), "")
    assert list(Promise.objects.values_list("attempt", "status")) == [(attempt.pk, "open")]


@pytest.mark.parametrize(("at", "message"), [("2026-05-10T12:09", "还没到"), ("2026-05-03T12:07", "只能记录 7 天内的联系")])
def test_it_refuses_a_contact_time_in_the_future_or_too_far_back(client, insider, case, at, message):
    task = make_task(case)
    client.force_login(insider)
    with time_machine.travel(datetime(2026, 5, 10, 12, 8, tzinfo=SHANGHAI), tick=False):
        response = client.post(reverse("staff:task_log", args=[task.pk]), {"outcome": "answered", "at": at}, follow=True)
    assert message in response.content.decode()
    assert ContactAttempt.objects.count() == 0


def test_it_404s_logging_a_task_out_of_scope(client, neighbour, case):
    task = make_task(case)
    client.force_login(neighbour)
    assert client.post(reverse("staff:task_log", args=[task.pk]), {"outcome": "answered"}).status_code == 404
    assert ContactAttempt.objects.count() == 0


def test_it_keeps_the_workbench_query_count_flat(client, insider, case, scripts, estate, django_assert_num_queries):
    # given
    many_cases(estate, 2)
    client.force_login(insider)
    client.get(reverse("staff:workbench"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("staff:workbench"))
    # when: ten more rows, some with promises due today
    for case_obj in many_cases(estate, 10, entrance="3")[:3]:
        Promise.objects.create(community=case_obj.community, case=case_obj, amount=Decimal("10.00"), due_on=date(2026, 5, 10),
                               made_on=date(2026, 5, 3))
    # then
    with django_assert_num_queries(len(few)):
        client.get(reverse("staff:workbench"))


# -- case list ----------------------------------------------------------------------------------


def test_it_lists_open_cases_in_scope_filtered_and_sorted(client, neighbour, insider, case, estate):
    # given
    other = make_case(estate["other_unit"], estate["neighbour_owner"], principal="900.00", tier="A")
    client.force_login(insider)
    # when
    html = client.get(reverse("staff:cases"), {"sort": "-principal"}).content.decode()
    # then
    assert html.index("5栋1单元1201") < html.index("3栋1单元1201")
    html = client.get(reverse("staff:cases"), {"tier": "B"}).content.decode()
    assert "3栋1单元1201" in html and "5栋1单元1201" not in html
    # the neighbour sees only their building
    client.force_login(neighbour)
    html = client.get(reverse("staff:cases")).content.decode()
    assert "5栋1单元1201" in html and "3栋1单元1201" not in html
    assert other.pk


def test_it_filters_by_persona_and_situation(client, insider, case, estate):
    make_case(estate["other_unit"], estate["neighbour_owner"], situations="1,3")
    OwnerProfile.objects.create(community=case.community, owner=case.owner, persona="evasive")
    client.force_login(insider)
    html = client.get(reverse("staff:cases"), {"persona": "evasive"}).content.decode()
    assert "3栋1单元1201" in html and "5栋1单元1201" not in html
    html = client.get(reverse("staff:cases"), {"situation": "3"}).content.decode()
    assert "5栋1单元1201" in html and "3栋1单元1201" not in html


def test_it_shows_the_arrears_rates(client, insider, case, estate):
    # given: 3栋1201 owes 600.00 of the 800.00 billed Jan–Apr (due the 5th, 200.00 paid on Jan 20);
    # the neighbour's 5栋1201 owes 4 × 160.00; May's charges are not billed.
    client.force_login(insider)
    # when
    html = client.get(reverse("staff:cases")).content.decode()
    # then: by amount (600 + 640) / (800 + 640)
    assert '<span class="value" data-testid="rate-amount">86.1%</span>' in html
    # by households: 2 owing of 2 owned in scope (翠湖苑 is out of scope)
    assert '<span class="value" data-testid="rate-households">100.0%</span>' in html
    assert '<span class="value" data-testid="rate-month">—</span>' in html


def test_it_exports_the_filtered_cases_and_logs_the_export(client, insider, case, estate):
    make_case(estate["other_unit"], estate["neighbour_owner"], principal="900.00", tier="A")
    client.force_login(insider)
    response = client.get(reverse("staff:cases"), {"tier": "B", "format": "xlsx"})
    sheet = load_workbook(BytesIO(response.content))["欠费列表"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:8] == ("阳光花园", "3栋", "1", "1201", "王小明", "B 类", "91–180 天", 600)
    assert rows[-1][0] == "合计" and len(rows) == 3
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.detail) == ("cases_export", insider, {"filters": {"tier": "B", "sort": "-principal"}, "rows": 1})


def test_it_exports_typed_formulas_in_the_case_list_as_text(client, insider, case, estate):
    # given: an imported owner name and a collector's name that a spreadsheet would run
    Owner.objects.filter(pk=case.owner_id).update(name=INJECTIONS[0])
    insider.first_name = "@SUM(A1)"
    insider.save()
    case.collector = insider
    case.save()
    client.force_login(insider)
    # when
    response = client.get(reverse("staff:cases"), {"q": "=1+1", "format": "xlsx"})
    # then
    assert formulas(response.content) == []
    sheet = load_workbook(BytesIO(response.content))["欠费列表"]
    row = {cell.value: cell.data_type for cell in sheet[2] if isinstance(cell.value, str)}
    assert (row[INJECTIONS[0]], row["@SUM(A1)"]) == ("s", "s")


def test_it_keeps_the_case_list_query_count_flat(client, insider, case, estate, django_assert_num_queries):
    client.force_login(insider)
    client.get(reverse("staff:cases"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("staff:cases"))
    many_cases(estate, 12, collector=insider)
    OwnerProfile.objects.create(community=case.community, owner=case.owner, persona="evasive")
    with django_assert_num_queries(len(few)):
        client.get(reverse("staff:cases"))


def test_it_refuses_the_case_list_to_the_front_desk(client, front_desk, case):
    client.force_login(front_desk)
    assert client.get(reverse("staff:cases")).status_code == 403


# -- front desk ---------------------------------------------------------------------------------


def test_it_tells_the_front_desk_to_remind_politely_without_the_amount(client, front_desk, case, scripts, estate, today):
    case.front_desk_flag = True  # the ladder flagged the case for ⑦ 全民总动员
    case.save()
    client.force_login(front_desk)
    html = client.get(reverse("staff:desk"), {"q": "沪A12345"}).content.decode()
    assert "欠费，请礼貌提醒" in html and "王**" in html and "王小明" not in html
    assert "<br>您好！耽误您半分钟：服务中心的工作人员这几天想找您" in html  # never a login name
    assert "desk-amount" not in html and "621" not in html
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.community_id, event.detail) == (
        "desk_lookup", front_desk, estate["community"].pk, {"query": "沪A12345", "results": 1})


def test_it_shows_the_amount_to_finance(client, finance, case, estate, today):
    case.front_desk_flag = True
    case.save()
    client.force_login(finance)
    html = client.get(reverse("staff:desk"), {"q": "8888"}).content.decode()
    assert '<span class="amount" data-testid="desk-amount">¥621.00</span>' in html


def test_it_says_nothing_of_arrears_for_a_do_not_contact_owner(client, front_desk, case, estate, today):
    case.front_desk_flag = True
    case.save()
    estate["owner"].do_not_contact = True
    estate["owner"].save()
    client.force_login(front_desk)
    html = client.get(reverse("staff:desk"), {"q": "3栋1201"}).content.decode()
    assert "无需提醒" in html and "欠费" not in html


def test_it_says_no_arrears_and_logs_empty_lookups(client, front_desk, estate, today):
    client.force_login(front_desk)
    html = client.get(reverse("staff:desk"), {"q": "钱远方"}).content.decode()
    assert "没有找到" in html
    assert AuditEvent.objects.get().detail == {"query": "钱远方", "results": 0}


def test_it_finds_nothing_for_an_outsider(client, outsider, case, today):
    client.force_login(outsider)
    html = client.get(reverse("staff:desk"), {"q": "1201"}).content.decode()
    assert "欠费，请礼貌提醒" not in html and "没有找到" in html


# -- the unit page ------------------------------------------------------------------------------


def test_it_shows_the_case_section_on_the_unit_page(client, insider, case, scripts, estate):
    OwnerProfile.objects.create(community=case.community, owner=case.owner, persona="neglectful")
    client.force_login(insider)
    html = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    assert 'id="case"' in html and "忽视型" in html
    assert "2 多次承诺却不来缴" in html and "7 忙、在外地、没时间" in html
    assert '<p class="strategy" data-testid="strategy">忽视型：讲清物业费的用途和缴费义务</p>' in html
    assert "断其后路" in html and "您家3栋1单元1201有3个月的物业费没有办理，合计621.00元。" in html


def _technique_order(html: str) -> list[int]:
    section = html[html.index('<ol class="techniques">'):]
    section = section[:section.index("</ol>")]
    return [int(number) for number in re.findall(r'<span class="technique-no">(\d)</span>', section)]


def test_it_offers_the_plan_to_an_understanding_owner(client, insider, case, scripts, estate):
    # given the collector judged the owner 理解型
    OwnerProfile.objects.create(community=case.community, owner=case.owner, persona="understanding")
    make_task(case)
    client.force_login(insider)
    # when
    workbench = client.get(reverse("staff:workbench")).content.decode()
    unit_page = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    # then the reminder call offers instalments and the waiver, on both pages, ② with the plan first
    for html in (workbench, unit_page):
        assert "理解型业主：分期方案" in html and "物业费600.00元可以分 3 到 6 个月缴" in html
    assert "断其后路：约定日期" not in workbench
    assert _technique_order(unit_page) == [2, 1, 3, 7]
    assert '<p class="strategy" data-testid="strategy">理解型：分期 3–6 个月、减免违约金、提前缴费优惠</p>' in unit_page


def test_it_asks_nothing_of_a_resistant_owner_with_an_open_complaint(client, insider, estate):
    # given a 抗拒型 owner with a past bad experience (⑥) and a complaint still open
    case = make_case(estate["unit"], estate["owner"], collector=insider, situations="1,2,6", techniques="1,2,3,6,7")
    OwnerProfile.objects.create(community=case.community, owner=case.owner, persona="resistant")
    ServiceTicket.objects.create(community=case.community, unit=case.unit, kind="complaint", summary="电梯经常停运",
                                 opened_on=date(2026, 5, 1))
    make_task(case)
    client.force_login(insider)
    # when
    workbench = client.get(reverse("staff:workbench")).content.decode()
    unit_page = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    # then the only words offered are the service fix: no amount, no demand; ⑥ comes first
    for html in (workbench, unit_page):
        assert "抗拒型业主：先解决投诉" in html
        assert "合计621.00元" not in html and "断其后路：约定日期" not in html and "苦肉计：真诚请业主支持" not in html
    assert _technique_order(unit_page) == [6, 1, 2, 3, 7]


def test_it_speaks_of_the_contract_once_the_complaint_is_closed(client, insider, estate):
    case = make_case(estate["unit"], estate["owner"], collector=insider, situations="1,6", techniques="1,6")
    OwnerProfile.objects.create(community=case.community, owner=case.owner, persona="resistant")
    ServiceTicket.objects.create(community=case.community, unit=case.unit, kind="complaint", summary="电梯经常停运",
                                 opened_on=date(2026, 4, 1), closed_on=date(2026, 4, 20))
    make_task(case)
    client.force_login(insider)
    html = client.get(reverse("staff:workbench")).content.decode()
    assert "抗拒型业主：问题解决后讲清合同义务" in html and "合计621.00元" in html


def test_it_seeks_an_evasive_owner_on_every_channel_first(client, insider, estate):
    # given a 逃避型 owner who cannot be reached (situation 3: ①④⑦)
    case = make_case(estate["unit"], estate["owner"], collector=insider, situations="1,3", techniques="1,4,7",
                     suggested_persona="evasive")
    make_task(case, key="call_3", technique=1, script_code="reminder_call")
    client.force_login(insider)
    # when
    workbench = client.get(reverse("staff:workbench")).content.decode()
    unit_page = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    # then ④ and ⑦ come first, and the call reminds the collector to keep the evidence
    assert _technique_order(unit_page) == [4, 7, 1]
    assert "逃避型业主：多渠道联系，留存证据" in workbench and "这些都是日后的证据" in workbench


def test_it_never_shows_a_technique_the_situations_do_not_call_for(client, insider, estate):
    # given a 理解型 owner whose only situation is 1 (①): no ② to lead with
    case = make_case(estate["unit"], estate["owner"], collector=insider, situations="1", techniques="1")
    OwnerProfile.objects.create(community=case.community, owner=case.owner, persona="understanding")
    client.force_login(insider)
    html = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    assert _technique_order(html) == [1]
    assert "理解型业主：分期方案" in html


def test_it_hides_the_case_section_from_the_front_desk(client, front_desk, case, estate):
    client.force_login(front_desk)
    html = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    assert 'id="case"' not in html


def test_it_sets_the_profile_and_makes_a_promise_from_the_unit_page(client, insider, case, today):
    client.force_login(insider)
    client.post(reverse("staff:case_profile", args=[case.pk]), {"persona": "understanding", "irritable": "on", "note": "失业"})
    client.post(reverse("staff:case_promise", args=[case.pk]), {"amount": "300.00", "due_on": "2026-05-20"})
    response = client.post(reverse("staff:case_attempt", args=[case.pk]), {"channel": "visit", "outcome": "answered"})
    assert response.status_code == 302
    profile = OwnerProfile.objects.get()
    assert (profile.persona, profile.irritable, profile.note) == ("understanding", True, "失业")
    assert list(Promise.objects.values_list("amount", "due_on")) == [(Decimal("300.00"), date(2026, 5, 20))]
    assert ContactAttempt.objects.get().channel == "visit"
    html = client.get(reverse("staff:unit", args=[case.unit_id])).content.decode()
    assert "¥300.00，2026-05-20 前缴纳" in html


@pytest.mark.parametrize("name", ["case_profile", "case_promise", "case_attempt"])
def test_it_404s_case_forms_out_of_scope(client, neighbour, case, name):
    client.force_login(neighbour)
    assert client.post(reverse(f"staff:{name}", args=[case.pk]), {}).status_code == 404


def test_it_speaks_english_on_the_collection_pages(client, insider, case, estate):
    make_task(case)
    client.force_login(insider)
    client.cookies.load({"django_language": "en"})
    html = client.get(reverse("staff:workbench")).content.decode()
    assert "Today's work" in html and "Log outcome" in html and "close the exits" in html
    html = client.get(reverse("staff:cases")).content.decode()
    assert "Arrears rate (amount)" in html and "今日" not in html
    html = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    assert "promises but never shows up" in html and "Techniques (in order)" in html
    assert "Neglectful: explain what the fee pays for and the duty to pay" in html
