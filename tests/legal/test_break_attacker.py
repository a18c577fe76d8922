"""The legal desk under attack: another community's ids on every URL and field, roles that may not
write, forged input. Each answer is 403, 404, a login redirect or a refusal, and nothing is written."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from arrears.collection import limitation
from arrears.collection.models import Channel, Task, TaskKind, TaskStatus
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.estate.models import StaffScope
from arrears.legal import services
from arrears.legal.models import (
    Award,
    AwardStatus,
    CommunityDocument,
    Matter,
    MatterCost,
    MatterStage,
    MatterStatus,
)
from tests import factories
from tests.legal import test_matter_views as pages

world, _clock = pages.world, pages._clock  # the pages' world: two communities, their staff, a frozen clock

FILED = date(2025, 7, 31)


def _pdf(name="receipt.pdf", body=b"%PDF-1.4\n% scan\n", content_type="application/pdf"):
    return SimpleUploadedFile(name, body, content_type=content_type)


def _mine(world):
    matter = services.open_matter(case=world["case"], route="suit", responsible=world["legal"], staff=world["legal"],
                                  opened_on=date(2025, 7, 25))
    services.record_stage(matter=matter, route="suit", stage="filed", occurred_on=FILED, staff=world["legal"],
                          document=_pdf())
    matter.refresh_from_db()
    return matter


def _theirs(world):
    """The other community's matter, filed, with a cost and an award waiting for approval."""
    outsider = world["outsider"]
    matter = services.open_matter(case=world["far_case"], route="suit", responsible=outsider, staff=outsider,
                                  opened_on=date(2025, 7, 25))
    stage = services.record_stage(matter=matter, route="suit", stage="filed", occurred_on=FILED, staff=outsider,
                                  document=_pdf())
    matter.refresh_from_db()
    cost = services.record_cost(matter=matter, kind="court_fee", amount="25.00", paid_on=FILED, staff=outsider,
                                document=_pdf("fee.pdf"))
    award = services.record_award(matter=matter, kind="judgment", decided_on=date(2025, 11, 20),
                                  late_fee_as_of=date(2025, 11, 20), principal="100.00", late_fee="0", costs="0",
                                  reference="(2025)外1号", document=_pdf("judgment.pdf"), staff=outsider)
    return matter, stage, cost, award


# -- another community's ids ----------------------------------------------------------------------


def test_another_matters_award_cannot_be_decided_through_my_matters_url(client, world):
    # given my matter and an award waiting on another community's matter
    mine = _mine(world)
    _, _, _, award = _theirs(world)
    client.force_login(world["manager"])
    # when my manager approves or rejects it through my matter's URL
    for decision in ("approve", "reject"):
        response = client.post(reverse("staff:award_decide", args=[mine.pk, award.pk, decision]), {"note": "x"})
        # then it is not found and stays unposted
        assert response.status_code == 404
    award.refresh_from_db()
    assert award.status == AwardStatus.REQUESTED and award.decided_by is None


def test_another_matters_stage_and_files_are_not_found_through_my_matter(client, world):
    # given
    mine = _mine(world)
    theirs, stage, cost, award = _theirs(world)
    client.force_login(world["legal"])
    # when I correct their stage through my matter, or fetch their files
    response = client.post(reverse("staff:stage_correct", args=[mine.pk, stage.pk]),
                           {"occurred_on": "2025-07-30", "reason": "改日期"})
    # then nothing is found, nothing written
    assert response.status_code == 404
    assert MatterStage.objects.filter(matter=theirs).count() == 1
    for what, pk in (("stage", stage.pk), ("cost", cost.pk), ("award", award.pk)):
        assert client.get(reverse("staff:matter_file", args=[mine.pk, what, pk])).status_code == 404
        assert client.get(reverse("staff:matter_file", args=[theirs.pk, what, pk])).status_code == 404
    assert client.get(reverse("staff:matter_file", args=[mine.pk, "matter", stage.pk])).status_code == 404
    for url in (reverse("staff:matter_document", args=[theirs.pk, "complaint"]),
                reverse("staff:evidence_pack", args=[world["far_case"].pk]),
                reverse("staff:matter_cost", args=[theirs.pk]), reverse("staff:matter_close", args=[theirs.pk])):
        assert client.post(url, {"kind": "court_fee", "amount": "1", "paid_on": "2025-08-01", "outcome": "withdrawn",
                                 "closed_on": "2025-12-01"}).status_code in (404, 405), url
    assert MatterCost.objects.filter(matter=theirs).count() == 1
    assert Matter.objects.get(pk=theirs.pk).status == MatterStatus.OPEN


def test_a_responsible_person_or_task_outside_the_case_is_not_taken(client, world):
    # given a legal-review task of the other community's case
    far_task = Task.objects.create(community=world["far_case"].community, case=world["far_case"], key="step:legal",
                                   kind=TaskKind.LADDER, channel=Channel.LEGAL_REVIEW, title="法务审查",
                                   due_on=date(2025, 12, 1), created_on=date(2025, 12, 1))
    client.force_login(world["legal"])
    url = reverse("staff:matter_open", args=[world["case"].pk])
    # when the form names the other community's legal person
    client.post(url, {"route": "suit", "responsible": world["outsider"].pk})
    # then no matter is opened
    assert not Matter.objects.exists()
    # when it names the other case's task
    client.post(url, {"route": "suit", "responsible": world["legal"].pk, "task": far_task.pk})
    # then the matter opens but the other case's task is untouched
    assert Matter.objects.get().responsible == world["legal"]
    far_task.refresh_from_db()
    assert far_task.status == TaskStatus.OPEN


def test_another_communitys_documents_page_is_not_found(client, world):
    far = world["far_case"].community
    client.force_login(world["legal"])
    url = reverse("staff:community_documents", args=[far.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"kind": "contract", "title": "合同", "file": _pdf("contract.pdf")}).status_code == 404
    assert not CommunityDocument.objects.exists()


def test_a_building_scoped_manager_cannot_reach_a_matter_of_another_building(client, world):
    # given a matter on building 3栋 and a manager who holds only another building of the community
    mine = _mine(world)
    other = factories.unit(world["case"].community, building="9栋", room="0901")
    manager = factories.user("building_manager", groups=[roles.MANAGER])
    StaffScope.objects.create(user=manager, community=other.community, building=other.building)
    award = services.record_award(matter=mine, kind="judgment", decided_on=date(2025, 11, 20),
                                  late_fee_as_of=date(2025, 11, 20), principal="100.00", late_fee="0", costs="0",
                                  reference="R1", document=_pdf(), staff=world["legal"])
    client.force_login(manager)
    # when
    assert client.get(reverse("staff:matter", args=[mine.pk])).status_code == 404
    response = client.post(reverse("staff:award_decide", args=[mine.pk, award.pk, "approve"]), {"note": ""})
    # then
    assert response.status_code == 404
    award.refresh_from_db()
    assert award.status == AwardStatus.REQUESTED
    # nor the whole community's contract page
    assert client.get(reverse("staff:community_documents", args=[mine.community_id])).status_code == 404


# -- roles ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.COLLECTOR, roles.FRONT_DESK, roles.FINANCE, None])
def test_roles_without_the_legal_desk_write_nothing(client, world, role):
    # given a matter with an award waiting
    mine = _mine(world)
    award = services.record_award(matter=mine, kind="judgment", decided_on=date(2025, 11, 20),
                                  late_fee_as_of=date(2025, 11, 20), principal="100.00", late_fee="0", costs="0",
                                  reference="R1", document=_pdf(), staff=world["legal"])
    stage = MatterStage.objects.get(matter=mine)
    if role is not None:
        person = factories.user(f"u-{role}", groups=[role])
        StaffScope.objects.create(user=person, community=mine.community)
        client.force_login(person)
    posts = {
        reverse("staff:matter_open", args=[world["case"].pk]): {"route": "suit", "responsible": world["legal"].pk},
        reverse("staff:matter_stage", args=[mine.pk]): {"stage": "suit:hearing", "occurred_on": "2025-12-20"},
        reverse("staff:stage_correct", args=[mine.pk, stage.pk]): {"occurred_on": "2025-07-30", "reason": "x"},
        reverse("staff:matter_cost", args=[mine.pk]): {"kind": "court_fee", "amount": "5", "paid_on": "2025-08-01"},
        reverse("staff:matter_award", args=[mine.pk]): {"kind": "judgment"},
        reverse("staff:award_decide", args=[mine.pk, award.pk, "approve"]): {"note": ""},
        reverse("staff:award_decide", args=[mine.pk, award.pk, "reject"]): {"note": "no"},
        reverse("staff:matter_close", args=[mine.pk]): {"outcome": "withdrawn", "closed_on": "2025-12-01"},
        reverse("staff:community_documents", args=[mine.community_id]): {"kind": "contract", "title": "t",
                                                                         "file": _pdf()},
    }
    # when each page is posted
    for url, data in posts.items():
        response = client.post(url, data)
        # then: a login redirect, forbidden or not found
        if role is None:
            assert response.status_code == 302 and "/login" in response.url, url
        else:
            assert response.status_code in (403, 404), url
    # and nothing is written
    assert Matter.objects.count() == 1 and MatterStage.objects.count() == 1 and not MatterCost.objects.exists()
    award.refresh_from_db()
    assert award.status == AwardStatus.REQUESTED and Award.objects.count() == 1
    assert Matter.objects.get().status == MatterStatus.OPEN and not CommunityDocument.objects.exists()
    if role in (roles.FRONT_DESK, None):  # no amounts: not even the pages
        for url in (reverse("staff:matters"), reverse("staff:matter", args=[mine.pk]),
                    reverse("staff:evidence_pack", args=[world["case"].pk]), reverse("staff:limitation_board"),
                    reverse("staff:matter_file", args=[mine.pk, "stage", stage.pk])):
            assert client.get(url).status_code in (302, 403, 404), url


# -- forged input ---------------------------------------------------------------------------------


def test_forged_stage_codes_amounts_and_dates_write_nothing(client, world):
    mine = _mine(world)
    client.force_login(world["legal"])
    stage_url, cost_url = reverse("staff:matter_stage", args=[mine.pk]), reverse("staff:matter_cost", args=[mine.pk])
    for data in ({"stage": "suit:../../x", "occurred_on": "2025-08-01"},
                 {"stage": "suit", "occurred_on": "2025-08-01"},
                 {"stage": "enforcement:recovered", "occurred_on": "2025-08-01", "amount": "NaN"},
                 {"stage": "suit:accepted", "occurred_on": "2025-02-30", "reference": "R"},
                 {"stage": "suit:accepted", "occurred_on": "2025-08-01", "reference": "R" * 5000},
                 {"stage": "suit:hearing", "occurred_on": "not a date"}):
        assert client.post(stage_url, data).status_code == 302
    for amount in ("-1", "NaN", "Infinity", "0.001", "0", "1e20", ""):
        client.post(cost_url, {"kind": "court_fee", "amount": amount, "paid_on": "2025-08-01"})
    client.post(cost_url, {"kind": "bribe", "amount": "5", "paid_on": "2025-08-01"})
    client.post(cost_url, {"kind": "court_fee", "amount": "5", "paid_on": "2999-01-01"})
    assert MatterStage.objects.filter(matter=mine).count() == 1
    assert not MatterCost.objects.exists()
    # "1e3" and full-width digits are plain numbers: amounts, to the fen
    client.post(cost_url, {"kind": "court_fee", "amount": "1e3", "paid_on": "2025-08-01"})
    client.post(cost_url, {"kind": "lawyer", "amount": "１００", "paid_on": "2025-08-01"})
    assert sorted(str(cost.amount) for cost in MatterCost.objects.all()) == ["100.00", "1000.00"]


def test_malformed_files_are_refused(client, world, monkeypatch):
    mine = _mine(world)
    client.force_login(world["legal"])
    url = reverse("staff:matter_stage", args=[mine.pk])
    # an executable renamed .pdf, an empty file, a web page, a script
    for upload in (_pdf("judgment.pdf", b"MZ\x90\x00\x03" + b"\x00" * 60), _pdf("judgment.pdf", b""),
                   _pdf("judgment.pdf", b"<html><script>alert(1)</script>"),
                   _pdf("judgment.sh", b"#!/bin/sh\nrm -rf /\n", content_type="text/x-sh"),
                   _pdf("judgment.pdf", b"\x7fELF\x02\x01")):
        client.post(url, {"stage": "suit:judgment", "occurred_on": "2025-11-20", "document": upload})
    # a file over the limit (the limit lowered rather than 60 MB allocated)
    monkeypatch.setattr(limitation, "MAX_UPLOAD_BYTES", 10)
    client.post(url, {"stage": "suit:judgment", "occurred_on": "2025-11-20", "document": _pdf()})
    client.post(reverse("staff:community_documents", args=[mine.community_id]),
                {"kind": "contract", "title": "合同", "file": _pdf()})
    assert MatterStage.objects.filter(matter=mine).count() == 1
    assert not CommunityDocument.objects.exists()


# -- breaks found, fixed ------------------------------------------------------------------------------


def test_correcting_a_stages_date_on_the_page_keeps_its_court_case_number(client, world):
    # given an acceptance with the court's case number
    mine = _mine(world)
    accepted = services.record_stage(matter=mine, route="suit", stage="accepted", occurred_on=date(2025, 8, 5),
                                     staff=world["legal"], reference="(2025)粤0305民初1234号")
    client.force_login(world["legal"])
    # when only its date is corrected on the page (the correction form comes empty)
    client.post(reverse("staff:stage_correct", args=[mine.pk, accepted.pk]),
                {"occurred_on": "2025-08-06", "reason": "日期录错"})
    # then the corrected stage keeps the case number
    correction = MatterStage.objects.get(corrects=accepted)
    assert (correction.occurred_on, correction.reference) == (date(2025, 8, 6), "(2025)粤0305民初1234号")


def test_a_correction_cannot_blank_a_case_number_or_give_an_amount_to_a_stage_without_one(world):
    # given
    mine = _mine(world)
    accepted = services.record_stage(matter=mine, route="suit", stage="accepted", occurred_on=date(2025, 8, 5),
                                     staff=world["legal"], reference="(2025)粤0305民初1234号")
    # when / then
    with pytest.raises(DomainError) as blank:
        services.correct_stage(original=accepted, staff=world["legal"], reason="x", reference="  ")
    assert blank.value.code == "reference"
    with pytest.raises(DomainError) as amount:
        services.correct_stage(original=accepted, staff=world["legal"], reason="x", amount="100.00")
    assert amount.value.code == "amount"
    assert MatterStage.objects.filter(corrects=accepted).count() == 0


def test_a_decision_cannot_precede_the_filing(world):
    # given a claim filed on 2025-07-31
    mine = _mine(world)
    # when a decision dated before the filing is recorded
    with pytest.raises(DomainError) as refused:
        services.record_award(matter=mine, kind="judgment", decided_on=date(2025, 7, 1), late_fee_as_of=FILED,
                              principal="100.00", late_fee="0", costs="0", reference="R", document=_pdf(),
                              staff=world["legal"])
    # then it is refused
    assert refused.value.code == "date"
    assert not Award.objects.exists()


def test_the_limitation_board_takes_forged_numbers_as_no_filter(client, world):
    # given
    client.force_login(world["legal"])
    url = reverse("staff:limitation_board")
    # when the query names digits int() cannot read (superscripts), another community or nonsense
    for query in ({"days": "²"}, {"community": "³"}, {"community": str(world["far_case"].community_id)},
                  {"days": "9" * 40, "community": "-1"}):
        response = client.get(url, query)
        # then the board shows its default window over the user's own communities
        assert response.status_code == 200, query
        assert response.context["community"] is None and response.context["days"] == 90, query


def test_a_correction_sent_twice_is_recorded_once(client, world):
    # given a hearing on 2025-12-20 with its preparation task
    mine = _mine(world)
    hearing = services.record_stage(matter=mine, route="suit", stage="hearing", occurred_on=date(2025, 12, 20),
                                    staff=world["legal"])
    client.force_login(world["legal"])
    url = reverse("staff:stage_correct", args=[mine.pk, hearing.pk])
    # when the court's new date is sent twice (a double tap)
    for _ in range(2):
        client.post(url, {"occurred_on": "2025-12-22", "reason": "法院改期"})
    # then one correction, one open preparation task on the day before the new date
    correction = MatterStage.objects.get(corrects=hearing)
    assert correction.occurred_on == date(2025, 12, 22)
    open_tasks = Task.objects.filter(case=mine.case, kind=TaskKind.LEGAL, status=TaskStatus.OPEN, title="准备并出庭")
    assert [task.due_on for task in open_tasks] == [date(2025, 12, 21)]
    # and a real second correction is still taken
    client.post(url, {"occurred_on": "2025-12-23", "reason": "再次改期"})
    assert MatterStage.objects.filter(corrects=hearing).count() == 2


def test_a_collector_neither_sees_nor_downloads_the_courts_evidence_pack(client, db):
    # given a collector of the community with an open case
    from arrears.collection.models import Case
    from arrears.core import roles
    from arrears.estate.models import StaffScope
    from tests import factories
    from tests.collection.conftest import make_case

    community = factories.community()
    unit = factories.unit(community)
    case = make_case(unit, factories.owner(unit))
    collector = factories.user("kefu", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=collector, community=community)
    client.force_login(collector)
    # when / then
    assert client.get(reverse("staff:evidence_pack", args=[case.pk])).status_code == 403
    assert reverse("staff:evidence_pack", args=[case.pk]) not in client.get(reverse("staff:unit", args=[unit.pk])).content.decode()
    assert Case.objects.filter(pk=case.pk).exists()
