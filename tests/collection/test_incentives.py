"""The late-fee waiver for owners who pay on their own (seed 000), through the daily run and the desk.

January's 200.00 falls due 2026-01-25, 万分之五 a day; the run opens a case on 2026-01-26. A call is
logged on 2026-02-01 (the first reminder). The programme waives the late fee of owners who clear the
principal within 7 days of it.
"""

from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine

from arrears.collection.incentives import first_reminders, waive_late_fees
from arrears.collection.models import Case, CaseStatus, CloseReason, ContactAttempt
from arrears.collection.run import run_collection
from arrears.ledger import incentives, services
from arrears.ledger.models import Charge, IncentiveGrant
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def opened():
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    factories.tariff(community, due_day=25)
    manager = factories.user("manager")
    incentives.create_programme(community_id=community.pk, kind="late_fee_waiver", name="主动缴清免违约金",
                                valid_from=date(2026, 1, 1), days=7, created_by=manager)
    services.bill(through=date(2026, 1, 1))
    with time_machine.travel(datetime(2026, 1, 26, 8, 0, tzinfo=SHANGHAI), tick=False):
        run_collection(as_of=date(2026, 1, 26))
    case = Case.objects.get(unit=unit, owner=owner, status=CaseStatus.OPEN)
    # the first reminder: a call late in the evening of 2026-02-01, Shanghai time (UTC's day is the same)
    ContactAttempt.objects.create(community=community, case=case, unit=unit, owner=owner, channel="call",
                                  at=datetime(2026, 2, 1, 10, 0, tzinfo=SHANGHAI), outcome="answered", notes="提醒",
                                  staff=manager)
    return community, unit, owner, case


def pay(unit, owner, amount, on):
    with time_machine.travel(on, tick=False):
        return services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=amount, paid_on=on, method="cash")


def test_it_reads_the_first_reminder_of_an_open_case(opened):
    community, unit, owner, case = opened
    ContactAttempt.objects.create(community=community, case=case, unit=unit, owner=owner, channel="call",
                                  at=datetime(2026, 2, 3, 10, 0, tzinfo=SHANGHAI), outcome="no_answer", notes="")
    assert first_reminders() == {(unit.pk, owner.pk): date(2026, 2, 1)}


def test_the_daily_run_waives_the_late_fee_and_closes_the_case_as_paid(opened):
    community, unit, owner, case = opened
    pay(unit, owner, "200.00", date(2026, 2, 5))  # the principal; 11 days × 0.10 = 1.10 late fee left
    with time_machine.travel(datetime(2026, 2, 6, 8, 0, tzinfo=SHANGHAI), tick=False):
        summary = run_collection(as_of=date(2026, 2, 6))
    grant = IncentiveGrant.objects.get()
    assert (grant.kind, grant.amount, grant.granted_on) == ("late_fee_waiver", D("1.10"), date(2026, 2, 6))
    case.refresh_from_db()
    assert (case.status, case.close_reason, case.closed_on) == (CaseStatus.CLOSED, CloseReason.PAID, date(2026, 2, 6))
    assert summary.extra["late_fees_waived"] == 1
    # and a second run for the same day changes nothing
    with time_machine.travel(datetime(2026, 2, 6, 9, 0, tzinfo=SHANGHAI), tick=False):
        run_collection(as_of=date(2026, 2, 6))
    assert IncentiveGrant.objects.count() == 1


def test_an_owner_who_pays_after_the_window_keeps_the_late_fee(opened):
    community, unit, owner, case = opened
    pay(unit, owner, "200.00", date(2026, 2, 9))  # 2026-02-01 + 7 = 2026-02-08
    with time_machine.travel(datetime(2026, 2, 10, 8, 0, tzinfo=SHANGHAI), tick=False):
        run_collection(as_of=date(2026, 2, 10))
    assert IncentiveGrant.objects.count() == 0
    assert Charge.objects.get(unit=unit).settled_on is None  # 15 days × 0.10 = 1.50 still owed


def test_without_a_reminder_nothing_is_waived_by_this_programme(opened):
    community, unit, owner, case = opened
    other = factories.unit(community, room="102")
    other_owner = factories.owner(other, "李四")
    assert waive_late_fees(as_of=date(2026, 2, 6), pairs=[(other.pk, other_owner.pk)]) == 0
