import importlib
import re

import pytest
from django.apps import apps

from arrears.collection import rules, scripts
from arrears.collection.defaults import DEFAULT_LADDER, ladder_rows
from arrears.collection.models import Channel, Script
from arrears.collection.scripts import DEFAULT_SCRIPTS, EXAMPLE_CONTEXT, SKELETON
from arrears.core.errors import DomainError

BY_CODE = {row["code"]: row for row in DEFAULT_SCRIPTS}
# Owner-facing scripts that ask for payment follow seed 000's skeleton; these five do something else.
NOT_ASKING = {"neutral_third_party", "front_desk_polite", "three_warnings", "after_payment_follow_up", "service_fix_first"}
# Nothing of the kind may ever be said (DESIGN.md §2 "not built, ever", 民法典第944条).
FORBIDDEN = ["停水", "停电", "断水", "断电", "停暖", "断暖", "停气", "断气", "供暖", "曝光", "黑名单", "公示", "后果自负",
             "征信", "拘留", "坐牢", "上门讨", "找你单位", "告诉你家人"]


# -- the default library (no database) -----------------------------------------------------------

def test_it_has_every_required_script_with_its_technique():
    expected = {"reminder_call": 1, "promise_call": 2, "sympathy": 3, "neutral_third_party": 4, "common_front": 5,
                "sugar_coat": 6, "front_desk_polite": 7, "visit_reminder": 1, "letter_heads_up": 8,
                "education_neglectful": None, "plan_offer": None, "three_warnings": None,
                "after_payment_follow_up": None, "lawyer_letter_notice": 9, "service_fix_first": None,
                "resistant_duty": None, "evasive_contact": None, "letter_follow_up": None, "lawyer_heads_up": None,
                "lawyer_letter_follow_up": None}
    assert {code: BY_CODE[code]["technique"] for code in expected} == expected
    assert len(BY_CODE) == len(DEFAULT_SCRIPTS)


def test_it_has_a_script_for_every_script_code_of_the_default_ladder():
    ladder_codes = {script for *_, script, _extra in DEFAULT_LADDER if script}
    assert ladder_codes == {"reminder_call", "promise_call", "visit_reminder", "front_desk_polite", "letter_heads_up",
                            "letter_follow_up", "lawyer_heads_up", "lawyer_letter_follow_up"}
    assert ladder_codes <= set(BY_CODE)


@pytest.mark.parametrize("row", DEFAULT_SCRIPTS, ids=lambda row: row["code"])
def test_it_renders_every_default_script_without_leftover_placeholders(row):
    text = scripts.render_script(row["body"], EXAMPLE_CONTEXT)
    assert not re.search(r"[{}]", text)
    assert all(str(EXAMPLE_CONTEXT[name]) in text for name in scripts.placeholders_in(row["body"]))


@pytest.mark.parametrize("row", DEFAULT_SCRIPTS, ids=lambda row: row["code"])
def test_it_passes_its_own_checks_for_every_default_script(row):
    scripts.check_script(code=row["code"], title=row["title"], body=row["body"], neutral=row["neutral"],
                         technique=row["technique"], channel=row["channel"])
    assert set(scripts.placeholders_in(row["body"])) <= set(scripts.PLACEHOLDERS)
    assert row["channel"] in Channel.values


def test_it_keeps_every_neutral_default_script_free_of_debt_words():
    neutral = [row for row in DEFAULT_SCRIPTS if row["neutral"]]
    assert [row["code"] for row in neutral] == ["neutral_third_party"]
    for row in neutral:
        rules.validate_neutral_text(row["body"])
        assert rules.neutral_problems(row["body"]) == []


@pytest.mark.parametrize("row", [r for r in DEFAULT_SCRIPTS if r["code"] not in NOT_ASKING], ids=lambda r: r["code"])
def test_it_follows_the_call_script_skeleton(row):
    positions = [row["body"].find(section) for section in SKELETON]
    assert -1 not in positions and positions == sorted(positions)
    commitment = row["body"][positions[-1]:]
    assert "{payment_link}" in commitment and "前一天" in commitment


@pytest.mark.parametrize("row", DEFAULT_SCRIPTS, ids=lambda row: row["code"])
def test_it_never_threatens_or_mentions_cutting_utilities(row):
    assert [word for word in FORBIDDEN if word in row["body"]] == []


def test_it_keeps_amounts_out_of_what_the_front_desk_says():
    body = BY_CODE["front_desk_polite"]["body"]
    assert not set(scripts.placeholders_in(body)) & set(rules.AMOUNT_PLACEHOLDERS)
    assert "没有其他人" in body


def test_it_gives_the_three_warnings_before_ending_the_call():
    body = BY_CODE["three_warnings"]["body"]
    positions = [body.find(s) for s in ("【第一次提醒】", "【第二次提醒】", "【第三次提醒】", "【结束之后】")]
    assert -1 not in positions and positions == sorted(positions)
    assert "记录" in body[positions[-1]:]


def test_it_asks_nothing_of_a_resistant_owner_until_the_complaint_is_fixed():
    body = BY_CODE["service_fix_first"]["body"]
    assert not set(scripts.placeholders_in(body)) & set(rules.AMOUNT_PLACEHOLDERS)
    assert "不谈缴费" in body and "工单" in body


def test_it_reminds_the_collector_of_an_evasive_owner_to_keep_the_evidence():
    body = BY_CODE["evasive_contact"]["body"]
    assert "证据" in body and "录音" in body and "中性话术" in body


def test_it_tells_the_owner_privately_before_a_lawyer_letter():
    assert "如仍不缴，公司将委托律师事务所向您发出律师函" in BY_CODE["lawyer_heads_up"]["body"]
    assert "私下" in BY_CODE["lawyer_heads_up"]["body"]


def test_it_states_the_lawyer_letter_deadline():
    body = BY_CODE["lawyer_letter_notice"]["body"]
    assert "14 天" in body and "{due_date}" in body


# -- rendering ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "expected"), [
    ("{owner_name}您好", "王先生您好"),
    ("{owner_name}，{unknown}", "王先生，{unknown}"),
    ("大括号 { 单独出现", "大括号 { 单独出现"),
    ("右括号 } 也行", "右括号 } 也行"),
    ("{{owner_name}}", "{王先生}"),
    ("{0} {} {owner_name!r} {owner_name:>10}", "{0} {} {owner_name!r} {owner_name:>10}"),
    ("{owner_name.__class__} {owner_name[0]}", "{owner_name.__class__} {owner_name[0]}"),
    ("{业主}", "{业主}"),
    ("", ""),
])
def test_it_fills_known_placeholders_and_leaves_everything_else_visible(body, expected):
    assert scripts.render_script(body, {"owner_name": "王先生"}) == expected


def test_it_renders_non_string_values():
    from datetime import date
    from decimal import Decimal

    text = scripts.render_script("{amount} 元，{months} 个月，{oldest_due}", {
        "amount": Decimal("1236.40"), "months": 6, "oldest_due": date(2025, 12, 5)})
    assert text == "1236.40 元，6 个月，2025-12-05"


# -- saving ---------------------------------------------------------------------------------------

def _save(**overrides):
    values = {"code": "my_call", "title": "我的话术", "body": "{owner_name}您好，我是{collector}。", "neutral": False,
              "technique": 1, "channel": "call"}
    return scripts.save_script(**{**values, **overrides})


def test_it_saves_a_new_script(db):
    script = _save()
    assert Script.objects.get(code="my_call") == script
    assert (script.title, script.technique, script.channel, script.neutral, script.active) == ("我的话术", 1, "call", False, True)


def test_it_updates_the_script_with_the_same_code(db):
    first = _save()
    second = _save(title="改过的", body="{owner_name}您好", technique=None, channel="", active=False)
    assert second.pk == first.pk
    script = Script.objects.get(code="my_call")
    assert (script.title, script.body, script.technique, script.channel, script.active) == ("改过的", "{owner_name}您好", None, "", False)


@pytest.mark.parametrize(("overrides", "code"), [
    ({"neutral": True, "body": "请转告{owner_name}尽快处理欠费"}, "neutral_text"),
    ({"neutral": True, "body": "请转告{owner_name}，合计{amount}"}, "neutral_text"),
    ({"neutral": True, "body": "请转告业主带 300 元来服务中心"}, "neutral_text"),
    ({"technique": 0}, "script_technique"),
    ({"technique": 10}, "script_technique"),
    ({"code": "我的话术"}, "script_code"),
    ({"code": "has space"}, "script_code"),
    ({"code": ""}, "script_code"),
    ({"title": "  "}, "script_title"),
    ({"channel": "fax"}, "script_channel"),
    ({"body": " "}, "script_body"),
    ({"body": "{owner_nmae}您好"}, "script_placeholder"),
])
def test_it_refuses_a_bad_script_and_changes_nothing(db, overrides, code):
    existing = _save(code="kept", title="原样", body="原样内容")
    with pytest.raises(DomainError) as refused:
        _save(**{"code": "kept", **overrides})
    assert refused.value.code == code and refused.value.zh and refused.value.en
    existing.refresh_from_db()
    assert (existing.title, existing.body, existing.neutral, existing.technique) == ("原样", "原样内容", False, 1)
    assert Script.objects.filter(code__in=["我的话术", "has space", ""]).count() == 0


# -- the defaults in the database -----------------------------------------------------------------

def test_it_creates_the_missing_default_scripts_once(db):
    Script.objects.all().delete()
    assert scripts.ensure_scripts() == len(DEFAULT_SCRIPTS)
    assert scripts.ensure_scripts() == 0
    assert set(Script.objects.values_list("code", flat=True)) == set(BY_CODE)
    Script.objects.filter(code__in=["sympathy", "plan_offer"]).delete()
    assert scripts.ensure_scripts() == 2
    assert Script.objects.count() == len(DEFAULT_SCRIPTS)


def test_it_never_overwrites_a_script_staff_edited(db):
    scripts.ensure_scripts()
    Script.objects.filter(code="reminder_call").update(body="我们自己的话术", active=False)
    assert scripts.ensure_scripts() == 0
    assert Script.objects.filter(code="reminder_call").values_list("body", "active").get() == ("我们自己的话术", False)


def test_it_ships_the_persona_scripts_and_steps_with_a_data_migration(db):
    # given a policy whose ladder predates them, and a script staff already wrote under one of the codes
    from arrears.collection.models import CollectionPolicy, LadderStep
    from arrears.collection.run import create_default_policy
    from tests import factories

    migration = importlib.import_module("arrears.collection.migrations.0004_persona_method")
    first = factories.community()
    policy = create_default_policy(first)
    reworked = create_default_policy(factories.community("翠湖苑", company_obj=first.company))
    new_codes = [row["code"] for row in migration.NEW_STEPS]
    LadderStep.objects.filter(code__in=new_codes).delete()
    LadderStep.objects.filter(code="lawyer_letter").update(requires_steps="letter_2", days_after_required=7)
    LadderStep.objects.filter(policy=reworked, code="lawyer_letter").update(days_after_required=10)
    Script.objects.filter(code__in=migration.NEW_SCRIPTS).delete()
    Script.objects.create(code="lawyer_heads_up", title="我们的", body="我们的")
    # when it runs twice
    for _ in range(2):
        migration.add_scripts(apps, None)
        migration.add_steps(apps, None)
    # then every policy has each new step once, as the default ladder has it
    assert CollectionPolicy.objects.count() == 2
    for each in (policy, reworked):
        steps = {step.code: step for step in LadderStep.objects.filter(policy=each)}
        assert len(steps) == LadderStep.objects.filter(policy=each).count()
        assert set(new_codes) <= set(steps)
    defaults = {row["code"]: row for row in ladder_rows()}
    for code in new_codes:
        step = LadderStep.objects.get(policy=policy, code=code)
        assert {name: getattr(step, name) for name in defaults[code]} == defaults[code]
    assert LadderStep.objects.filter(policy=policy, code="lawyer_letter").values_list(
        "requires_steps", "days_after_required").get() == ("lawyer_heads_up", 5)
    assert LadderStep.objects.filter(policy=reworked, code="lawyer_letter").values_list(
        "requires_steps", "days_after_required").get() == ("letter_2", 10)  # staff's choice is kept
    assert set(Script.objects.filter(code__in=migration.NEW_SCRIPTS).values_list("code", flat=True)) == set(migration.NEW_SCRIPTS)
    assert Script.objects.get(code="lawyer_heads_up").body == "我们的"


def test_it_ships_the_defaults_with_a_data_migration(db):
    migration = importlib.import_module("arrears.collection.migrations.0002_default_scripts")
    Script.objects.all().delete()
    Script.objects.create(code="sympathy", title="已改", body="已改", technique=3)
    migration.create_default_scripts(apps, None)
    migration.create_default_scripts(apps, None)
    assert Script.objects.count() == len(DEFAULT_SCRIPTS)
    assert Script.objects.get(code="sympathy").body == "已改"
    assert Script.objects.get(code="neutral_third_party").neutral is True


# -- choosing scripts -----------------------------------------------------------------------------

@pytest.mark.parametrize(("technique", "channel", "persona", "service_open", "default", "code"), [
    # the persona chooses the words of a reminder call (① ②)
    (1, "call", "understanding", False, "reminder_call", "plan_offer"),
    (2, "call", "understanding", False, "promise_call", "plan_offer"),
    (2, "call", "neglectful", False, "promise_call", "education_neglectful"),
    (1, "call", "evasive", False, "reminder_call", "evasive_contact"),
    (1, "call", "resistant", False, "reminder_call", "resistant_duty"),
    (2, "call", "", False, "promise_call", "promise_call"),
    # a technique's own words stay its own
    (3, "call", "understanding", False, "sympathy", "sympathy"),
    (4, "call", "evasive", False, "neutral_third_party", "neutral_third_party"),
    (8, "call", "neglectful", False, "letter_follow_up", "letter_follow_up"),
    (1, "visit", "understanding", False, "visit_reminder", "visit_reminder"),
    (8, "letter", "understanding", False, "", ""),
    # 抗拒型 with an open complaint: no demand, only the service fix
    (2, "call", "resistant", True, "promise_call", "service_fix_first"),
    (6, "visit", "resistant", True, "sugar_coat", "service_fix_first"),
    (5, "call", "resistant", True, "common_front", "service_fix_first"),
    (9, "call", "resistant", True, "lawyer_heads_up", "service_fix_first"),
    (8, "letter", "resistant", True, "", "service_fix_first"),
    (4, "call", "resistant", True, "neutral_third_party", "neutral_third_party"),
    (None, "call", "resistant", True, "after_payment_follow_up", "after_payment_follow_up"),
    (7, "front_desk_flag", "resistant", True, "front_desk_polite", "front_desk_polite"),
    # an open ticket changes nothing for the other personas
    (2, "call", "understanding", True, "promise_call", "plan_offer"),
])
def test_it_chooses_the_script_for_the_persona(technique, channel, persona, service_open, default, code):
    assert scripts.script_code_for(technique=technique, channel=channel, persona=persona, service_open=service_open,
                                   default=default) == code


DEFAULTS = {1: ("reminder_call", "call"), 2: ("promise_call", "call"), 3: ("sympathy", "call"),
            4: ("neutral_third_party", "call"), 5: ("common_front", "call"), 6: ("sugar_coat", "visit"),
            7: ("front_desk_polite", "front_desk_flag"), 8: ("letter_heads_up", "call")}


@pytest.mark.parametrize(("techniques", "persona", "service_open", "codes"), [
    ([2, 1, 3, 7], "understanding", False, ["plan_offer", "", "sympathy", "front_desk_polite"]),
    ([1, 2, 3, 7], "neglectful", False, ["education_neglectful", "", "sympathy", "front_desk_polite"]),
    ([4, 7, 1], "evasive", False, ["neutral_third_party", "front_desk_polite", "evasive_contact"]),
    ([6, 5, 1, 3, 8], "resistant", True, ["service_fix_first", "", "", "", ""]),
    ([6, 5, 1, 3, 8], "resistant", False, ["sugar_coat", "common_front", "resistant_duty", "sympathy", "letter_heads_up"]),
    ([1, 9], "", False, ["reminder_call", ""]),
])
def test_it_shows_each_script_once_beside_the_techniques(techniques, persona, service_open, codes):
    assert scripts.technique_script_codes(techniques, persona=persona, service_open=service_open,
                                          defaults=DEFAULTS) == codes


def test_every_script_a_persona_may_choose_is_in_the_library():
    assert scripts.CHOSEN_CODES <= set(BY_CODE)
    assert scripts.NOT_DEMANDS <= set(BY_CODE)


def test_it_lists_active_scripts_in_the_order_of_the_techniques_in_one_query(db, django_assert_num_queries):
    scripts.ensure_scripts()
    Script.objects.filter(code="sympathy").update(active=False)
    with django_assert_num_queries(1):
        chosen = scripts.scripts_for([7, 2, 3, 1, 2])
    assert [s.code for s in chosen] == ["front_desk_polite", "promise_call", "reminder_call", "visit_reminder"]


def test_it_lists_only_neutral_scripts_when_asked(db):
    scripts.ensure_scripts()
    assert [s.code for s in scripts.scripts_for([1, 4, 7], neutral_only=True)] == ["neutral_third_party"]


def test_it_lists_nothing_for_no_techniques(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert scripts.scripts_for([]) == []
