"""Issue 13, path 4, attacked again on PostgreSQL: one reversed transfer corrected at two desks at once."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection

from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.estate.models import StaffScope
from arrears.ledger.models import Payment
from arrears.portal import cashier
from tests import factories
from tests.collection.test_break_races import _race
from tests.portal.test_reference_races import hold_two_desks_after_the_check
from tests.staff import conftest as staff

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and index waits are PostgreSQL's"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
estate, today = staff.estate, staff.today
REF = "ICBC-20260510-777"


def test_two_desks_correcting_one_reversal_at_once_take_one_payment(estate, monkeypatch):
    # given a transfer taken with the wrong amount and reversed (four eyes)
    desk, boss = factories.user("desk1"), factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=boss, community=estate["community"])
    wrong = cashier.take_payment(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D("1000.00"),
                                 method="bank_transfer", paid_on=staff.TODAY, reference=REF, operator=desk)
    request = cashier.request_reversal(payment=wrong, reason="金额录错", requested_by=desk)
    cashier.approve_reversal(request=request, approver=boss, on=staff.TODAY)
    # and two desks that share no lock (two units, receipt counters of two years, the unit lock narrowed to the unit's row), held
    # together after both passed the ledger's check
    hold_two_desks_after_the_check(monkeypatch)

    def correct(unit, owner, paid_on):
        return lambda: cashier.take_payment(unit_id=estate[unit].pk, owner_id=estate[owner].pk, amount=D("100.00"),
                                            method="bank_transfer", paid_on=paid_on, reference=REF,
                                            operator=desk, corrects=wrong.receipt_number)

    # when both re-enter the reversed receipt
    results = _race(correct("unit", "owner", staff.TODAY), correct("other_unit", "neighbour_owner", date(2025, 12, 31)))
    # then one correction stands; the other is refused in words, and one payment of the reference is in force
    taken = [r for r in results if isinstance(r, Payment)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert (len(taken), len(refused)) == (1, 1), results
    assert refused[0].code == "duplicate_reference" and taken[0].receipt_number in refused[0].zh
    assert list(Payment.objects.filter(reference=REF, reversal__isnull=True)) == taken
