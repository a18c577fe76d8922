from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.urls import reverse

from arrears.collection import scripts
from arrears.collection.defaults import ladder_rows
from arrears.collection.models import (
    AttemptAttachment,
    Case,
    CaseStep,
    ChargeDispute,
    CollectionPolicy,
    CollectionRun,
    CollectorAssignment,
    ContactAttempt,
    Instalment,
    InstalmentPlan,
    LadderStep,
    LimitationEvent,
    LimitationProof,
    OutgoingMessage,
    OwnerProfile,
    ProfileChange,
    Promise,
    Script,
    Task,
)
from arrears.estate.models import ServiceTicket
from arrears.ledger import services
from arrears.ledger.models import Charge
from tests import factories

TODAY = date(2026, 5, 10)
NOW = datetime(2026, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
MODELS = [AttemptAttachment, Case, CaseStep, ChargeDispute, CollectionPolicy, CollectionRun, CollectorAssignment,
          ContactAttempt, Instalment, InstalmentPlan, LadderStep, LimitationEvent, LimitationProof, OutgoingMessage, OwnerProfile,
          ProfileChange, Promise, Script, Task, ServiceTicket]
# Written by the daily run, the outbox or on their parent's page: never added on their own.
NOT_ADDED_HERE = {AttemptAttachment, Case, CaseStep, CollectionRun, ContactAttempt, Instalment, LimitationEvent,
                  LimitationProof, OutgoingMessage, ProfileChange}
# Evidence (DESIGN.md §3): shown read-only, never added, changed or deleted in the admin.
EVIDENCE = [ContactAttempt, AttemptAttachment, LimitationEvent, LimitationProof, OutgoingMessage]
NEUTRAL_REFUSED = "中性话术/模板不得含金额或欠费字样"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _case(community, unit, owner, **extra):
    values = {"opened_on": date(2026, 2, 6), "as_of": TODAY, "principal": Decimal("800.00"), "late_fee": Decimal("12.00"),
              "oldest_due": date(2026, 1, 5), "days_overdue": 125, "months_overdue": 4, "bucket": "91-180", "tier": "B",
              "situations": "1,2", "techniques": "1,2,3,7"}
    return Case.objects.create(community=community, unit=unit, owner=owner, **{**values, **extra})


@pytest.fixture
def records(db, clock):
    """One case with a row of every collection model hanging off it."""
    community = factories.community()
    unit = factories.unit(community, building="3栋", room="1201")
    owner = factories.owner(unit, "王小明")
    factories.tariff(community)
    services.bill(through=date(2026, 4, 1))
    collector = factories.user("collector")
    policy = CollectionPolicy.objects.create(community=community)
    LadderStep.objects.bulk_create(LadderStep(policy=policy, **row) for row in ladder_rows())
    step = policy.steps.get(code="call_3")
    case = _case(community, unit, owner, collector=collector)
    CaseStep.objects.create(community=community, case=case, step=step, fired_on=date(2026, 1, 8))
    task = Task.objects.create(community=community, case=case, key="ladder:call_3", kind="ladder", channel="call",
                               step=step, technique=1, script_code="reminder_call", title="电话提醒", due_on=TODAY,
                               created_on=TODAY, assignee=collector)
    attempt = ContactAttempt.objects.create(community=community, case=case, unit=unit, owner=owner, channel="call",
                                            at=NOW, outcome="promised", notes="答应月底来缴", staff=collector, task=task)
    AttemptAttachment.objects.create(community=community, attempt=attempt, kind="recording", file="evidence/2026/05/call.mp3")
    Promise.objects.create(community=community, case=case, attempt=attempt, amount=Decimal("800.00"),
                           due_on=date(2026, 5, 31), made_on=TODAY, created_by=collector)
    plan = InstalmentPlan.objects.create(community=community, case=case, total=Decimal("800.00"), proposed_on=TODAY)
    for number in (1, 2):
        Instalment.objects.create(community=community, plan=plan, number=number, due_on=date(2026, 5 + number, 5),
                                  amount=Decimal("400.00"))
    ChargeDispute.objects.create(community=community, charge=Charge.objects.filter(unit=unit).order_by("pk").first(),
                                 reason="面积有误", opened_on=TODAY)
    event = LimitationEvent.objects.create(community=community, unit=unit, owner=owner, kind="promise", occurred_on=TODAY,
                                           attempt=attempt)
    LimitationProof.objects.create(community=community, event=event, kind="recording", attachment=attempt.attachments.get(),
                                   added_at=NOW)
    profile = OwnerProfile.objects.create(community=community, owner=owner, persona="understanding", reason="economic")
    ProfileChange.objects.create(community=community, profile=profile, persona="understanding", reason="economic",
                                 changed_at=NOW)
    CollectorAssignment.objects.create(community=community, building=unit.building, user=collector)
    OutgoingMessage.objects.create(community=community, case=case, unit=unit, owner=owner, key="overdue_sms:1",
                                   channel="sms", template_code="overdue", scheduled_on=TODAY)
    CollectionRun.objects.create(as_of=TODAY, started_at=NOW, finished_at=NOW, summary={"cases": 1})
    ServiceTicket.objects.create(community=community, unit=unit, kind="rectification", summary="卫生间渗水",
                                 opened_on=date(2026, 3, 1))
    scripts.ensure_scripts()
    return {"community": community, "unit": unit, "owner": owner, "collector": collector, "case": case,
            "attempt": attempt, "profile": profile, "policy": policy}


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_it_registers_every_collection_model():
    from django.apps import apps

    assert set(apps.get_app_config("collection").get_models()) <= set(admin.site._registry)
    assert ServiceTicket in admin.site._registry


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_it_renders_the_changelist_add_and_change_pages(admin_client, records, model):
    assert admin_client.get(_url(model, "changelist")).status_code == 200
    assert admin_client.get(_url(model, "add")).status_code == (403 if model in NOT_ADDED_HERE else 200)
    assert admin_client.get(_url(model, "change", model.objects.order_by("pk").first().pk)).status_code == 200


def test_it_searches_cases_by_room_and_owner_name(admin_client, records):
    other_unit = factories.unit(records["community"], building="5栋", room="0502")
    _case(records["community"], other_unit, factories.owner(other_unit, "赵六"))
    by_room = admin_client.get(_url(Case, "changelist"), {"q": "1201"}).context["cl"].result_list
    by_name = admin_client.get(_url(Case, "changelist"), {"q": "赵六"}).context["cl"].result_list
    assert [c.owner.name for c in by_room] == ["王小明"] and [c.owner.name for c in by_name] == ["赵六"]


def test_it_lists_cases_without_a_query_per_row(admin_client, records, django_assert_max_num_queries):
    with django_assert_max_num_queries(100) as before:
        admin_client.get(_url(Case, "changelist"))
    for n in range(4):
        unit = factories.unit(records["community"], building="7栋", room=f"70{n}")
        _case(records["community"], unit, factories.owner(unit, f"业主{n}"), collector=factories.user(f"c{n}"))
    with django_assert_max_num_queries(len(before.captured_queries)):
        admin_client.get(_url(Case, "changelist"))


def test_it_keeps_the_case_snapshot_read_only(admin_client, records):
    other_unit = factories.unit(records["community"], building="5栋", room="0502")
    case = _case(records["community"], other_unit, factories.owner(other_unit, "赵六"))
    data = {"collector": records["collector"].pk, "quiet_until": "2026-05-20", "principal": "1.00", "tier": "C",
            "status": "closed"}
    for prefix in ("steps", "tasks", "promises"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    response = admin_client.post(_url(Case, "change", case.pk), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.collector, case.quiet_until) == (records["collector"], date(2026, 5, 20))
    assert (case.principal, case.tier, case.status) == (Decimal("800.00"), "B", "open")


# -- scripts ------------------------------------------------------------------------------------

def _script_form(**overrides):
    return {"code": "ask_to_call_back", "title": "请转告回电", "technique": "4", "channel": "call", "neutral": "on",
            "body": "您好，我是{collector}，麻烦转告{owner_name}回电：{company_phone}。", "active": "on", **overrides}


@pytest.mark.parametrize("body", ["请转告{owner_name}尽快把欠费缴清", "请转告{owner_name}：合计{amount}"])
def test_it_refuses_a_neutral_script_that_speaks_of_the_debt(admin_client, db, body):
    response = admin_client.post(_url(Script, "add"), _script_form(body=body))
    assert response.status_code == 200
    assert NEUTRAL_REFUSED in response.content.decode()
    assert response.context["adminform"].form.errors["body"]
    assert not Script.objects.filter(code="ask_to_call_back").exists()


def test_it_refuses_to_make_an_existing_script_neutral_when_it_speaks_of_the_debt(admin_client, db):
    scripts.ensure_scripts()
    script = Script.objects.get(code="reminder_call")
    response = admin_client.post(_url(Script, "change", script.pk), _script_form(
        code=script.code, title=script.title, technique="1", body=script.body))
    assert response.status_code == 200 and NEUTRAL_REFUSED in response.content.decode()
    script.refresh_from_db()
    assert script.neutral is False


def test_it_saves_a_neutral_script_without_words_of_debt(admin_client, db):
    response = admin_client.post(_url(Script, "add"), _script_form())
    assert response.status_code == 302
    script = Script.objects.get(code="ask_to_call_back")
    assert (script.neutral, script.technique, script.channel) == (True, 4, "call")


def test_it_allows_words_of_debt_in_a_script_for_the_owner(admin_client, db):
    response = admin_client.post(_url(Script, "add"), _script_form(neutral="", body="{owner_name}您好，您家欠费{amount}元。"))
    assert response.status_code == 302
    assert Script.objects.get(code="ask_to_call_back").neutral is False


def test_it_refuses_an_unknown_placeholder(admin_client, db):
    response = admin_client.post(_url(Script, "add"), _script_form(neutral="", body="{ownr_name}您好"))
    assert response.status_code == 200 and "话术含未知占位符：{ownr_name}" in response.content.decode()
    assert not Script.objects.filter(code="ask_to_call_back").exists()


def test_it_previews_a_script_with_example_values(admin_client, records):
    script = Script.objects.get(code="reminder_call")
    html = admin_client.get(_url(Script, "change", script.pk)).content.decode()
    assert "王先生您好" in html and "{owner_name}" in html


def test_it_never_deletes_a_script(admin_client, records):
    script = Script.objects.get(code="reminder_call")
    assert admin_client.post(_url(Script, "delete", script.pk), {"post": "yes"}).status_code == 403
    assert Script.objects.filter(pk=script.pk).exists()


# -- the evidence log ---------------------------------------------------------------------------

def _attempt_form(records, **overrides):
    return {"case": records["case"].pk, "unit": records["unit"].pk, "owner": records["owner"].pk, "channel": "call",
            "at_0": "2026-05-01", "at_1": "09:30:00", "outcome": "answered", "notes": "业主说下周来", "staff": "",
            "attachments-TOTAL_FORMS": "0", "attachments-INITIAL_FORMS": "0",
            "corrections-TOTAL_FORMS": "0", "corrections-INITIAL_FORMS": "0", **overrides}


def _snapshot(model):
    return list(model.objects.order_by("pk").values())


@pytest.mark.parametrize("model", EVIDENCE, ids=lambda m: m._meta.label)
def test_it_shows_evidence_read_only_and_refuses_every_change(admin_client, records, model):
    # given
    obj = model.objects.order_by("pk").first()
    before = _snapshot(model)
    change, delete = _url(model, "change", obj.pk), _url(model, "delete", obj.pk)
    # when
    page = admin_client.get(change)
    posted = admin_client.post(change, _attempt_form(records, outcome="blocked", notes="改写"))
    deleted = admin_client.post(delete, {"post": "yes"})
    bulk = admin_client.post(_url(model, "changelist"), {"action": "delete_selected", "_selected_action": [obj.pk],
                                                         "post": "yes"})
    added = admin_client.post(_url(model, "add"), _attempt_form(records))
    # then
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert (posted.status_code, deleted.status_code, added.status_code) == (403, 403, 403)
    assert bulk.status_code in (200, 302) and "delete_selected" not in admin_client.get(_url(model, "changelist")).content.decode()
    assert _snapshot(model) == before


def test_it_refuses_to_backdate_an_attempt_into_answered(admin_client, records, clock):
    # given a call entered a minute ago
    attempt = records["attempt"]
    clock.shift(timedelta(minutes=1))
    # when a staff member posts a new time, channel, outcome and staff to its admin page
    response = admin_client.post(_url(ContactAttempt, "change", attempt.pk), _attempt_form(
        records, channel="visit", at_0="2026-04-01", outcome="answered", staff=records["collector"].pk))
    # then it is refused and the attempt is as it was
    assert response.status_code == 403
    attempt.refresh_from_db()
    assert (attempt.channel, attempt.at, attempt.outcome) == ("call", NOW, "promised")


def test_it_shows_an_attempt_with_its_corrections(admin_client, records, clock):
    # given a correction of the promise call, entered by a manager
    original = records["attempt"]
    clock.shift(timedelta(hours=30))
    manager = factories.user("manager")
    correction = ContactAttempt.objects.create(
        community=records["community"], case=records["case"], unit=records["unit"], owner=records["owner"], channel="call",
        at=NOW, outcome="answered", notes="更正：业主没有承诺", corrects=original, correction_reason="记错了", staff=manager)
    # when
    html = admin_client.get(_url(ContactAttempt, "change", original.pk)).content.decode()
    correction_html = admin_client.get(_url(ContactAttempt, "change", correction.pk)).content.decode()
    # then the original lists its correction, and the correction links back to the original
    assert "更正：业主没有承诺" in html and "manager" in html and "答应月底来缴" in html
    assert _url(ContactAttempt, "change", original.pk) in correction_html


# -- policy and profiles ------------------------------------------------------------------------

def test_it_gives_a_new_policy_the_default_ladder(admin_client, records):
    other = factories.community("翠湖苑", company_obj=records["community"].company)
    blank = CollectionPolicy()
    data = {"community": other.pk, "steps-TOTAL_FORMS": "0", "steps-INITIAL_FORMS": "0"}
    for field in CollectionPolicy._meta.concrete_fields:
        value = getattr(blank, field.attname)
        if field.name in ("id", "community") or value is False:
            continue
        data[field.name] = "on" if value is True else value.strftime("%H:%M") if hasattr(value, "strftime") else value
    response = admin_client.post(_url(CollectionPolicy, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    policy = CollectionPolicy.objects.get(community=other)
    assert list(policy.steps.order_by("day_offset", "id").values_list("code", flat=True)) == [
        row["code"] for row in sorted(ladder_rows(), key=lambda row: row["day_offset"])]


def test_it_keeps_the_history_of_an_owner_profile(admin_client, records):
    unit = factories.unit(records["community"], building="5栋", room="0502")
    owner = factories.owner(unit, "赵六")
    form = {"owner": owner.pk, "persona": "understanding", "reason": "economic", "intent": "", "note": "",
            "changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0"}
    assert admin_client.post(_url(OwnerProfile, "add"), form).status_code == 302
    profile = OwnerProfile.objects.get(owner=owner)
    assert profile.community == records["community"] and profile.updated_by.username == "admin"
    change = profile.changes.get()
    form |= {"persona": "resistant", "reason": "service", "changes-TOTAL_FORMS": "1", "changes-INITIAL_FORMS": "1",
             "changes-0-id": change.pk, "changes-0-profile": profile.pk}
    assert admin_client.post(_url(OwnerProfile, "change", profile.pk), form).status_code == 302
    assert list(profile.changes.values_list("persona", "reason", "changed_by__username")) == [
        ("resistant", "service", "admin"), ("understanding", "economic", "admin")]
    assert admin_client.post(_url(OwnerProfile, "change", profile.pk), form).status_code == 302
    assert profile.changes.count() == 2  # nothing changed, nothing recorded


# -- service tickets ----------------------------------------------------------------------------

def test_it_adds_a_service_ticket_in_the_unit_community(admin_client, records):
    response = admin_client.post(_url(ServiceTicket, "add"), {
        "unit": records["unit"].pk, "kind": "complaint", "summary": "电梯噪音", "opened_on": "2026-05-09",
        "closed_on": "", "satisfaction": ""})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert ServiceTicket.objects.get(summary="电梯噪音").community == records["community"]


def test_it_searches_service_tickets_by_room(admin_client, records):
    found = admin_client.get(_url(ServiceTicket, "changelist"), {"q": "1201"}).context["cl"].result_list
    missed = admin_client.get(_url(ServiceTicket, "changelist"), {"q": "9999"}).context["cl"].result_list
    assert [t.summary for t in found] == ["卫生间渗水"] and list(missed) == []
