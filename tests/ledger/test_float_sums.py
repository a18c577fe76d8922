"""SQLite sums decimals as floats; the statement must still be exact to the fen."""

from datetime import date
from decimal import Decimal as D

import pytest

from arrears.ledger import selectors
from arrears.ledger.models import Allocation, Charge, Payment
from tests import factories

pytestmark = pytest.mark.django_db


def test_many_small_payments_sum_to_the_fen():
    # given: 38 payments of 206.35 that together pay one charge of 7,841.30 (SQLite: 7841.300000000006)
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    charge = Charge.objects.create(
        community=community, unit=unit, owner=owner, charge_type=factories.charge_type(), period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31), amount=D("7841.30"), due_date=date(2026, 1, 5),
    )
    payments = Payment.objects.bulk_create([
        Payment(company=community.company, community=community, unit=unit, owner=owner, amount=D("206.35"),
                unallocated=D("0.00"), paid_on=date(2026, 1, 1), method="cash")
        for _ in range(38)
    ])
    Allocation.objects.bulk_create([
        Allocation(community=community, payment=p, charge=charge, component="principal", amount=D("206.35"),
                   value_date=date(2026, 1, 1))
        for p in payments
    ])
    # when
    as_of = date(2026, 3, 1)
    # then: nothing is owed and no credit is left, not even 0.00000000001
    assert selectors.prepaid_by_unit(as_of) == {}
    assert selectors.charge_lines(as_of) == []
    assert selectors.statement(as_of) == []
    assert selectors.prepaid_by_unit(date(2025, 12, 31)) == {}
