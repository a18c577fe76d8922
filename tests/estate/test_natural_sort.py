"""Buildings and units sort as people count (1栋, 2栋, … 10栋, 19栋), by a key the database sorts and indexes."""

import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from arrears.collection.selectors import CaseFilters, case_filter_choices, open_cases
from arrears.core import roles
from arrears.core.text import natural_key
from arrears.estate import selectors
from arrears.estate.models import Building, StaffScope, Unit
from arrears.ledger.models import Charge
from tests import factories
from tests.collection.conftest import make_case

SHUFFLED = ["19栋", "A座", "2栋", "10栋", "b座", "1栋", "2号楼"]
# 号 (U+53F7) sorts before 栋 (U+680B): "2号楼" and "2栋" share the number, the word decides
COUNTED = ["1栋", "2号楼", "2栋", "10栋", "19栋", "A座", "b座"]


def test_natural_key_pads_numbers_so_text_order_is_number_order():
    assert natural_key("10栋") == "0000000010栋"
    assert natural_key("２栋") == "0000000002栋"  # fullwidth digits count as digits
    assert natural_key("A座") == "a座"
    assert sorted(SHUFFLED, key=natural_key) == COUNTED
    assert sorted(["1001", "902", "101", "1101"], key=natural_key) == ["101", "902", "1001", "1101"]


@pytest.fixture
def community(db):
    return factories.community()


def test_buildings_sort_as_people_count_however_they_were_written(community):
    # given: buildings made by create() and by bulk_create(), the import's and the demo's way
    for name in SHUFFLED[:4]:
        Building.objects.create(community=community, name=name)
    Building.objects.bulk_create([Building(community=community, name=name) for name in SHUFFLED[4:]])
    # then: the database's order (Meta.ordering) is the counted order
    assert list(Building.objects.filter(community=community).values_list("name", flat=True)) == COUNTED


def test_units_sort_by_building_then_entrance_then_room(community):
    for building, entrance, room in [("10栋", "1", "101"), ("2栋", "2", "101"), ("2栋", "1", "1001"), ("2栋", "1", "902"),
                                     ("1栋", "", "0101")]:
        factories.unit(community, building=building, entrance=entrance, room=room)
    labels = [unit.label for unit in Unit.objects.filter(community=community).select_related("building")]
    assert labels == ["1栋0101", "2栋1单元902", "2栋1单元1001", "2栋2单元101", "10栋1单元101"]


def test_search_lists_units_in_counted_order(community):
    user = factories.user("manager", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=community)
    for name in SHUFFLED:
        unit = factories.unit(community, building=name, room="101")
        factories.owner(unit, "王五")
    found = selectors.search_units(user, "王五", today=date(2026, 5, 10))
    assert [unit.building.name for unit in found] == COUNTED


def test_the_arrears_list_sorts_by_address_and_offers_buildings_in_counted_order(client, community):
    # given: one case in each building
    user = factories.user("manager", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=community)
    for name in SHUFFLED:
        unit = factories.unit(community, building=name, room="101")
        owner = factories.owner(unit, f"业主{name}")
        # the arrears list shows an open case only while its owner is in arrears (issue 14's one definition)
        Charge.objects.create(community=community, unit=unit, owner=owner, charge_type=factories.charge_type(),
                              period_start=date(2020, 1, 1), period_end=date(2020, 1, 31), amount=Decimal("100.00"),
                              due_date=date(2020, 1, 5))
        make_case(unit, owner)
    # when / then: the selector and the page
    assert [c.unit.building.name for c in open_cases(user, CaseFilters(sort="unit"))] == COUNTED
    assert [c.unit.building.name for c in open_cases(user, CaseFilters(sort="-unit"))] == COUNTED[::-1]
    assert [label for _pk, label in case_filter_choices(user)["buildings"]] == [f"阳光花园 {name}" for name in COUNTED]
    client.force_login(user)
    html = client.get(reverse("staff:cases"), {"sort": "unit"}).content.decode()
    positions = [html.index(f"业主{name}") for name in COUNTED]
    assert positions == sorted(positions)


def test_the_migration_keys_the_rows_already_there(community):
    # given: rows whose key was never computed (as before the migration)
    factories.unit(community, building="10栋", entrance="2", room="902")
    Building.objects.update(sort_key="")
    Unit.objects.update(sort_key="")
    # when
    migration = importlib.import_module("arrears.estate.migrations.0007_natural_sort")
    migration.backfill(apps, None)
    # then
    assert Building.objects.get().sort_key == "0000000010栋"
    assert Unit.objects.get().sort_key == "0000000002 0000000902"
