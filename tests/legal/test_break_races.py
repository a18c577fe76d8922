"""The legal desk raced on PostgreSQL: two clicks or two people at once make exactly one effect."""

from datetime import date

import pytest
from django.db import connection

from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.ledger.models import Charge, Waiver
from arrears.legal import community_documents, services
from arrears.legal.models import (
    Award,
    AwardStatus,
    CommunityDocument,
    Matter,
    MatterStage,
    MatterStatus,
)
from tests import factories
from tests.legal import test_matters as base
from tests.races import race

FILED, JUDGED, pdf = base.FILED, base.JUDGED, base.pdf
world, _clock = base.world, base._clock  # the matter's world and its frozen clock

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _filed(world):
    matter = services.open_matter(case=world["case"], route="suit", responsible=world["legal"], staff=world["legal"],
                                  opened_on=date(2025, 7, 25))
    services.record_stage(matter=matter, route="suit", stage="filed", occurred_on=FILED, staff=world["legal"],
                          document=pdf())
    matter.refresh_from_db()
    return matter


def _award(world, matter):
    return services.record_award(matter=matter, kind="judgment", decided_on=JUDGED, late_fee_as_of=JUDGED,
                                 principal="1500.00", late_fee="150.00", costs="50.00", reference="(2025)粤0305民初1234号",
                                 document=pdf("judgment.pdf"), staff=world["legal"])


def _refusals(results):
    return [result for result in results if isinstance(result, DomainError)]


def test_two_approvals_of_one_award_at_once_post_it_once(world):
    # given an award waiting and two managers
    matter = _filed(world)
    award = _award(world, matter)
    other = factories.user("manager2", groups=[roles.MANAGER])
    charges_before = Charge.objects.count()
    # when both approve at once
    results = race(lambda: services.approve_award(award=award, staff=world["manager"]).status,
                   lambda: services.approve_award(award=award, staff=other).status)
    # then one posts it and the other is told it was decided
    assert [r.code for r in _refusals(results)] == ["decided"] and AwardStatus.POSTED in results
    award.refresh_from_db()
    assert award.status == AwardStatus.POSTED
    assert Waiver.objects.count() == len(award.posted["waivers"])
    assert Charge.objects.count() - charges_before == len(award.posted["charges"]) == 1  # the costs, once
    assert AuditEvent.objects.filter(action="legal.award_posted").count() == 1


def test_approve_and_reject_at_once_make_one_decision(world):
    # given
    matter = _filed(world)
    award = _award(world, matter)
    other = factories.user("manager2", groups=[roles.MANAGER])
    # when
    results = race(lambda: services.approve_award(award=award, staff=world["manager"]).status,
                   lambda: services.reject_award(award=award, staff=other, note="数字有误").status)
    # then
    assert [r.code for r in _refusals(results)] == ["decided"]
    award.refresh_from_db()
    assert award.status in (AwardStatus.POSTED, AwardStatus.REJECTED)
    assert (Waiver.objects.exists()) == (award.status == AwardStatus.POSTED)
    assert AuditEvent.objects.filter(action__in=["legal.award_posted", "legal.award_rejected"]).count() == 1


def test_two_openings_of_one_case_at_once_open_one_matter(world):
    # given
    def open_it():
        return services.open_matter(case=world["case"], route="suit", responsible=world["legal"], staff=world["legal"],
                                    opened_on=date(2025, 7, 25)).pk

    # when
    results = race(open_it, open_it)
    # then: the same opening sent twice is one matter, and both callers get it
    assert _refusals(results) == [] and results[0] == results[1]
    assert Matter.objects.count() == 1
    assert AuditEvent.objects.filter(action="legal.matter_opened").count() == 1


def test_a_stage_and_the_closing_at_once_never_leave_a_stage_on_a_closed_matter_after_it(world):
    # given an open matter
    matter = _filed(world)

    def stage():
        return services.record_stage(matter=matter, route="suit", stage="withdrawn", occurred_on=date(2025, 12, 1),
                                     staff=world["legal"], document=pdf("withdrawal.pdf")).pk

    def close():
        return services.close_matter(matter=matter, outcome="withdrawn", closed_on=date(2025, 12, 1),
                                     staff=world["legal"]).status

    # when
    results = race(stage, close)
    # then the closing happens; the stage is either recorded before it or refused after it
    matter.refresh_from_db()
    assert matter.status == MatterStatus.CLOSED and results[1] == MatterStatus.CLOSED
    recorded = MatterStage.objects.filter(matter=matter, stage="withdrawn").count()
    if isinstance(results[0], DomainError):
        assert results[0].code == "matter_closed" and recorded == 0
    else:
        assert recorded == 1


def test_the_same_stage_sent_twice_at_once_is_recorded_once(world):
    # given
    matter = _filed(world)

    def hearing():
        return services.record_stage(matter=matter, route="suit", stage="hearing", occurred_on=date(2025, 12, 20),
                                     staff=world["legal"]).pk

    # when
    results = race(hearing, hearing)
    # then
    assert results[0] == results[1]
    assert MatterStage.objects.filter(matter=matter, stage="hearing").count() == 1


def test_two_awards_recorded_at_once_leave_one_waiting(world):
    # given
    matter = _filed(world)
    # when
    results = race(lambda: _award(world, matter).pk, lambda: _award(world, matter).pk)
    # then: the same award sent twice is one record waiting, and both callers get it
    assert _refusals(results) == [] and results[0] == results[1]
    assert Award.objects.filter(status=AwardStatus.REQUESTED).count() == 1


def test_two_uploads_of_one_community_document_at_once_store_one(world):
    # given
    def upload():
        return community_documents.upload_document(community=world["community"], kind="contract", title="物业服务合同",
                                                   upload=pdf("contract.pdf"), staff=world["legal"]).pk

    # when
    results = race(upload, upload)
    # then
    assert [r.code for r in _refusals(results)] == ["duplicate"]
    assert CommunityDocument.objects.count() == 1


def test_the_same_correction_sent_twice_at_once_is_recorded_once(world):
    # given a hearing
    matter = _filed(world)
    hearing = services.record_stage(matter=matter, route="suit", stage="hearing", occurred_on=date(2025, 12, 20),
                                    staff=world["legal"])

    def correct():
        return services.correct_stage(original=hearing, staff=world["legal"], reason="法院改期",
                                      occurred_on=date(2025, 12, 22)).pk

    # when
    results = race(correct, correct)
    # then
    assert results[0] == results[1]
    assert MatterStage.objects.filter(corrects=hearing).count() == 1
