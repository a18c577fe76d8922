"""One owner of 阳光花园 3栋1单元1201 with two unpaid charges of ¥300.00 and a matter taken to court
on them; a legal-desk user scoped to the community, and one scoped to another company's community."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.ledger.models import Charge
from arrears.legal.models import Matter
from tests import factories
from tests.collection.conftest import make_case

TODAY = date(2025, 7, 2)
CLAIM_DATE = date(2025, 6, 30)


@pytest.fixture
def today():
    with time_machine.travel(TODAY, tick=False):
        yield TODAY


def charge(unit, owner, *, start: date, end: date, due: date, amount="300.00") -> Charge:
    return Charge.objects.create(
        community=unit.community, unit=unit, owner=owner, charge_type=factories.charge_type(), period_start=start,
        period_end=end, due_date=due, amount=Decimal(amount), late_fee_daily_rate=Decimal("0.0005"), grace_days=15,
        late_fee_cap=Decimal("0.3"),
    )


def make_matter(unit, owner, *, user, **extra) -> Matter:
    values = {"community": unit.community, "case": make_case(unit, owner), "unit": unit, "owner": owner, "route": "suit",
              "opened_on": date(2025, 7, 1), "opened_by": user, "responsible": user, "court": "上海市浦东新区人民法院",
              "claim_as_of": CLAIM_DATE}
    values.update(extra)
    return Matter.objects.create(**values)


@pytest.fixture
def desk(db, today):
    company = factories.company("阳光物业服务有限公司", address="上海市浦东新区世纪大道100号", phone="021-58881234")
    community = factories.community("阳光花园", company_obj=company, address="上海市浦东新区锦绣路88号",
                                    contract_number="YG-2020-001")
    unit = factories.unit(community, building="3栋", entrance="1", room="1201")
    owner = factories.owner(unit, "王小明", start=date(2024, 1, 1), id_number="310101199002023456")
    charges = [charge(unit, owner, start=date(2025, 1, 1), end=date(2025, 1, 31), due=date(2025, 1, 5)),
               charge(unit, owner, start=date(2025, 2, 1), end=date(2025, 2, 28), due=date(2025, 2, 5))]
    lawyer = factories.user("lawyer", groups=[roles.LEGAL])
    StaffScope.objects.create(user=lawyer, community=community)
    matter = make_matter(unit, owner, user=lawyer)
    other_company = factories.company("翠湖物业")
    elsewhere = factories.community("翠湖苑", company_obj=other_company)
    far_unit = factories.unit(elsewhere, building="1栋", room="0101")
    far_owner = factories.owner(far_unit, "钱远方")
    charge(far_unit, far_owner, start=date(2025, 1, 1), end=date(2025, 1, 31), due=date(2025, 1, 5))
    stranger = factories.user("stranger", groups=[roles.LEGAL])
    StaffScope.objects.create(user=stranger, community=elsewhere)
    far_matter = make_matter(far_unit, far_owner, user=stranger)
    return {"company": company, "community": community, "unit": unit, "owner": owner, "charges": charges,
            "lawyer": lawyer, "matter": matter, "far_matter": far_matter, "stranger": stranger,
            "other_company": other_company}
