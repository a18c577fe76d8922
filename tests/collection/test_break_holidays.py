"""The holiday arrangement admin, tried with years it cannot know: a message, never a crash."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from arrears.collection import arrangements
from arrears.collection.models import HolidayArrangement

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI), tick=False):
        yield


@pytest.mark.parametrize("year", ["1", "1900", "2028", "9999", "32767"])
def test_it_refuses_an_arrangement_for_a_year_out_of_range_with_its_reason(admin_client, clock, year):
    # when: an admin enters a year the calendar cannot compute, or whose notice cannot be out yet
    response = admin_client.post(reverse("admin:collection_holidayarrangement_add"), {
        "year": year, "notice_date": "2026-11-20", "notice_reference": "国办发明电〔2026〕1号",
        "days_off": "2027-01-01", "working_days": "", "confirmed": "on"})
    # then: the form says why; nothing is stored
    assert response.status_code == 200
    assert f"年份须在 2008 至 2027 年之间（国务院通知只发布到明年）：{year}" in response.content.decode()
    assert HolidayArrangement.objects.count() == 0


def test_it_names_the_range_in_english(db, clock):
    assert arrangements.year_problem(2099) == (
        "年份须在 2008 至 2027 年之间（国务院通知只发布到明年）：2099",
        "The year must lie between 2008 and 2027 (the State Council's notice covers next year at most): 2099")
    assert arrangements.year_problem(2027) is None
