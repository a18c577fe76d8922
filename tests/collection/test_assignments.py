"""Managers assign collectors by building and rebalance its open cases evenly (collection.assignments)."""

import re

import pytest
from django.urls import reverse

from arrears.collection import assignments
from arrears.collection.assignments import even_spread
from arrears.collection.models import Case, CollectorAssignment, Task
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.estate.models import StaffScope
from tests import factories
from tests.collection.conftest import make_case

A, B, C = 1, 2, 3


@pytest.mark.parametrize(("current", "collectors", "moves"), [
    # 7 cases, 3 collectors: quotas 3/2/2, the 3 going to A who holds most; A's 4th and the 2 unassigned move.
    ({11: A, 12: A, 13: A, 14: A, 15: B, 16: None, 17: None}, [A, B, C], {14: B, 16: C, 17: C}),
    # already even: nothing moves
    ({11: A, 12: A, 13: B, 14: B, 15: C}, [A, B, C], {}),
    # a collector who left the building: A (holding one) gets the larger quota of 2, B the other
    ({11: 9, 12: 9, 13: A}, [A, B], {11: A, 12: B}),
    # nobody to give them to
    ({11: None}, [], {}),
    # 4 unassigned, 2 collectors: two each, in id order
    ({11: None, 12: None, 13: None, 14: None}, [B, A], {11: A, 12: A, 13: B, 14: B}),
])
def test_even_spread_moves_the_fewest_cases(current, collectors, moves):
    assert even_spread(current, collectors) == moves


@pytest.mark.parametrize(("current", "collectors"), [
    ({11: A, 12: A, 13: A, 14: A, 15: B, 16: None, 17: None}, [A, B, C]),
    ({i: None for i in range(1, 11)}, [A, B, C]),
])
def test_even_spread_is_a_fixed_point(current, collectors):
    after = {**current, **even_spread(current, collectors)}
    assert even_spread(after, collectors) == {}
    loads = sorted(list(after.values()).count(user) for user in collectors)
    assert loads[-1] - loads[0] <= 1


@pytest.fixture
def manager(estate):
    user = factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


@pytest.fixture
def team(estate):
    """Three collectors of 阳光花园 (whole community)."""
    users = [factories.user(name, groups=[roles.COLLECTOR]) for name in ("ann", "bob", "cat")]
    for user in users:
        StaffScope.objects.create(user=user, community=estate["community"])
    return users


@pytest.fixture
def tower(estate, team):
    """9栋 with seven open cases: ann holds four, bob one, two have nobody; each case has one open call task."""
    ann, bob, _ = team
    cases = []
    for index, holder in enumerate([ann, ann, ann, ann, bob, None, None]):
        unit = factories.unit(estate["community"], building="9栋", room=f"{index + 1}01")
        case = make_case(unit, factories.owner(unit, f"业主{index}"), collector=holder)
        Task.objects.create(community=case.community, case=case, key="step:call", kind="ladder", channel="call",
                            title="电话", due_on=case.as_of, created_on=case.as_of, assignee=holder)
        cases.append(case)
    return cases


def _holders(cases):
    return [Case.objects.get(pk=case.pk).collector.username for case in cases]


def test_it_spreads_a_buildings_cases_evenly_and_moves_their_tasks(manager, team, tower):
    building = tower[0].unit.building
    assignments.assign_collectors(building=building, collectors=team, staff=manager)
    # when
    moved = assignments.rebalance_building(building=building, staff=manager)
    # then: 3/2/2, ann keeps her first three, bob gets ann's fourth, cat the two that had nobody
    assert moved == 3
    assert _holders(tower) == ["ann", "ann", "ann", "bob", "bob", "cat", "cat"]
    assert [t.assignee.username for t in Task.objects.filter(case__in=tower).order_by("case_id")] == _holders(tower)
    event = AuditEvent.objects.get(action="collection.rebalanced")
    assert event.actor == manager and event.detail["moved"] == 3 and event.detail["cases"] == 7


def test_a_second_rebalance_changes_nothing(manager, team, tower):
    building = tower[0].unit.building
    assignments.assign_collectors(building=building, collectors=team, staff=manager)
    assignments.rebalance_building(building=building, staff=manager)
    before = _holders(tower)
    assert assignments.rebalance_building(building=building, staff=manager) == 0
    assert _holders(tower) == before


def test_legal_tasks_stay_with_legal(manager, team, tower):
    case = tower[6]
    legal = Task.objects.create(community=case.community, case=case, key="step:lawyer", kind="ladder", channel="lawyer_letter",
                                title="律师函", due_on=case.as_of, created_on=case.as_of)
    assignments.assign_collectors(building=case.unit.building, collectors=team, staff=manager)
    assignments.rebalance_building(building=case.unit.building, staff=manager)
    legal.refresh_from_db()
    assert legal.assignee is None


def test_removing_a_collector_gives_their_cases_to_the_others(manager, team, tower):
    ann, bob, cat = team
    building = tower[0].unit.building
    assignments.assign_collectors(building=building, collectors=[ann, bob], staff=manager)
    assert assignments.remove_collector(building=building, collector=ann, staff=manager) == 6
    assert set(_holders(tower)) == {"bob"}
    assert list(CollectorAssignment.objects.filter(building=building).values_list("user__username", flat=True)) == ["bob"]


def test_a_collector_cannot_assign(insider, team, tower):
    building = tower[0].unit.building
    with pytest.raises(DomainError) as refused:
        assignments.assign_collectors(building=building, collectors=team, staff=insider)
    assert refused.value.code == "permission" and "只有经理" in refused.value.zh
    with pytest.raises(DomainError):
        assignments.rebalance_building(building=building, staff=insider)
    assert not CollectorAssignment.objects.exists()


def test_a_collector_without_scope_in_the_building_needs_it_granted(manager, estate, tower):
    building = tower[0].unit.building
    narrow = factories.user("dan", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=narrow, community=estate["community"], building=estate["other_unit"].building)
    with pytest.raises(DomainError) as refused:
        assignments.assign_collectors(building=building, collectors=[narrow], staff=manager)
    assert refused.value.code == "scope" and "授予" in refused.value.zh
    assert not CollectorAssignment.objects.exists()
    assert assignments.assign_collectors(building=building, collectors=[narrow], staff=manager, grant_scope=True) == 1
    assert StaffScope.objects.filter(user=narrow, building=building).exists()


def test_only_collectors_of_the_community_can_be_assigned(manager, estate, tower):
    building = tower[0].unit.building
    finance = factories.user("fin", groups=[roles.FINANCE])
    StaffScope.objects.create(user=finance, community=estate["community"])
    far = factories.user("far", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=far, community=estate["far_unit"].community)
    for user in (finance, far):
        with pytest.raises(DomainError) as refused:
            assignments.assign_collectors(building=building, collectors=[user], staff=manager, grant_scope=True)
        assert refused.value.code == "role"
    assert not CollectorAssignment.objects.exists()


# ----------------------------------------------------------------------------- the page


def test_the_page_lists_buildings_with_cases_and_collectors(client, manager, team, tower, django_assert_max_num_queries):
    assignments.assign_collectors(building=tower[0].unit.building, collectors=team[:1], staff=manager)
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("staff:collectors"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "阳光花园 9栋" in html and "2 个未分配" in html
    # 7 × 600.00; the separator comes with helper A's amount format
    assert re.search(r"¥4,?200\.00", html)
    assert "翠湖苑" not in html


def test_a_manager_assigns_and_rebalances_from_the_page(client, manager, team, tower):
    building = tower[0].unit.building
    client.force_login(manager)
    url = reverse("staff:collectors_change", args=[building.pk])
    response = client.post(url, {"action": "assign", "user": [u.pk for u in team]})
    assert response.status_code == 302
    assert CollectorAssignment.objects.filter(building=building).count() == 3
    client.post(url, {"action": "rebalance"})
    assert _holders(tower) == ["ann", "ann", "ann", "bob", "bob", "cat", "cat"]
    page = client.get(reverse("staff:collectors"))
    assert "改派 3 个案件" in page.content.decode()


def test_another_communitys_building_is_not_found(client, manager, team, estate):
    client.force_login(manager)
    far = estate["far_unit"].building
    response = client.post(reverse("staff:collectors_change", args=[far.pk]), {"action": "rebalance"})
    assert response.status_code == 404


def test_a_collector_gets_no_page(client, insider, tower):
    client.force_login(insider)
    assert client.get(reverse("staff:collectors")).status_code == 403
    assert client.post(reverse("staff:collectors_change", args=[tower[0].unit.building_id]),
                       {"action": "rebalance"}).status_code == 403
