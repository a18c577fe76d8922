"""A small company for the REST API's tests: two communities, billed, with a daily run behind them.

阳光花园 (A): 3栋1201 owes since February (王小明, a case), 5栋0801 paid up; 翠湖苑 (B): 1栋0101 owes
(钱远方, a case). Users: a collector, a manager, finance and a front desk on A; a collector on B;
a collector on A's 5栋 only; a superuser. Each has a token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from arrears.api import tokens
from arrears.collection.run import run_collection
from arrears.core import roles
from arrears.estate.models import Contact, StaffScope
from arrears.ledger import services as ledger
from tests import factories

TODAY = date(2026, 5, 12)  # a Tuesday
NOW = datetime(2026, 5, 12, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@dataclass
class World:
    a: object = None
    b: object = None
    unit_a: object = None
    paid_unit: object = None
    unit_b: object = None
    owner_a: object = None
    owner_b: object = None
    owner_paid: object = None
    users: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)

    def auth(self, who: str) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.tokens[who]}"}


def build() -> World:
    w = World()
    company = factories.company()
    w.a = factories.community("阳光花园", company_obj=company)
    w.b = factories.community("翠湖苑", company_obj=company)
    w.unit_a = factories.unit(w.a, building="3栋", entrance="1", room="1201", area="100.00")
    w.paid_unit = factories.unit(w.a, building="5栋", entrance="1", room="0801", area="80.00")
    w.unit_b = factories.unit(w.b, building="1栋", entrance="1", room="0101", area="90.00")
    w.owner_a = factories.owner(w.unit_a, "王小明", start=date(2024, 1, 1), id_number="310101199002023456")
    w.owner_paid = factories.owner(w.paid_unit, "赵邻居", start=date(2024, 1, 1))
    w.owner_b = factories.owner(w.unit_b, "钱远方", start=date(2024, 1, 1))
    Contact.objects.create(community=w.a, owner=w.owner_a, kind="mobile", value="13912348888", relation="self")
    Contact.objects.create(community=w.a, owner=w.owner_a, kind="mobile", value="13700001111", relation="spouse",
                           name="孙丽")
    Contact.objects.create(community=w.b, owner=w.owner_b, kind="mobile", value="13600002222", relation="self")
    for community in (w.a, w.b):
        factories.tariff(community)  # 2.00/m²/month from 2026-01, due the 5th
    ledger.bill(through=date(2026, 5, 1))
    ledger.record_payment(unit_id=w.paid_unit.pk, owner_id=w.owner_paid.pk, amount="800.00",
                          paid_on=date(2026, 5, 1), method="cash", receipt_number="R-0001")
    run_collection(as_of=TODAY)
    people = {
        "collector": ([roles.COLLECTOR], w.a, None), "manager": ([roles.MANAGER], w.a, None),
        "finance": ([roles.FINANCE], w.a, None), "desk": ([roles.FRONT_DESK], w.a, None),
        "collector_b": ([roles.COLLECTOR], w.b, None), "building5": ([roles.COLLECTOR], w.a, w.paid_unit.building),
        "admin": ([roles.ADMIN], w.a, None),
    }
    for name, (groups, community, building) in people.items():
        user = factories.user(name, groups=groups, first_name="员工", last_name=name[:1].upper())
        StaffScope.objects.create(user=user, community=community, building=building)
        w.users[name] = user
    w.users["root"] = factories.user("root", is_superuser=True, is_staff=True)
    for name, user in w.users.items():
        w.tokens[name] = tokens.issue(user=user, name=f"{name} 对接").raw
    return w


def get(client, world: World, who: str, path: str, **extra):
    return client.get(f"/api/v1{path}", **world.auth(who), **extra)


def post(client, world: World, who: str, path: str, body, **extra):
    """JSON unless `body` is already text (the break tests send malformed bodies as they are)."""
    data = body if isinstance(body, str) else json.dumps(body)
    extra.setdefault("content_type", "application/json")
    return client.post(f"/api/v1{path}", data=data, **world.auth(who), **extra)
