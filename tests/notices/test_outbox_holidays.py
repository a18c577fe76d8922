"""The outbox asks the guard again at send time: no SMS goes out on a holiday, even in a year the
calendar package does not know; it waits for the first allowed instant after the holiday."""

import pytest

from arrears.collection.models import MessageStatus
from arrears.notices import outbox

from .conftest import at


@pytest.mark.parametrize(("day", "after"), [
    ("2026-10-01", "2026-10-08"),  # in the package: the published arrangement (1–7 October)
    ("2027-01-01", "2027-01-04"),  # 2027 unconfirmed: the presumed block Fri 1 – Sun 3 January
    ("2027-02-05", "2027-02-15"),  # 除夕: the presumed Spring Festival block runs to Sunday 14 February
    ("2027-02-06", "2027-02-15"),
    ("2027-02-07", "2027-02-15"),
    ("2027-02-08", "2027-02-15"),
    ("2027-10-01", "2027-10-08"),
])
def test_no_message_is_sent_on_a_holiday(provider, message, day, after):
    # when the outbox runs at ten in the morning of the holiday
    assert outbox.dispatch(now=at(day)) == {"rescheduled": 1}

    # then nothing reached the provider and the message waits until the holiday is over
    message.refresh_from_db()
    assert (message.status, message.not_before, provider.calls) == (MessageStatus.QUEUED, at(after, "09:00"), 0)


def test_a_message_goes_out_on_an_ordinary_tuesday_of_an_unconfirmed_year(provider, message):
    assert outbox.dispatch(now=at("2027-03-09")) == {"sent": 1}
    assert provider.calls == 1
