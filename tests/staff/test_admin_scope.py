"""The admin shows a scoped user only their communities' rows, like the staff site."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.urls import reverse

from arrears.collection import services
from arrears.collection.models import Case
from arrears.core import roles
from arrears.estate.admin_scope import ScopedQuerysetMixin
from arrears.estate.models import Owner, StaffScope
from tests import factories
from tests.collection.conftest import make_case

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def calls(estate):
    """A call on a unit of 阳光花园 and one on a unit of another community."""
    far_unit = estate["far_unit"]
    far_owner = Owner.objects.filter(ownerships__unit=far_unit).first() or factories.owner(far_unit, "远方业主")
    collector = factories.user("c9")
    with time_machine.travel(datetime(2026, 5, 10, 11, 0, tzinfo=SHANGHAI), tick=False):
        here = services.log_attempt(unit=estate["unit"], owner=estate["owner"], channel="call", outcome="answered",
                                    staff=collector, case=make_case(estate["unit"], estate["owner"]))
        there = services.log_attempt(unit=far_unit, owner=far_owner, channel="call", outcome="answered", staff=collector,
                                     case=make_case(far_unit, far_owner))
    return here, there


def _staff(username, role, estate, building=None):
    user = factories.user(username, groups=[role], is_staff=True)
    StaffScope.objects.create(user=user, community=estate["community"], building=building)
    return user


def test_it_shows_a_manager_in_the_admin_only_the_attempts_and_owners_of_their_community(client, estate, calls):
    here, there = calls
    client.force_login(_staff("boss", roles.MANAGER, estate))
    # when
    listing = client.get(reverse("admin:collection_contactattempt_changelist")).content.decode()
    owners = client.get(reverse("admin:estate_owner_changelist")).content.decode()
    # then
    assert reverse("admin:collection_contactattempt_change", args=[here.pk]) in listing
    assert reverse("admin:collection_contactattempt_change", args=[there.pk]) not in listing
    assert "王小明" in owners and there.owner.name not in owners
    response = client.get(reverse("admin:collection_contactattempt_change", args=[there.pk]))
    assert response.status_code == 302  # the admin's "does not exist" answer
    assert Case.objects.count() == 2


def test_it_shows_a_building_scoped_collector_no_community_rows_in_the_admin(client, estate, calls):
    # given: a collector scoped to one building, who may log in to the admin
    client.force_login(_staff("c1", roles.COLLECTOR, estate, building=estate["other_unit"].building))
    # when
    response = client.get(reverse("admin:collection_contactattempt_changelist"))
    # then: no attempt of any community is listed
    html = response.content.decode()
    assert response.status_code == 200
    assert all(reverse("admin:collection_contactattempt_change", args=[a.pk]) not in html for a in calls)


def test_every_registered_admin_is_scoped(db):
    assert all(isinstance(model_admin, ScopedQuerysetMixin) for model_admin in admin.site._registry.values())
