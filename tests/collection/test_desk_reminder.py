"""The front desk finds a unit the way every page writes it and, with one tap, records that the owner
was reminded in person at the gate, the car park or the desk: evidence, through the guard."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from arrears.collection.models import Channel, ContactAttempt, Outcome
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import StaffScope
from arrears.ledger import services as ledger_services
from tests import factories
from tests.collection.conftest import TODAY, make_case

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def flagged(case):
    case.front_desk_flag = True
    case.save()
    return case


def _tap(client, user, case, place="gate", **extra):
    client.force_login(user)
    data = {"place": place, "owner_in_person": "on", "q": "3栋1201", **extra}
    return client.post(reverse("staff:desk_remind", args=[case.pk]), data, follow=True)


def _messages(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


def _at(hour, minute=0, day=TODAY):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


# -- finding the unit --------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["阳光花园 3栋1201", "阳光花园3栋1201", "阳光花园 3-1201", "阳光花园 3栋1单元1201",
                                   "3栋1201", "3-1201", "王", "王小明"])
def test_it_finds_the_unit_as_every_page_writes_it(insider, estate, query):
    found = list(estate_selectors.search_units(insider, query, today=TODAY))
    assert [unit.pk for unit in found] == [estate["unit"].pk]


def test_a_room_alone_finds_every_building_and_a_community_prefix_narrows_nothing_else(insider, estate):
    found = {unit.pk for unit in estate_selectors.search_units(insider, "阳光花园 1201", today=TODAY)}
    assert found == {estate["unit"].pk, estate["other_unit"].pk}


def test_another_community_named_in_the_query_finds_nothing_outside_the_scope(insider, estate):
    # 翠湖苑 1栋0101 exists, but the insider's scope is 阳光花园 only
    assert list(estate_selectors.search_units(insider, "翠湖苑 1栋0101", today=TODAY)) == []


def test_the_desk_finds_the_unit_by_community_building_and_room(client, front_desk, estate, today):
    client.force_login(front_desk)
    html = client.get(reverse("staff:desk"), {"q": "阳光花园 3栋1201"}).content.decode()
    assert "阳光花园 3栋1单元1201" in html and "王**" in html and "王小明" not in html


def test_the_search_reads_in_a_fixed_number_of_queries(insider, estate, django_assert_max_num_queries):
    for n in range(10):
        factories.unit(estate["community"], building=f"{n + 10}栋", room="1201")
    with django_assert_max_num_queries(3):  # the community names, then the units
        assert len(list(estate_selectors.search_units(insider, "阳光花园 1201", today=TODAY))) == 12


# -- one tap --------------------------------------------------------------------------------------------


def test_the_desk_offers_the_three_places_on_a_reminder_row(client, front_desk, flagged, scripts, today):
    client.force_login(front_desk)
    html = client.get(reverse("staff:desk"), {"q": "3栋1201"}).content.decode()
    assert 'data-testid="remind-form"' in html
    assert all(f'name="place" value="{place}"' in html for place in ("gate", "parking", "desk"))


def test_one_tap_records_when_and_where_the_owner_was_reminded(client, front_desk, flagged, estate):
    with time_machine.travel(_at(9, 30), tick=False):
        response = _tap(client, front_desk, flagged, place="parking")
    assert response.status_code == 200 and "已记录：09:30 在车场当面提醒 3栋1单元1201 业主本人" in _messages(response)
    attempt = ContactAttempt.objects.get()
    assert (attempt.channel, attempt.outcome, attempt.place, attempt.staff, attempt.case, attempt.owner) == (
        Channel.FRONT_DESK_FLAG, Outcome.REMINDED, "parking", front_desk, flagged, estate["owner"])
    assert attempt.at == _at(9, 30) and attempt.relation == "self" and attempt.violation_rule == ""


def test_a_double_tap_records_once(client, front_desk, flagged):
    with time_machine.travel(_at(9, 30), tick=False):
        _tap(client, front_desk, flagged)
    with time_machine.travel(_at(9, 31), tick=False):
        second = _tap(client, front_desk, flagged)
    assert ContactAttempt.objects.count() == 1
    assert "09:30 在门岗的提醒刚刚已记录，没有重复记录" in _messages(second)


def test_a_reminder_after_the_window_is_a_new_record(client, front_desk, flagged):
    with time_machine.travel(_at(9, 30), tick=False):
        _tap(client, front_desk, flagged)
    with time_machine.travel(_at(9, 33), tick=False):
        _tap(client, front_desk, flagged)
    assert ContactAttempt.objects.count() == 2


def test_it_is_404_for_another_communitys_case(client, front_desk, estate):
    far_case = make_case(estate["far_unit"], estate["far_unit"].ownerships.get().owner, front_desk_flag=True)
    with time_machine.travel(_at(10), tick=False):
        client.force_login(front_desk)
        response = client.post(reverse("staff:desk_remind", args=[far_case.pk]), {"place": "gate", "owner_in_person": "on"})
    assert response.status_code == 404 and ContactAttempt.objects.count() == 0


def test_it_is_403_for_a_role_that_may_not_record(client, finance, flagged):
    client.force_login(finance)
    response = client.post(reverse("staff:desk_remind", args=[flagged.pk]), {"place": "gate", "owner_in_person": "on"})
    assert response.status_code == 403 and ContactAttempt.objects.count() == 0


# -- refusals: nothing recorded, and the reason -----------------------------------------------------------


def _refused(client, user, case, when, expected, **extra):
    with time_machine.travel(when, tick=False):
        response = _tap(client, user, case, **extra)
    assert expected in _messages(response)
    assert ContactAttempt.objects.count() == 0


def test_it_refuses_at_night(client, front_desk, flagged):
    _refused(client, front_desk, flagged, _at(21, 30), "现在不能提醒：当面提醒仅可在 08:00–21:00 进行")


def test_it_refuses_on_a_holiday_of_a_year_whose_schedule_nobody_confirmed(client, front_desk, flagged):
    # 2040: no published holiday schedule: the guard presumes National Day a holiday and refuses
    day = TODAY.replace(year=2040, month=10, day=2)
    _refused(client, front_desk, flagged, _at(10, day=day), "2040 年放假安排尚未确认")


def test_it_refuses_an_owner_who_asked_not_to_be_contacted(client, front_desk, flagged, estate):
    estate["owner"].do_not_contact = True
    estate["owner"].save()
    _refused(client, front_desk, flagged, _at(10), "业主已要求不再联系")


def test_it_refuses_to_record_a_reminder_told_to_someone_else(client, front_desk, flagged):
    _refused(client, front_desk, flagged, _at(10), "只能当面提醒业主本人", owner_in_person="")


def test_it_refuses_a_case_not_flagged_for_the_desk(client, front_desk, case):
    _refused(client, front_desk, case, _at(10), "该户无需前台提醒")


def test_it_refuses_when_the_owner_paid_up(client, front_desk, flagged, estate):
    with time_machine.travel(_at(9), tick=False):
        ledger_services.record_payment(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount="621.00",
                                       paid_on=TODAY, method="cash")
    _refused(client, front_desk, flagged, _at(10), "该户已无逾期欠费，无需提醒")


def test_it_refuses_a_place_it_does_not_know(client, front_desk, flagged):
    _refused(client, front_desk, flagged, _at(10), "提醒地点", place="lobby")


def test_a_scope_of_one_building_sees_no_case_of_another(client, flagged, estate):
    user = factories.user("gate-5", groups=["front_desk"])
    StaffScope.objects.create(user=user, community=estate["community"], building=estate["other_unit"].building)
    client.force_login(user)
    with time_machine.travel(_at(10) + timedelta(minutes=1), tick=False):
        response = client.post(reverse("staff:desk_remind", args=[flagged.pk]), {"place": "gate", "owner_in_person": "on"})
    assert response.status_code == 404
