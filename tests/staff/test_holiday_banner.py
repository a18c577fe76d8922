"""Managers and admins see, on every staff page, that a year's holiday arrangement awaits confirmation."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from arrears.collection.models import HolidayArrangement
from arrears.core import roles
from tests import factories

SH = ZoneInfo("Asia/Shanghai")
BANNER = "2027 年放假安排尚未确认：法定节假日及前后通常放假的日子一律不联系业主。请在后台录入国务院办公厅通知后确认。"

pytestmark = pytest.mark.django_db


def page_for(client, user, day: date, url=None) -> str:
    with time_machine.travel(datetime(day.year, day.month, day.day, 10, 0, tzinfo=SH), tick=False):
        client.force_login(user)
        response = client.get(url or reverse("staff:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_managers_and_admins_see_the_banner_from_the_first_of_december():
    # given
    manager = factories.user("manager", groups=[roles.MANAGER])
    admin = factories.user("admin", groups=[roles.ADMIN])
    root = factories.user("root", is_superuser=True, is_staff=True)
    # when / then
    for user in (manager, admin, root):
        html = page_for(_client(), user, date(2026, 12, 1))
        assert BANNER in html, user
        assert f'href="{reverse("admin:collection_holidayarrangement_changelist")}"' in html
    assert BANNER not in page_for(_client(), manager, date(2026, 11, 30))  # 2026 is known; 2027 not yet due
    assert BANNER in page_for(_client(), manager, date(2027, 3, 9))  # the current year, unconfirmed


def test_collectors_and_the_front_desk_do_not_see_it():
    for user in (factories.user("collector", groups=[roles.COLLECTOR]), factories.user("gate", groups=[roles.FRONT_DESK])):
        assert "放假安排尚未确认" not in page_for(_client(), user, date(2026, 12, 2))


def test_the_banner_goes_once_the_year_is_confirmed():
    # given a draft: not yet enough
    manager = factories.user("manager", groups=[roles.MANAGER])
    arrangement = HolidayArrangement.objects.create(year=2027, days_off="2027-01-01")
    assert BANNER in page_for(_client(), manager, date(2026, 12, 2))
    # when it is confirmed
    arrangement.confirmed, arrangement.notice_date = True, date(2026, 11, 20)
    arrangement.save()
    # then
    assert "放假安排尚未确认" not in page_for(_client(), manager, date(2026, 12, 2))


def test_the_banner_speaks_english_to_an_english_page():
    manager = factories.user("manager", groups=[roles.MANAGER])
    client = _client()
    client.cookies.load({"django_language": "en"})
    html = page_for(client, manager, date(2026, 12, 2))
    assert ("The 2027 holiday arrangement is not yet confirmed: no owner is contacted on statutory holidays or on "
            "the days usually off around them. Enter the State Council notice in the admin and confirm it.") in html


def _client():
    from django.test import Client

    return Client()
