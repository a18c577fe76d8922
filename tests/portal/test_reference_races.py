"""One bank transfer, two payments (issue 13, path 4), raced on PostgreSQL: two desks (or two
imports) entering one reference at once end with one payment and one receipt; the other is
refused in words, as the check would have refused it."""

import threading
from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection

from arrears.core.errors import DomainError
from arrears.estate.models import Unit
from arrears.ledger import importers, services
from arrears.ledger.models import Payment
from arrears.portal import cashier
from arrears.portal.models import Receipt
from tests import factories
from tests.collection.test_break_races import _race
from tests.ledger.test_importers import xlsx
from tests.staff import conftest as staff

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and index waits are PostgreSQL's"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
estate, today = staff.estate, staff.today
REF = "ICBC-20260510-001"


def _desk(estate, user, *, unit="unit", owner="owner", paid_on=staff.TODAY, key=""):
    def job():
        return cashier.take_payment(unit_id=estate[unit].pk, owner_id=estate[owner].pk, amount=D("100.00"),
                                    method="bank_transfer", paid_on=paid_on, reference=REF, operator=user, key=key)
    return job


def hold_two_desks_after_the_check(monkeypatch):
    """Two desks that share no lock: the unit lock narrowed to the unit's own row (today it also
    locks the company's, which serialises a company's payments; the constraint must not depend on
    that), and each desk held, once, right after the ledger's reference check passed, until both have."""
    passed, original, seen = threading.Barrier(2), services.check_reference, threading.local()
    monkeypatch.setattr(services, "_lock_unit", lambda unit_id: Unit.objects.select_for_update(of=("self",))
                        .select_related("community__company").get(pk=unit_id))

    def check_then_wait(**kwargs):
        found = original(**kwargs)
        if not getattr(seen, "waited", False):
            seen.waited = True
            passed.wait(timeout=10)
        return found

    monkeypatch.setattr(services, "check_reference", check_then_wait)


def _one_taken_one_refused(results):
    taken = [r for r in results if isinstance(r, Payment)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert (len(taken), len(refused)) == (1, 1), results
    assert refused[0].code == "duplicate_reference"
    assert f"交易参考号 {REF} 已登记（收据号 {taken[0].receipt_number}）" in refused[0].zh
    assert list(Payment.objects.filter(reference=REF)) == taken
    assert list(Receipt.objects.filter(payment__reference=REF).values_list("number", flat=True)) == [taken[0].receipt_number]


def test_it_takes_one_payment_when_two_desks_enter_one_transfer_at_once(estate):
    # given two cashiers with the same bank slip for the same unit
    desk = factories.user("desk1")
    # when both confirm at once (on main both were taken: the check ran before the lock)
    results = _race(_desk(estate, desk, key="a"), _desk(estate, desk, key="b"))
    # then one payment with one receipt; the other is refused
    _one_taken_one_refused(results)


def test_the_database_keeps_one_payment_when_two_desks_pass_every_check_at_once(estate, monkeypatch):
    # given two desks that share no lock: two units, receipt counters of two years, and the unit
    # lock narrowed to the unit's own row (today it also locks the company's, which serialises a
    # company's payments; the constraint must not depend on that), held together right after the
    # ledger's reference check has passed for both
    desk = factories.user("desk1")
    hold_two_desks_after_the_check(monkeypatch)
    # when both insert: the second waits on the unique index until the first commits
    results = _race(_desk(estate, desk), _desk(estate, desk, unit="other_unit", owner="neighbour_owner",
                                                paid_on=date(2025, 12, 31)))
    # then the constraint keeps one, and the loser hears the same refusal as the check's
    _one_taken_one_refused(results)


def test_two_imports_of_one_receipt_number_at_once_write_one_payment(estate, monkeypatch):
    # given one payment row, imported twice at once; both validate before either writes
    row = ["阳光花园", "3栋", "1", "1201", date(2026, 5, 1), 100, "银行转账", "SJ-IMPORT-1"]
    files = [xlsx({importers.PAYMENTS: [row]}) for _ in range(2)]
    validated, write = threading.Barrier(2), importers._Importer.write

    def write_together(self):
        validated.wait(timeout=10)
        return write(self)

    monkeypatch.setattr(importers._Importer, "write", write_together)
    # when
    reports = _race(*(lambda f=f: importers.run_import(f, dry_run=False) for f in files))
    # then one payment; the other import wrote nothing and says which row's number was taken
    assert Payment.objects.filter(receipt_number="SJ-IMPORT-1").count() == 1
    assert sorted(report.ok for report in reports) == [False, True], reports
    refused = next(report for report in reports if not report.ok)
    assert [(e.sheet, e.row, e.column) for e in refused.errors] == [(importers.PAYMENTS, 2, "票据号")]
    assert "票据号 SJ-IMPORT-1 已登记" in refused.errors[0].text
