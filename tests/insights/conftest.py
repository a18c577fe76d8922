"""A small ledger with a pattern to learn: a third of the owners pay late, the rest before the due date."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from arrears.ledger import services
from arrears.ledger.models import Charge, Payment
from tests import factories

UNITS = 24


def late_owner(index: int) -> bool:
    return index % 3 == 0


@pytest.fixture
def ledger(db):
    """24 units billed ¥200.00 monthly from 2024-01 to 2025-12, paid as each owner's habit says."""
    company = factories.company()
    community = factories.community(company_obj=company)
    rng = random.Random(7)
    accounts = []
    for index in range(UNITS):
        unit = factories.unit(community, room=f"{index + 1:02d}01")
        accounts.append((index, unit, factories.owner(unit, f"业主{index}", start=date(2023, 6, 1))))
    factories.tariff(community, effective_from=date(2024, 1, 1))
    services.bill(through=date(2025, 12, 1))
    payments = []
    for index, unit, owner in accounts:
        for charge in Charge.objects.filter(unit=unit).order_by("due_date"):
            late = late_owner(index) != (rng.random() < 0.1)  # habits, with one bill in ten the other way
            paid_on = charge.due_date + timedelta(days=45 if late else -3)
            if paid_on <= date(2026, 1, 31):
                payments.append(Payment(company=company, community=community, unit=unit, owner=owner,
                                        amount=charge.amount, unallocated=charge.amount, paid_on=paid_on, method="cash"))
    Payment.objects.bulk_create(payments)
    services.apply_credit(pairs=[(unit.pk, owner.pk) for _i, unit, owner in accounts], since=date(2024, 1, 1))
    return {"company": company, "community": community, "accounts": accounts}


def pay(unit, owner, amount, paid_on):
    return services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=Decimal(amount), paid_on=paid_on,
                                   method="cash")
