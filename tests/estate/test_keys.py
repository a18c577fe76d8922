"""Lookalike keys (issue 13, path 9): what displays like an existing community, unit or reference is it.

Every write path stores the normal form (KeyField: forms and admin through `full_clean`, `save`,
`bulk_create`, `update`), and every lookup normalises what it looks for.
"""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from arrears.core import roles
from arrears.estate import selectors
from arrears.estate.models import Building, Community, Owner, StaffScope, Unit
from arrears.ledger import services
from arrears.ledger.models import Payment
from tests import factories

pytestmark = pytest.mark.django_db

ZWSP = "\u200b"
LOOKALIKE_ROOMS = ["１０１", f"101{ZWSP}", "\ufeff101", "101\u00a0", "\u202e101", "101\ufe0f", "101\u3164"]


@pytest.fixture
def estate():
    community = factories.community("阳光花园")
    unit = factories.unit(community, building="1栋", entrance="1", room="101")
    return {"community": community, "unit": unit, "building": unit.building}


def refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_it_stores_the_normal_form_through_save():
    # when
    community = factories.community(f"阳光{ZWSP}花园")
    unit = factories.unit(community, building="１栋", entrance="\u00a01 ", room="１０１")
    # then: the instance and the row both hold the normal form
    assert (community.name, unit.building.name, unit.entrance, unit.room) == ("阳光花园", "1栋", "1", "101")
    assert Unit.objects.values_list("room", "entrance").get() == ("101", "1")
    assert Community.objects.values_list("name", flat=True).get() == "阳光花园"


def test_it_refuses_a_second_community_with_a_zero_width_space(estate):
    # when / then
    assert refused(lambda: Community.objects.create(company=estate["community"].company, name=f"阳光{ZWSP}花园"))
    assert Community.objects.count() == 1


@pytest.mark.parametrize("room", LOOKALIKE_ROOMS)
def test_it_refuses_a_lookalike_unit_through_create_bulk_create_and_update(estate, room):
    # given
    building, community = estate["building"], estate["community"]
    other = factories.unit(community, building="1栋", entrance="1", room="102")

    def make():
        return Unit(community=community, building=building, entrance="1", room=room, floor_area=Decimal("90.00"))

    # when / then
    assert refused(lambda: make().save())
    assert refused(lambda: Unit.objects.bulk_create([make()]))
    assert refused(lambda: Unit.objects.filter(pk=other.pk).update(room=room))
    assert sorted(Unit.objects.values_list("room", flat=True)) == ["101", "102"]


def test_it_refuses_a_lookalike_building(estate):
    assert refused(lambda: Building.objects.create(community=estate["community"], name=f"1栋{ZWSP}"))
    assert refused(lambda: Building.objects.create(community=estate["community"], name="１栋"))


def test_it_refuses_a_lookalike_community_in_the_admin(admin_client, estate):
    # when
    response = admin_client.post(reverse("admin:estate_community_add"), {
        "company": estate["community"].company_id, "name": f"{ZWSP}阳光花园", "address": "", "contract_number": "",
        "contract_terms": "",
    })
    # then: the form says it exists, nothing is written
    assert response.status_code == 200
    assert "__all__" in response.context["adminform"].form.errors, response.context["adminform"].form.errors
    assert Community.objects.count() == 1


@pytest.mark.parametrize("room", ["１０１", f"101{ZWSP}"])
def test_it_refuses_a_lookalike_unit_in_the_admin(admin_client, estate, room):
    # when
    response = admin_client.post(reverse("admin:estate_unit_add"), {
        "community": estate["community"].pk, "building": estate["building"].pk, "entrance": "1", "room": room,
        "floor_area": "90.00", "status": "occupied", "status_since": "",
        "ownerships-TOTAL_FORMS": "0", "ownerships-INITIAL_FORMS": "0",
    })
    # then
    assert response.status_code == 200
    assert "__all__" in response.context["adminform"].form.errors, response.context["adminform"].form.errors
    assert Unit.objects.count() == 1


def test_it_stores_a_new_unit_typed_in_the_admin_in_the_normal_form(admin_client, estate):
    # when
    response = admin_client.post(reverse("admin:estate_unit_add"), {
        "community": estate["community"].pk, "building": estate["building"].pk, "entrance": "1", "room": f"１０２{ZWSP}",
        "floor_area": "90.00", "status": "occupied", "status_since": "",
        "ownerships-TOTAL_FORMS": "0", "ownerships-INITIAL_FORMS": "0",
    })
    # then
    assert response.status_code == 302
    assert sorted(Unit.objects.values_list("room", flat=True)) == ["101", "102"]


def test_it_finds_the_existing_rows_with_a_lookalike():
    # given
    community = factories.community("阳光花园")
    unit = factories.unit(community, room="101")
    # when / then
    assert Community.objects.get(name=f"阳光{ZWSP}花园") == community
    assert Unit.objects.get(room="１０１") == unit
    assert Unit.objects.filter(room__in=[f"101{ZWSP}"]).get() == unit


@pytest.mark.parametrize("query", ["１０１", f"101{ZWSP}", "１栋１０１", "张\u200b三"])
def test_it_finds_the_unit_at_the_front_desk_with_a_lookalike(estate, query):
    # given
    factories.owner(estate["unit"], "张三")
    user = factories.user("desk", groups=[roles.FRONT_DESK])
    StaffScope.objects.create(user=user, community=estate["community"])
    # when
    found = list(selectors.search_units(user, query, today=date(2026, 5, 10)))
    # then
    assert found == [estate["unit"]]


def test_it_finds_the_unit_from_the_staff_search_page_with_a_lookalike(client, estate):
    # given
    user = factories.user("insider", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=user, community=estate["community"])
    client.force_login(user)
    # when
    html = client.get(reverse("staff:search"), {"q": "１栋１０１"}).content.decode()
    # then
    assert reverse("staff:unit", args=[estate["unit"].pk]) in html


def test_it_finds_the_community_named_on_the_command_line_with_a_lookalike(estate, tmp_path):
    # when
    out = StringIO()
    call_command("export", "ledger", str(tmp_path / "l.xlsx"), "--community", f"阳光{ZWSP}花园", stdout=out)
    # then
    assert "l.xlsx" in out.getvalue()


def test_it_stores_payment_references_in_the_normal_form_and_finds_them_by_a_lookalike(estate):
    # given
    owner = factories.owner(estate["unit"], f"张{ZWSP}三")
    # when
    payment = services.record_payment(unit_id=estate["unit"].pk, owner_id=owner.pk, amount="10.00",
                                      paid_on=date(2026, 1, 5), method="bank", reference=f"ＳＪ２０２６\u00a0001{ZWSP}",
                                      receipt_number="Ｒ-１")
    # then
    assert Owner.objects.values_list("name", flat=True).get() == "张三"
    assert Payment.objects.values_list("reference", "receipt_number").get() == ("SJ2026 001", "R-1")
    assert Payment.objects.get(reference="SJ2026\u3000001") == payment


def test_it_stores_the_normal_form_through_the_bulk_writer_on_every_database(estate):
    # given: the daily run's bulk writer (an UPDATE … FROM unnest(arrays) on PostgreSQL, no ORM)
    from arrears.core.db import bulk_set

    unit, building = estate["unit"], estate["building"]
    unit.room, building.name = "１０２\u200b", "1栋\ufe0f"
    # when
    bulk_set([unit], ["room"])
    bulk_set([building], ["name"])
    # then
    assert Unit.objects.values_list("room", flat=True).get() == "102"
    assert Building.objects.values_list("name", flat=True).get() == "1栋"
