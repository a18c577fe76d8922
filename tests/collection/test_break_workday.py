"""Break-it on the collector's day: what a careless user, an attacker and the owner's lawyer try
from a case card (helper L). Each test is a break that was found, or a door that was tried."""

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from arrears.collection import outcomes
from arrears.collection.models import AttemptAttachment, ContactAttempt, Promise
from arrears.core.errors import DomainError
from arrears.core.i18n import CJK
from tests import factories
from tests.collection.conftest import make_case
from tests.collection.test_views import make_task

SHANGHAI = ZoneInfo("Asia/Shanghai")
AFTERNOON = datetime(2026, 5, 10, 15, 30, tzinfo=SHANGHAI)
MORNING_CALL = datetime(2026, 5, 10, 10, 5, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _nothing_written(task):
    task.refresh_from_db()
    return (task.status, ContactAttempt.objects.count(), Promise.objects.count()) == ("open", 0, 0)


@pytest.mark.parametrize(("at", "why"), [
    ("2026-05-10T16:30", "还没到"), ("2026-05-02T10:00", "天内的联系"), ("2026-13-40T99:99", "联系时间"),
    ("yesterday", "联系时间"), ("", None),
])
def test_a_call_time_in_the_future_too_old_or_garbage_is_refused(client, insider, case, at, why):
    task = make_task(case)
    client.force_login(insider)
    with time_machine.travel(AFTERNOON, tick=False):
        response = client.post(reverse("staff:task_log", args=[task.pk]), {"outcome": "answered", "at": at}, follow=True)
    said = " ".join(str(m) for m in response.context["messages"])
    if why is None:  # no time given: the call is now
        assert ContactAttempt.objects.get().at == AFTERNOON
    else:
        assert why in said and _nothing_written(task), said


@pytest.mark.parametrize(("amount", "due"), [
    ("0", "2026-05-17"), ("-5.00", "2026-05-17"), ("621.01", "2026-05-17"), ("100.00", "2026-05-09"),
    ("abc", "2026-05-17"), ("1e9", "2026-05-17"), ("100.001", "2026-05-17"),
])
def test_a_promise_of_nothing_negative_too_much_or_past_is_refused(client, insider, case, amount, due):
    task = make_task(case)
    client.force_login(insider)
    with time_machine.travel(AFTERNOON, tick=False):
        response = client.post(reverse("staff:task_log", args=[task.pk]), {
            "outcome": "promised", "at": "2026-05-10T10:05", "promise_amount": amount, "promise_due": due}, follow=True)
    assert _nothing_written(task), [str(m) for m in response.context["messages"]]


def test_a_promise_above_what_the_ledger_says_is_owed_is_refused_though_the_snapshot_is_stale(case, insider):
    # given: the run's snapshot (999.00 + 21.00) is older than the ledger, which says 600.00 + 21.00
    case.principal = Decimal("999.00")
    case.save()
    task = make_task(case)
    # then: the card shows 621.00, so a promise of 1,000.00 is more than owed
    with time_machine.travel(AFTERNOON, tick=False), pytest.raises(DomainError, match="621.00"):
        outcomes.log_card(task=task, outcome="promised", staff=insider, at=MORNING_CALL, promise_amount="1000.00",
                          promise_due=date(2026, 5, 17))
    assert _nothing_written(task)


@pytest.mark.parametrize(("name", "data", "content_type"), [
    ("call.m4a", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00This program cannot be run in DOS mode", "audio/mp4"),
    ("setup.exe", b"MZ\x90\x00", "application/octet-stream"),
    ("notes.txt", b"hello", "text/plain"),
    ("call.m4a", b"", "audio/mp4"),
    ("door.jpg", b"  <!DOCTYPE html><script>alert(1)</script>", "image/jpeg"),
    ("call.mp3", b"#!/bin/sh\nrm -rf ~", "audio/mpeg"),
])
def test_a_file_that_is_not_a_recording_or_photo_is_refused(case, insider, name, data, content_type):
    task = make_task(case)
    with time_machine.travel(AFTERNOON, tick=False), pytest.raises(DomainError):
        outcomes.log_card(task=task, outcome="answered", staff=insider, at=MORNING_CALL, attachment_kind="recording",
                          upload=SimpleUploadedFile(name, data, content_type=content_type))
    assert _nothing_written(task) and not AttemptAttachment.objects.exists()


def test_a_unit_with_two_debtors_is_a_card_per_debtor_each_named_and_a_case_with_many_channels_is_one(
        client, insider, case, estate):
    # given: a co-owner of the same unit with a case of their own; the first case has a call and a visit due
    co_owner = factories.owner(estate["unit"], "共有人", start=date(2024, 1, 1))
    second = make_case(estate["unit"], co_owner, collector=insider)
    make_task(case, key="a")
    make_task(case, key="v", channel="visit", title="上门拜访")
    make_task(second, key="b", title="共有人电话")
    client.force_login(insider)
    response = client.get(reverse("staff:workbench"))
    html = response.content.decode()
    # then: one card per case (a case is a debtor of a unit: each is called about their own debt),
    # each card names whose debt it is, and carries that owner's figures only
    cards = {card.case.owner.name: card for card in response.context["cards"]}
    assert sorted(cards) == ["共有人", "王小明"] and html.count('data-testid="case-card"') == 2
    assert [row.task.key for row in cards["王小明"].rows] == ["a", "v"]
    assert (cards["王小明"].total, cards["共有人"].total) == (Decimal("621.00"), Decimal("0.00"))
    assert '<span class="owner">共有人</span>' in html and '<span class="owner">王小明</span>' in html


def test_an_amr_recording_is_not_taken_for_a_script(case, insider):
    task = make_task(case)
    with time_machine.travel(AFTERNOON, tick=False):
        outcomes.log_card(task=task, outcome="answered", staff=insider, at=MORNING_CALL, attachment_kind="recording",
                          upload=SimpleUploadedFile("call.amr", b"#!AMR\n\x3c\x91\x17", content_type="audio/amr"))
    assert AttemptAttachment.objects.count() == 1


# -- a contact outside the guard ------------------------------------------------------------------

QUIET_CALL = "2026-05-09T22:30"  # last night, in the quiet hours (21:00–08:00)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_call_made_in_the_quiet_hours_is_recorded_with_its_violation_said_in_one_language(
        client, insider, case, settings, language):
    task = make_task(case)
    client.force_login(insider)
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: language})
    with time_machine.travel(AFTERNOON, tick=False):
        response = client.post(reverse("staff:task_log", args=[task.pk]), {"outcome": "answered", "at": QUIET_CALL},
                               follow=True)
    attempt = ContactAttempt.objects.get()
    assert attempt.violation_rule == "outside_hours" and attempt.at == datetime(2026, 5, 9, 22, 30, tzinfo=SHANGHAI)
    [said] = [str(m) for m in response.context["messages"]]
    if language == "en":
        assert not CJK.search(said.replace(estate_label(case), "")), said
        assert "hours" in said.lower()
    else:
        assert not re.search(r"[A-Za-z]{3,}", said.replace(estate_label(case), "")), said
        assert "已列入合规报告" in said


def estate_label(case):
    return case.unit.label


def test_a_card_the_guard_blocks_now_says_that_only_a_contact_already_made_may_be_logged(client, insider, case, today):
    # given: it is 22:00, the quiet hours
    make_task(case)
    client.force_login(insider)
    with time_machine.travel(datetime(2026, 5, 10, 22, 0, tzinfo=SHANGHAI), tick=False):
        html = client.get(reverse("staff:workbench")).content.decode()
    card = html[html.index('data-testid="case-card"'):]
    # then: no call button, the log button says it records an earlier contact, and the time is not prefilled with now
    assert 'href="tel:' not in card and "受限" in card
    assert "记录此前的联系" in card and "现在不可联系：只能记录已经进行过的联系" in card
    assert 'name="at" value=""' in card


def test_the_cards_of_a_unit_add_up_to_the_unit_pages_statement_to_the_fen(client, insider, case, estate, today):
    # given: the unit's previous owner also left a debt behind, with a case of their own
    from arrears.collection import selectors as collection_selectors
    from arrears.ledger import selectors as ledger_selectors

    previous = make_case(estate["unit"], estate["previous"], collector=insider)
    amounts = collection_selectors.case_amounts([case, previous], today=today)
    page = ledger_selectors.unit_statement(estate["unit"].pk, today)
    # then: the two cards together are the unit page's figures, exactly
    assert sum((a[0] for a in amounts.values()), Decimal("0")) == page.principal
    assert sum((a[1] for a in amounts.values()), Decimal("0")) == page.late_fee
    assert amounts[case.pk] == (Decimal("600.00"), Decimal("21.00"))


# -- attacker: wrong role, no CSRF, forged values ---------------------------------------------------


def test_the_front_desk_cannot_log_a_card_ask_a_waiver_or_propose_a_plan(client, front_desk, case):
    from arrears.collection.models import InstalmentPlan
    from arrears.ledger.models import Waiver

    task = make_task(case)
    client.force_login(front_desk)
    assert client.post(reverse("staff:task_log", args=[task.pk]), {"outcome": "answered"}).status_code == 403
    assert client.post(reverse("staff:case_waiver", args=[case.pk]),
                       {"component": "late_fee", "amount": "1.00", "reason": "x"}).status_code == 403
    assert client.post(reverse("staff:case_plan", args=[case.pk]), {"months": "3", "first_due": "2026-05-20"}).status_code == 403
    assert _nothing_written(task) and not Waiver.objects.exists() and not InstalmentPlan.objects.exists()


def test_a_card_posted_without_its_csrf_token_is_refused(insider, case):
    from django.test import Client

    task = make_task(case)
    client = Client(enforce_csrf_checks=True)
    client.force_login(insider)
    assert client.post(reverse("staff:task_log", args=[task.pk]), {"outcome": "answered"}).status_code == 403
    assert _nothing_written(task)


@pytest.mark.parametrize(("amount", "stored"), [("２１.００", "21.00"), (" 21 ", "21.00"), ("-0.00", None), ("1e3", None),
                                                 ("NaN", None), ("0.001", None), ("21.01", None)])
def test_a_waiver_amount_typed_oddly_is_read_or_refused_never_rounded(client, insider, case, amount, stored):
    from arrears.ledger.models import Waiver

    client.force_login(insider)
    response = client.post(reverse("staff:case_waiver", args=[case.pk]),
                           {"component": "late_fee", "amount": amount, "reason": "约定"}, follow=True)
    total = sum((w.amount for w in Waiver.objects.all()), Decimal("0"))
    if stored is None:
        assert not Waiver.objects.exists(), [str(m) for m in response.context["messages"]]
    else:
        assert total == Decimal(stored)


def test_a_promise_of_the_cards_total_is_taken_though_the_snapshot_is_older_and_lower(case, insider):
    # given: the run last saw 100.00 + 0.00; the ledger (the card) says 600.00 + 21.00
    case.principal, case.late_fee = Decimal("100.00"), Decimal("0.00")
    case.save()
    task = make_task(case)
    with time_machine.travel(AFTERNOON, tick=False):
        outcomes.log_card(task=task, outcome="promised", staff=insider, at=MORNING_CALL, promise_amount="621.00",
                          promise_due=date(2026, 5, 17))
    assert list(Promise.objects.values_list("amount", flat=True)) == [Decimal("621.00")]
