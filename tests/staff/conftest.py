"""Three fixed users around one unit with history: an insider scoped to the unit's community, a
neighbour scoped to another building of it, and an outsider with no scope at all."""

from datetime import date

import pytest
import time_machine

from arrears.core import roles
from arrears.estate.models import Contact, StaffScope, Vehicle
from arrears.ledger import services
from tests import factories

TODAY = date(2026, 5, 10)


@pytest.fixture
def today():
    with time_machine.travel(TODAY, tick=False):
        yield TODAY


@pytest.fixture
def estate(db, today):
    """阳光花园 3栋1单元1201 owned by 王小明 since 2024, with four monthly charges and one payment."""
    community = factories.community()
    unit = factories.unit(community, building="3栋", entrance="1", room="1201", area="100.00")
    other_unit = factories.unit(community, building="5栋", entrance="1", room="1201", area="80.00")
    previous = factories.owner(unit, "李旧主", start=date(2020, 1, 1), end=date(2023, 12, 31), id_number="110101198001011234")
    owner = factories.owner(unit, "王小明", start=date(2024, 1, 1), id_number="310101199002023456")
    neighbour_owner = factories.owner(other_unit, "赵邻居", start=date(2024, 1, 1))
    Contact.objects.create(community=community, owner=owner, kind="mobile", value="13912348888", relation="self")
    Contact.objects.create(community=community, owner=owner, kind="mobile", value="13700001111", relation="spouse", name="孙丽")
    Vehicle.objects.create(community=community, unit=unit, plate="沪A12345")
    factories.tariff(community)  # 2.00/m²/month from 2026-01, due the 5th, 万分之五 a day
    services.bill(through=date(2026, 4, 1))
    services.record_payment(unit_id=unit.pk, owner_id=owner.pk, amount="200.00", paid_on=date(2026, 1, 20),
                            method="wechat", receipt_number="R-0001")
    elsewhere = factories.community("翠湖苑", company_obj=community.company)
    far_unit = factories.unit(elsewhere, building="1栋", room="0101")
    factories.owner(far_unit, "钱远方")
    return {"community": community, "unit": unit, "owner": owner, "previous": previous,
            "other_unit": other_unit, "neighbour_owner": neighbour_owner, "far_unit": far_unit}


@pytest.fixture
def insider(estate):
    user = factories.user("insider", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


@pytest.fixture
def neighbour(estate):
    user = factories.user("neighbour", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=user, community=estate["community"], building=estate["other_unit"].building)
    return user


@pytest.fixture
def outsider(estate):
    return factories.user("outsider", groups=[roles.COLLECTOR])


@pytest.fixture
def front_desk(estate):
    user = factories.user("gate", groups=[roles.FRONT_DESK])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


@pytest.fixture
def finance(estate):
    user = factories.user("cashier", groups=[roles.FINANCE])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


@pytest.fixture
def superuser(db):
    return factories.user("root", is_superuser=True, is_staff=True)
