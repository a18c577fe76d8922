"""Trying to break the 楼栋催收员 page (helper J): garbage and foreign ids in the form, closed cases,
tasks that belong to someone else, the last collector removed, two rebalances at once."""


import pytest
from django.db import connection
from django.urls import reverse

from arrears.collection import assignments
from arrears.collection.models import Case, CaseStatus, CollectorAssignment, Task
from arrears.core import roles
from arrears.core.models import AuditEvent
from arrears.estate.models import StaffScope
from tests import factories
from tests.collection import test_assignments as base
from tests.races import race

_holders = base._holders
manager, team, tower = base.manager, base.team, base.tower  # the same fixtures as the page's own tests


def _change(client, building, **data):
    return client.post(reverse("staff:collectors_change", args=[building.pk]), data)


@pytest.mark.parametrize("garbage", ["abc", "1e3", "-1", " 7", "２"])
def test_removing_a_garbage_user_id_is_not_found_not_a_server_error(client, manager, team, tower, garbage):
    building = tower[0].unit.building
    assignments.assign_collectors(building=building, collectors=team, staff=manager)
    client.force_login(manager)
    response = _change(client, building, action="remove", user=garbage)
    assert response.status_code == 404
    assert CollectorAssignment.objects.filter(building=building).count() == 3


def test_assigning_another_companys_collector_or_a_non_collector_writes_nothing(client, manager, estate, tower):
    building = tower[0].unit.building
    far = factories.user("far", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=far, community=estate["far_unit"].community)
    desk = factories.user("desk", groups=[roles.FRONT_DESK])
    StaffScope.objects.create(user=desk, community=estate["community"])
    client.force_login(manager)
    for user in (far, desk):
        response = _change(client, building, action="assign", user=user.pk, grant_scope="1")
        assert response.status_code == 302
    page = client.get(reverse("staff:collectors")).content.decode()
    assert "不是本小区的催收员" in page
    assert not CollectorAssignment.objects.exists()
    assert not StaffScope.objects.filter(user__in=[far, desk], building=building).exists()


def test_a_collector_removing_themselves_is_refused(client, team, tower):
    building = tower[0].unit.building
    ann = team[0]
    client.force_login(ann)
    assert _change(client, building, action="remove", user=ann.pk).status_code == 403


def test_removing_the_last_collector_leaves_cases_and_tasks_with_nobody_but_legal_stays(manager, team, tower):
    ann = team[0]
    building = tower[0].unit.building
    legal_user = factories.user("lawyer", groups=[roles.LEGAL])
    legal = Task.objects.create(community=tower[0].community, case=tower[0], key="step:review", kind="ladder",
                                channel="legal_review", title="法务审查", due_on=tower[0].as_of,
                                created_on=tower[0].as_of, assignee=legal_user)
    assignments.assign_collectors(building=building, collectors=[ann], staff=manager)
    # when
    moved = assignments.remove_collector(building=building, collector=ann, staff=manager)
    # then: ann's four cases have nobody, so do their call tasks; the legal review keeps its lawyer
    assert moved == 4
    assert Case.objects.filter(pk__in=[c.pk for c in tower], collector__isnull=False).count() == 1  # bob's, not on the building
    assert not Task.objects.filter(assignee=ann).exists()
    legal.refresh_from_db()
    assert legal.assignee == legal_user
    assert AuditEvent.objects.filter(action="collection.collector_removed", actor=manager).count() == 1


def test_closed_cases_keep_their_collector(manager, team, tower):
    ann, bob, cat = team
    building = tower[0].unit.building
    Case.objects.filter(pk__in=[tower[0].pk, tower[1].pk]).update(status=CaseStatus.CLOSED, closed_on=tower[0].as_of,
                                                                 close_reason="paid")
    assignments.assign_collectors(building=building, collectors=[bob, cat], staff=manager)
    # when: ann is not on the building; her open cases move, her closed ones stay hers
    moved = assignments.rebalance_building(building=building, staff=manager)
    # then: five open cases, 3/2
    assert moved == 4
    assert _holders(tower)[:2] == ["ann", "ann"]
    loads = sorted(Case.objects.filter(status=CaseStatus.OPEN, unit__building=building)
                   .values_list("collector__username", flat=True))
    assert loads == ["bob", "bob", "bob", "cat", "cat"]


def test_a_task_given_to_someone_else_is_not_taken_from_them(manager, team, tower):
    """A task the run gave the old collector (or nobody) follows the case; one a manager gave a colleague stays."""
    ann, bob, cat = team
    building = tower[0].unit.building
    case = tower[3]  # ann's fourth: it moves to bob
    helper = factories.user("helper", groups=[roles.MANAGER])
    handed = Task.objects.create(community=case.community, case=case, key="manual:visit", kind="manual", channel="visit",
                                 title="上门", due_on=case.as_of, created_on=case.as_of, assignee=helper)
    assignments.assign_collectors(building=building, collectors=team, staff=manager)
    assignments.rebalance_building(building=building, staff=manager)
    assert Case.objects.get(pk=case.pk).collector == bob
    assert Task.objects.get(case=case, key="step:call").assignee == bob
    handed.refresh_from_db()
    assert handed.assignee == helper


# ----------------------------------------------------------------------------- PostgreSQL races


def _race(*jobs):
    return race(*jobs, timeout=60)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's: SQLite runs one writer")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_rebalances_at_once_lose_and_double_nothing(manager, team, tower):
    building = tower[0].unit.building
    assignments.assign_collectors(building=building, collectors=team, staff=manager)
    # when: two managers' clicks at once, each on its own connection
    results = _race(lambda: assignments.rebalance_building(building=building, staff=manager),
                    lambda: assignments.rebalance_building(building=building, staff=manager))
    # then: one moved the three, the other found nothing to move; 3/2/2; every task with its case's collector
    assert sorted(results) == [0, 3]
    assert _holders(tower) == ["ann", "ann", "ann", "bob", "bob", "cat", "cat"]
    assert Case.objects.filter(unit__building=building).count() == 7
    for task in Task.objects.filter(case__in=tower).select_related("case"):
        assert task.assignee_id == task.case.collector_id
    assert AuditEvent.objects.filter(action="collection.rebalanced").count() == 2
    connection.close()
