"""Break-it (helper I): the front desk's search and one-tap reminder, tried as a careless gatekeeper,
an attacker and the owner's lawyer."""

from datetime import datetime

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse

from arrears.collection.models import ContactAttempt
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Contact
from tests.collection.conftest import TODAY
from tests.collection.test_desk_reminder import SHANGHAI, _messages, _tap


@pytest.fixture
def flagged(case):
    case.front_desk_flag = True
    case.save()
    return case


def _at(hour, minute=0):
    return datetime(TODAY.year, TODAY.month, TODAY.day, hour, minute, tzinfo=SHANGHAI)


# -- search, as a careless gatekeeper types -------------------------------------------------------------


@pytest.mark.parametrize("query", ["３栋１２０１", "阳光花园　３栋１２０１", " 3 栋 1201 ", "3栋1201室", "阳光花园3-1-1201",
                                   "3#1201", "3号楼1201", "1201\u200b"])
def test_full_width_digits_spaces_and_other_spellings_find_the_unit(insider, estate, query):
    assert estate["unit"].pk in {unit.pk for unit in estate_selectors.search_units(insider, query, today=TODAY)}


@pytest.mark.parametrize("query", ["%", "_", "%%", "王%", "_1201", "\\", "'; DROP TABLE estate_unit; --"])
def test_sql_wildcards_and_quotes_match_literally(insider, estate, query):
    assert list(estate_selectors.search_units(insider, query, today=TODAY)) == []


def test_another_communitys_unit_never_appears_even_by_its_owners_name_or_plate(front_desk, estate, client, today):
    client.force_login(front_desk)
    for query in ("钱远方", "钱", "1栋0101", "0101", "翠湖苑 1栋0101"):
        assert client.get(reverse("staff:desk"), {"q": query}).context["rows"] == []
        assert list(client.get(reverse("staff:search"), {"q": query}).context["page"]) == []


def test_a_query_too_long_says_why_instead_of_an_empty_page(front_desk, estate, client, today):
    client.force_login(front_desk)
    for page in ("staff:desk", "staff:search"):
        response = client.get(reverse(page), {"q": "阳光花园 3栋1201 " * 10})
        html = response.content.decode()
        assert response.status_code == 200 and 'data-testid="query-errors"' in html and "不超过 50 字符" in html


# -- the front desk learns nothing of amounts -------------------------------------------------------------


def test_the_front_desk_sees_no_amount_on_the_desk_search_or_unit_page(client, front_desk, flagged, scripts, estate):
    client.force_login(front_desk)
    with time_machine.travel(_at(10), tick=False):
        pages = [client.get(reverse("staff:desk"), {"q": "3栋1201"}), client.get(reverse("staff:search"), {"q": "3栋1201"}),
                 client.get(reverse("staff:unit", args=[estate["unit"].pk]))]
    assert "欠费，请礼貌提醒" in pages[0].content.decode()
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200 and "¥" not in html and "600" not in html and "621" not in html


def test_at_night_the_desk_says_nothing_of_arrears(client, front_desk, flagged, scripts):
    client.force_login(front_desk)
    with time_machine.travel(_at(21, 0), tick=False):
        html = client.get(reverse("staff:desk"), {"q": "3栋1201"}).content.decode()
    assert "无需提醒" in html and "欠费" not in html and 'data-testid="remind-form"' not in html


# -- the guard at its edges ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("hour", "minute", "allowed"), [(7, 59, False), (8, 0, True), (20, 59, True), (21, 0, False)])
def test_the_guards_hours_at_their_edges(client, front_desk, flagged, hour, minute, allowed):
    with time_machine.travel(_at(hour, minute), tick=False):
        response = _tap(client, front_desk, flagged)
    assert ContactAttempt.objects.count() == (1 if allowed else 0)
    assert allowed or "当面提醒仅可在 08:00–21:00 进行" in _messages(response)


# -- forged and replayed ------------------------------------------------------------------------------------


def test_a_post_without_csrf_is_refused_and_writes_nothing(front_desk, flagged):
    client = Client(enforce_csrf_checks=True)
    client.force_login(front_desk)
    with time_machine.travel(_at(10), tick=False):
        response = client.post(reverse("staff:desk_remind", args=[flagged.pk]), {"place": "gate", "owner_in_person": "on"})
    assert response.status_code == 403 and ContactAttempt.objects.count() == 0


def test_a_get_is_refused(client, front_desk, flagged):
    client.force_login(front_desk)
    with time_machine.travel(_at(10), tick=False):
        response = client.get(reverse("staff:desk_remind", args=[flagged.pk]), {"place": "gate", "owner_in_person": "on"})
    assert response.status_code == 405 and ContactAttempt.objects.count() == 0


def test_a_forged_back_link_cannot_redirect_off_site(client, front_desk, flagged):
    with time_machine.travel(_at(10), tick=False):
        response = _tap(client, front_desk, flagged, q="//evil.example/", next="https://evil.example/")
    assert all(url.startswith("/desk/") for url, _ in response.redirect_chain)


def test_a_replay_an_hour_later_is_a_new_reminder_and_the_first_stays_as_written(client, front_desk, flagged):
    with time_machine.travel(_at(10), tick=False):
        _tap(client, front_desk, flagged)
    first = ContactAttempt.objects.get()
    with time_machine.travel(_at(11), tick=False):
        _tap(client, front_desk, flagged)
    assert ContactAttempt.objects.count() == 2
    first.refresh_from_db()
    assert (first.at, first.place) == (_at(10), "gate")


def test_the_place_of_a_recorded_reminder_cannot_be_changed(client, front_desk, flagged):
    with time_machine.travel(_at(10), tick=False):
        _tap(client, front_desk, flagged)
    attempt = ContactAttempt.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        QuerySet.update(ContactAttempt.objects.filter(pk=attempt.pk), place="desk")
    attempt.refresh_from_db()
    assert attempt.place == "gate"


@pytest.mark.parametrize("query", ["3 1201", "阳光花园 3 1201", "3/1201", "3—1201", "3–1201", "3 - 1201", "3 1 1201",
                                   "３ １２０１"])
def test_a_space_slash_or_any_dash_between_building_and_room_finds_the_unit(insider, estate, query):
    assert [unit.pk for unit in estate_selectors.search_units(insider, query, today=TODAY)] == [estate["unit"].pk]


def test_a_space_does_not_join_a_building_and_room_into_anothers(insider, estate):
    # "3 1201" is not the room 31201, and "5 1201" is 5栋1201 only
    assert [unit.pk for unit in estate_selectors.search_units(insider, "5 1201", today=TODAY)] == [estate["other_unit"].pk]


def test_a_past_owner_at_the_gate_does_not_find_the_unit_or_its_owners_reminder(client, front_desk, flagged, scripts, estate):
    """李旧主 sold 3栋1201 in 2023; the gatekeeper who types his name must not be told to remind him of 王's debt."""
    Contact.objects.create(community=estate["community"], owner=estate["previous"], kind="mobile", value="13655557777",
                           relation="self")
    client.force_login(front_desk)
    with time_machine.travel(_at(10), tick=False):
        for query in ("李旧主", "李", "7777"):
            assert client.get(reverse("staff:desk"), {"q": query}).context["rows"] == [], query
        assert len(client.get(reverse("staff:desk"), {"q": "8888"}).context["rows"]) == 1  # today's owner's phone


def test_staff_search_still_finds_a_unit_by_a_past_owner_who_may_still_owe(insider, estate):
    assert [u.pk for u in estate_selectors.search_units(insider, "李旧主", today=TODAY)] == [estate["unit"].pk]
