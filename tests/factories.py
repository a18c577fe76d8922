"""Plain builders for tests: explicit arguments, no magic, sensible Chinese defaults."""

from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model

from arrears.estate.models import Building, Community, Company, Owner, Ownership, Unit
from arrears.ledger.models import ChargeType, Tariff


def user(username="alice", *, groups=(), **extra):
    from django.contrib.auth.models import Group

    account = get_user_model().objects.create_user(username=username, password="pw-" + username, **extra)
    for name in groups:
        account.groups.add(Group.objects.get(name=name))
    return account


def company(name="示范物业", **extra) -> Company:
    return Company.objects.create(name=name, **extra)


def community(name="阳光花园", *, company_obj=None, **extra) -> Community:
    return Community.objects.create(company=company_obj or company(), name=name, **extra)


def unit(community_obj, *, building="1栋", entrance="1", room="101", area="100.00", **extra) -> Unit:
    building_obj, _ = Building.objects.get_or_create(community=community_obj, name=building)
    return Unit.objects.create(
        community=community_obj, building=building_obj, entrance=entrance, room=room, floor_area=Decimal(area), **extra
    )


def owner(unit_obj, name="张三", *, start=date(2020, 1, 1), end=None, **extra) -> Owner:
    person = Owner.objects.create(community=unit_obj.community, name=name, **extra)
    Ownership.objects.create(community=unit_obj.community, unit=unit_obj, owner=person, start=start, end=end)
    return person


def charge_type(code="property_fee") -> ChargeType:
    return ChargeType.objects.get(code=code)


def tariff(community_obj, *, code="property_fee", basis="per_area", price="2.00", cycle_months=1, due_day=5,
           rate="0.0005", grace_days=0, cap="1", effective_from=date(2026, 1, 1), effective_to=None, **extra) -> Tariff:
    return Tariff.objects.create(
        community=community_obj, charge_type=charge_type(code), basis=basis, price=Decimal(price),
        cycle_months=cycle_months, due_day=due_day, late_fee_daily_rate=Decimal(rate), grace_days=grace_days,
        late_fee_cap=Decimal(cap), effective_from=effective_from, effective_to=effective_to, **extra,
    )
