"""The fast write paths (COPY on PostgreSQL, one executemany for credit) write what the ORM would."""

from datetime import date
from decimal import Decimal as D

import pytest
import time_machine
from django.db import IntegrityError, transaction

from arrears.ledger import services
from arrears.ledger.models import Charge, ChargeOrigin, Payment
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


def test_billed_rows_are_complete_and_still_unique():
    # given
    community = factories.community()
    units = [factories.unit(community, room=room, area=area) for room, area in [("101", "88.88"), ("102", "120.50")]]
    owners = [factories.owner(unit, name) for unit, name in zip(units, ["张三", "李四"], strict=True)]
    factories.tariff(community, price="2.20")
    # when
    services.bill(through=date(2026, 2, 1))
    # then
    rows = list(Charge.objects.order_by("unit_id", "period_start").values_list(
        "owner_id", "amount", "due_date", "origin", "late_fee_daily_rate", "settled_on", "created_at"))
    assert [r[:6] for r in rows] == [
        (owners[0].pk, D("195.54"), date(2026, 1, 5), ChargeOrigin.BILLED, D("0.0005"), None),
        (owners[0].pk, D("195.54"), date(2026, 2, 5), ChargeOrigin.BILLED, D("0.0005"), None),
        (owners[1].pk, D("265.10"), date(2026, 1, 5), ChargeOrigin.BILLED, D("0.0005"), None),
        (owners[1].pk, D("265.10"), date(2026, 2, 5), ChargeOrigin.BILLED, D("0.0005"), None),
    ]
    assert all(r[6] is not None for r in rows)
    first = Charge.objects.order_by("pk").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        services._insert_charges([services.NewCharge(
            first.community_id, first.unit_id, first.owner_id, first.charge_type_id, None, first.period_start,
            first.period_end, first.amount, first.due_date, ChargeOrigin.BILLED, D("0"), 0, D("1"),
        )])


def test_credit_of_many_payments_is_spent_in_one_go():
    community = factories.community()
    unit = factories.unit(community)
    owner = factories.owner(unit)
    factories.tariff(community)  # 200.00 a month
    for n, amount in enumerate(["150.00", "130.00", "99.99"]):
        services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=amount, paid_on=date(2025, 12, 20 + n),
                                method="cash")
    services.bill(through=date(2026, 2, 1))
    # 379.99 of credit on 400.00 of charges, oldest payment spent first
    assert list(Payment.objects.order_by("paid_on").values_list("unallocated", flat=True)) == [D("0.00")] * 3
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="100.00", paid_on=date(2026, 3, 1), method="cash")
    # Feb: 20.01 unpaid from 2-05 to 3-01, 24 days × 0.0005 = 0.24; 100 − 20.01 − 0.24 = 79.75
    assert Payment.objects.order_by("paid_on").last().unallocated == D("79.75")
