"""Break-it (helper I): two taps of the desk's reminder at the same instant, from two phones of one
gatekeeper, on PostgreSQL: one record of evidence, not two."""

from datetime import datetime

import pytest
import time_machine
from django.db import connection

from arrears.collection import services
from arrears.collection.models import ContactAttempt
from tests import factories
from tests.collection.conftest import make_case
from tests.collection.test_break_races import SHANGHAI, _race
from tests.staff import conftest as staff

NOW = datetime(2026, 5, 10, 10, 0, tzinfo=SHANGHAI)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
estate = staff.estate
today = staff.today


def test_two_simultaneous_taps_record_one_reminder(estate):
    gate = factories.user("gate-race")
    with time_machine.travel(NOW, tick=False):
        case = make_case(estate["unit"], estate["owner"], front_desk_flag=True)

        def tap():
            with time_machine.travel(NOW, tick=False):
                return services.record_in_person_reminder(case=case, place="gate", staff=gate, owner_in_person=True)

        results = _race(tap, tap, tap)
    assert sorted(created for _attempt, created in results) == [False, False, True]
    assert ContactAttempt.objects.count() == 1
