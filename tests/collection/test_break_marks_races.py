"""Break-it pass on the rerun marks, on PostgreSQL: what commits while a run goes on must be redone
by the next run of the same date, never vouched for by the marks the run stores (collection/marks.py)."""

import threading
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
import time_machine
from django.db import close_old_connections, connection, transaction

from arrears.collection import run as run_module
from arrears.collection.models import Case, CaseStatus
from arrears.collection.run import run_collection
from arrears.ledger import services
from arrears.ledger.models import Payment
from arrears.ledger.selectors import charge_lines
from tests import factories
from tests.collection.test_run_marks import DAY, estate  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent commits are PostgreSQL's"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(DAY, tick=False):
        yield


class _Job(threading.Thread):
    """A job in its own thread and connection; its result or error in `result`."""

    def __init__(self, job):
        super().__init__(daemon=True)
        self.job, self.result = job, None

    def run(self):
        try:
            self.result = self.job()
        except Exception as error:  # noqa: BLE001 - reported to the test
            self.result = error
        finally:
            close_old_connections()
            connection.close()


def _waiting_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0]


def _case(estate, name):  # noqa: F811
    _, unit, owner = estate[name]
    return Case.objects.filter(unit=unit, owner=owner).order_by("-pk").first()


def test_a_payment_committed_after_a_higher_id_is_not_skipped_by_the_rerun(estate):  # noqa: F811
    # given: a run for the day; then the east owner pays everything at a slow till: the payment has its
    # id, but its transaction is still open
    # (another company's community owes too)
    north = factories.community("北区", company_obj=factories.company("另一物业"))
    north_unit = factories.unit(north)
    north_owner = factories.owner(north_unit)
    factories.tariff(north)
    services.bill(through=date(2026, 3, 1), community_ids=[north.pk])
    run_collection(as_of=DAY)
    _, east_unit, east_owner = estate["东区"]
    taken, go = threading.Event(), threading.Event()

    def slow_payment():
        with transaction.atomic():
            payment = services.record_payment(unit_id=east_unit.pk, owner_id=east_owner.pk, amount=D("700.00"),
                                              paid_on=DAY, method="cash")
            taken.set()
            go.wait()
        return payment

    till = _Job(slow_payment)
    till.start()
    assert taken.wait()
    # and: a payment with higher ids (its allocations too) commits at once, at another company's till
    services.record_payment(unit_id=north_unit.pk, owner_id=north_owner.pk, amount=D("1.00"), paid_on=DAY,
                            method="cash")
    assert not Payment.objects.filter(unit=east_unit).exists()  # the east payment is not committed yet
    # when: the run goes again for the day, and the slow till commits while it goes (or while it waits)
    rerun = _Job(lambda: run_collection(as_of=DAY))
    rerun.start()
    while rerun.is_alive() and not _waiting_locks():
        rerun.join(0.02)
    go.set()
    till.join()
    rerun.join()
    assert not isinstance(till.result, Exception), till.result
    assert not isinstance(rerun.result, Exception), rerun.result
    # and: the run goes once more for the day
    run_collection(as_of=DAY)
    # then: the east owner's payment was seen by a run, and the case it paid off is closed
    assert _case(estate, "东区").status == CaseStatus.CLOSED


def test_a_waiver_approved_while_the_run_goes_is_redone_by_the_rerun(estate, monkeypatch):  # noqa: F811
    # given: the east owner asked for the debt to be waived; a manager approves it while the run is
    # going, after the run has assessed the owner
    boss, clerk = factories.user("boss", is_superuser=True), factories.user("clerk")
    _, unit, owner = estate["东区"]
    waivers = [
        services.request_waiver(charge_id=line.charge_id, component="principal", amount=line.outstanding,
                                reason="和解", requested_by=clerk, requested_on=DAY - timedelta(days=10))
        for line in charge_lines(DAY, unit_ids=[unit.pk]) if line.owner_id == owner.pk and line.outstanding > 0
    ]
    assess = run_module.assess

    def assess_then_approve(*args, **kwargs):
        found = assess(*args, **kwargs)
        if any(a.unit_id == unit.pk for a in found):
            def approve():
                for waiver in waivers:
                    services.approve_waiver(waiver_id=waiver.pk, approved_by=boss, decided_on=DAY)
            manager = _Job(approve)
            manager.start()
            manager.join()
            assert manager.result is None, manager.result
        return found

    monkeypatch.setattr(run_module, "assess", assess_then_approve)
    run_collection(as_of=DAY)
    monkeypatch.setattr(run_module, "assess", assess)
    assert _case(estate, "东区").status == CaseStatus.OPEN  # assessed before the approval
    # when: the run goes again for the day
    run_collection(as_of=DAY)
    # then: the rerun sees the waiver and closes the case: nobody is sent to collect a waived debt
    assert _case(estate, "东区").status == CaseStatus.CLOSED


def test_a_writer_left_open_does_not_hold_the_run_and_its_rows_are_still_redone(estate, monkeypatch):  # noqa: F811
    # given: a run for the day; then the east owner pays at a till whose transaction stays open (a long
    # import would do the same), and the run will wait for open writers only a moment
    from arrears.collection import marks

    run_collection(as_of=DAY)
    monkeypatch.setattr(marks, "SETTLE_LOCK_TIMEOUT_MS", 50)
    _, east_unit, east_owner = estate["东区"]
    taken, go = threading.Event(), threading.Event()

    def slow_payment():
        with transaction.atomic():
            services.record_payment(unit_id=east_unit.pk, owner_id=east_owner.pk, amount=D("700.00"), paid_on=DAY,
                                    method="cash")
            taken.set()
            go.wait()

    till = _Job(slow_payment)
    till.start()
    assert taken.wait()
    # when: the run goes again while the till is still open: it does not wait for the till
    rerun = _Job(lambda: run_collection(as_of=DAY))
    rerun.start()
    rerun.join()
    assert not isinstance(rerun.result, Exception), rerun.result
    # and: the till commits, and the run goes once more for the day
    go.set()
    till.join()
    assert not isinstance(till.result, Exception), till.result
    run_collection(as_of=DAY)
    # then: the marks it could not settle were older ones, so the payment was seen and the case closed
    assert _case(estate, "东区").status == CaseStatus.CLOSED
