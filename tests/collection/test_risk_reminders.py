"""The early-warning score brings the pre-due reminder forward, and does nothing else."""

from datetime import date
from decimal import Decimal as D

import pytest
import time_machine

from arrears.collection.models import Case, CollectionPolicy, OutgoingMessage, RiskScore, Task
from arrears.collection.risk import ScoreRow, record_risk_scores
from arrears.collection.run import ensure_policies, run_collection
from arrears.estate.models import Contact
from arrears.ledger import services
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2025, 12, 1), tick=False):
        yield


@pytest.fixture
def owners():
    """Two owner-units billed ¥200.00 due 2026-01-05; one scored high, one low."""
    community = factories.community()
    found = []
    for room, score in (("101", "0.8100"), ("102", "0.1000")):
        unit = factories.unit(community, room=room)
        owner = factories.owner(unit, name=f"业主{room}")
        Contact.objects.create(community=community, owner=owner, kind="mobile", value=f"13800000{room}")
        found.append(ScoreRow(community.pk, unit.pk, owner.pk, D(score), [{"code": "late_share", "value": 1.0,
                                                                         "contribution": 2.0}]))
    factories.tariff(community)
    services.bill(through=date(2026, 1, 1))
    ensure_policies()
    record_risk_scores(rows=found, model_id=7, scored_on=date(2025, 12, 1), community_ids=[community.pk])
    return community, found


def sent(day):
    return sorted(OutgoingMessage.objects.filter(scheduled_on=day).values_list("unit__room", "template_code"))


def test_it_reminds_a_high_risk_owner_14_days_before_and_a_low_risk_one_7_days_before(owners):
    # when the run goes every day from 15 days before the due date to the due date
    for day in range(21, 32):
        run_collection(as_of=date(2025, 12, day))
    for day in range(1, 6):
        run_collection(as_of=date(2026, 1, day))
    # then the high-risk owner hears 14 days ahead, the other 7 days ahead, each once
    assert sent(date(2025, 12, 22)) == [("101", "pre_due")]
    assert sent(date(2025, 12, 29)) == [("102", "pre_due")]
    assert OutgoingMessage.objects.count() == 2
    # and nothing but a reminder: no case, no task
    assert (Case.objects.count(), Task.objects.count()) == (0, 0)


def test_no_threshold_means_no_early_reminder(owners):
    community, _rows = owners
    CollectionPolicy.objects.filter(community=community).update(early_reminder_score=None)
    run_collection(as_of=date(2025, 12, 22))
    assert OutgoingMessage.objects.count() == 0
    run_collection(as_of=date(2025, 12, 29))
    assert sent(date(2025, 12, 29)) == [("101", "pre_due"), ("102", "pre_due")]


def test_a_score_equal_to_the_threshold_is_early(owners):
    community, _rows = owners
    CollectionPolicy.objects.filter(community=community).update(early_reminder_score=D("0.8100"))
    run_collection(as_of=date(2025, 12, 22))
    assert sent(date(2025, 12, 22)) == [("101", "pre_due")]


def test_scores_are_written_only_when_they_change_and_closed_owner_units_leave(owners):
    community, rows = owners
    before = list(RiskScore.objects.order_by("pk").values_list("pk", "score", "scored_on"))
    # the same scores a day later: nothing written
    result = record_risk_scores(rows=rows, model_id=7, scored_on=date(2025, 12, 2), community_ids=[community.pk])
    assert result == {"created": 0, "updated": 0, "deleted": 0, "unchanged": 2}
    assert list(RiskScore.objects.order_by("pk").values_list("pk", "score", "scored_on")) == before
    # one score moves, the other owner-unit is no longer open
    moved = ScoreRow(rows[0].community_id, rows[0].unit_id, rows[0].owner_id, D("0.4000"), rows[0].factors)
    result = record_risk_scores(rows=[moved], model_id=7, scored_on=date(2025, 12, 3), community_ids=[community.pk])
    assert result == {"created": 0, "updated": 1, "deleted": 1, "unchanged": 0}
    assert list(RiskScore.objects.values_list("unit__room", "score", "scored_on")) == [("101", D("0.4000"), date(2025, 12, 3))]
