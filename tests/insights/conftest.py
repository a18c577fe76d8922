"""Two small worlds. A ledger with a pattern to learn: a third of the owners pay late, the rest before the
due date. A company for the dashboard: 阳光花园 with 1栋 and 2栋, 翠湖苑 with 1栋, a year and a half of monthly
fees, some paid, the daily run's cases, a collector per building and three kinds of viewers (a manager of
阳光花园, a collector of its 1栋 only, the front desk)."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from arrears.collection.models import CollectorAssignment
from arrears.collection.run import run_collection
from arrears.core import roles
from arrears.estate.models import StaffScope
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


TODAY = date(2026, 6, 20)


@pytest.fixture
def today():
    with time_machine.travel(timezone.make_aware(datetime(2026, 6, 20, 10)), tick=False):
        yield TODAY


def build_company(*, buildings: int = 2, units_per_building: int = 3, tag: str = "") -> dict:
    """阳光花园 with `buildings` buildings, 翠湖苑 with one; each unit billed from 2025-01, paying in its own way."""
    sunny = factories.community(f"阳光花园{tag}", company_obj=factories.company(f"示范物业{tag}"))
    lake = factories.community(f"翠湖苑{tag}", company_obj=sunny.company)
    owners = []
    for community, count in ((sunny, buildings), (lake, 1)):
        factories.tariff(community, price="2.00", effective_from=date(2025, 1, 1))
        for b in range(1, count + 1):
            for u in range(1, units_per_building + 1):
                unit = factories.unit(community, building=f"{b}栋", room=f"{u}01", area=f"{60 + 10 * u}.00")
                owners.append((unit, factories.owner(unit, f"业主{community.pk}-{b}-{u}")))
    services.bill(through=date(2026, 6, 1))
    for index, (unit, owner) in enumerate(owners):
        # a third paid everything on time, a third stopped in the autumn, a third never paid
        if index % 3 == 0:
            services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="4000.00", paid_on=date(2025, 1, 3),
                                    method="cash")
        elif index % 3 == 1:
            services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount=f"{1500 + 300 * index}.00",
                                    paid_on=date(2025, 10, 8), method="wechat")
            services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="90.00", paid_on=date(2026, 6, 9),
                                    method="wechat")
        elif index == 2:  # the first building's never-payer pays a little three days after May's due date
            services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="100.00", paid_on=date(2026, 5, 8),
                                    method="cash", designation=[_charge_due(unit, date(2026, 5, 5))])
    collectors = []
    for community in (sunny, lake):
        for building in community.buildings.order_by("sort_key"):
            number = len(collectors) + 1
            person = factories.user(f"collector{tag}{number}", groups=[roles.COLLECTOR], last_name="催", first_name=f"员{number}")
            CollectorAssignment.objects.create(community=community, building=building, user=person)
            collectors.append(person)
    run_collection(as_of=TODAY)
    return {"sunny": sunny, "lake": lake, "collectors": collectors,
            "buildings": list(sunny.buildings.order_by("sort_key")), "lake_building": lake.buildings.get()}


def _charge_due(unit, due):
    return Charge.objects.get(unit=unit, due_date=due).pk


@pytest.fixture
def company(db, today):
    return build_company()


@pytest.fixture
def manager(company):
    user = factories.user("manager", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=company["sunny"])
    return user


@pytest.fixture
def one_building(company):
    """The collector of 阳光花园 1栋, scoped to that building only."""
    user = company["collectors"][0]
    StaffScope.objects.create(user=user, community=company["sunny"], building=company["buildings"][0])
    return user


@pytest.fixture
def front_desk(company):
    user = factories.user("desk", groups=[roles.FRONT_DESK])
    StaffScope.objects.create(user=user, community=company["sunny"])
    return user
