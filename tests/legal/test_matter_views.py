"""The matter pages: a legal person opens a matter from the case and walks it; a manager posts the
award; nobody reaches another community's matter; the pages speak one language."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from arrears.collection.models import Case, CaseStatus, Channel, Task, TaskKind, TaskStatus
from arrears.collection.run import run_collection
from arrears.core import roles
from arrears.estate.models import StaffScope
from arrears.ledger import services as ledger_services
from arrears.legal.models import Award, AwardStatus, Matter, MatterStage, MatterStatus
from tests import factories
from tests.staff.test_one_language import CJK, data_values, visible_texts, without_data

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world(db):
    with time_machine.travel(datetime(2025, 12, 1, 10, 0, tzinfo=SHANGHAI), tick=False):
        community = factories.community()
        unit = factories.unit(community, building="3栋", room="1201")
        factories.owner(unit, name="李四")
        factories.tariff(community, price="3.00", rate="0.0005", grace_days=15, cap="0.3", effective_from=date(2025, 1, 1))
        ledger_services.bill(through=date(2025, 6, 1))
        run_collection(as_of=date(2025, 7, 20))
        elsewhere = factories.community("翠湖苑", company_obj=community.company)
        far = factories.unit(elsewhere, building="1栋", room="0101")
        far_owner = factories.owner(far, name="钱远方")
        factories.tariff(elsewhere, effective_from=date(2025, 1, 1))
        ledger_services.bill(through=date(2025, 6, 1), community_ids=[elsewhere.pk])
        run_collection(as_of=date(2025, 7, 21))
        people = {}
        for name, role in (("legal", roles.LEGAL), ("manager", roles.MANAGER), ("collector", roles.COLLECTOR)):
            people[name] = factories.user(name, groups=[role])
            StaffScope.objects.create(user=people[name], community=community)
        outsider = factories.user("farlegal", groups=[roles.LEGAL])
        StaffScope.objects.create(user=outsider, community=elsewhere)
    case = Case.objects.get(unit=unit, status=CaseStatus.OPEN)
    far_case = Case.objects.get(unit=far, owner=far_owner, status=CaseStatus.OPEN)
    return {"case": case, "far_case": far_case, "outsider": outsider, **people}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2025, 12, 1, 10, 0, tzinfo=SHANGHAI), tick=False):
        yield


def _pdf(name="receipt.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n% scan\n", content_type="application/pdf")


def test_legal_walks_a_suit_on_the_pages_and_a_manager_posts_the_award(client, world):
    case = world["case"]
    # given a legal-review task of the ladder, the legal person opens the matter from it
    task = Task.objects.create(community=case.community, case=case, key="step:legal", kind=TaskKind.LADDER,
                               channel=Channel.LEGAL_REVIEW, title="法务审查", due_on=date(2025, 12, 1),
                               created_on=date(2025, 12, 1))
    client.force_login(world["legal"])
    unit_page = client.get(reverse("staff:unit", args=[case.unit_id])).content.decode()
    assert reverse("staff:matter_open", args=[case.pk]) in unit_page
    response = client.post(reverse("staff:matter_open", args=[case.pk]) + f"?task={task.pk}", {
        "route": "suit", "responsible": world["legal"].pk, "court": "深圳市福田区人民法院", "task": task.pk})
    matter = Matter.objects.get()
    assert response.status_code == 302 and response.url == reverse("staff:matter", args=[matter.pk])
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    # a second submit of the same form opens nothing more
    client.post(reverse("staff:matter_open", args=[case.pk]), {"route": "suit", "responsible": world["legal"].pk})
    assert Matter.objects.count() == 1
    # when the filing and the judgment are recorded with their documents
    url = reverse("staff:matter_stage", args=[matter.pk])
    client.post(url, {"stage": "suit:filed", "occurred_on": "2025-07-31", "document": _pdf()})
    client.post(url, {"stage": "suit:accepted", "occurred_on": "2025-08-05", "reference": "(2025)粤0305民初1234号"})
    client.post(url, {"stage": "suit:judgment", "occurred_on": "2025-11-20", "document": _pdf("judgment.pdf")})
    assert MatterStage.objects.filter(matter=matter).count() == 3
    client.post(reverse("staff:matter_award", args=[matter.pk]), {
        "kind": "judgment", "reference": "(2025)粤0305民初1234号", "decided_on": "2025-11-20", "effective_on": "2025-12-01",
        "late_fee_as_of": "2025-11-20", "principal": "1500.00", "late_fee": "150.00", "costs": "50.00",
        "document": _pdf("judgment.pdf")})
    award = Award.objects.get()
    # then the page shows what posting will write; the recorder has no approve button
    page = client.get(reverse("staff:matter", args=[matter.pk])).content.decode()
    assert 'data-testid="pending-award"' in page and "¥300.00" in page and "¥55.95" in page
    assert reverse("staff:award_decide", args=[matter.pk, award.pk, "approve"]) not in page
    refused = client.post(reverse("staff:award_decide", args=[matter.pk, award.pk, "approve"]), {"note": ""})
    assert refused.status_code == 403
    # when the manager approves
    client.force_login(world["manager"])
    client.post(reverse("staff:award_decide", args=[matter.pk, award.pk, "approve"]), {"note": "核对无误"})
    award.refresh_from_db()
    assert award.status == AwardStatus.POSTED and award.posted["costs"] == "50.00"
    # and legal closes the matter
    client.force_login(world["legal"])
    client.post(reverse("staff:matter_close", args=[matter.pk]), {"outcome": "recovered", "closed_on": "2025-12-01"})
    matter.refresh_from_db()
    assert matter.status == MatterStatus.CLOSED
    case.refresh_from_db()
    assert not case.legal_hold
    # the documents download within scope
    stage = MatterStage.objects.filter(matter=matter, stage="filed").get()
    response = client.get(reverse("staff:matter_file", args=[matter.pk, "stage", stage.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")


def test_another_communitys_matter_and_case_are_not_found(client, world):
    client.force_login(world["legal"])
    client.post(reverse("staff:matter_open", args=[world["case"].pk]), {"route": "suit", "responsible": world["legal"].pk})
    matter = Matter.objects.get()
    client.force_login(world["outsider"])
    for url in (reverse("staff:matter", args=[matter.pk]), reverse("staff:matter_open", args=[world["case"].pk])):
        assert client.get(url).status_code == 404
    assert client.post(reverse("staff:matter_stage", args=[matter.pk]),
                       {"stage": "suit:filed", "occurred_on": "2025-07-31", "document": _pdf()}).status_code == 404
    assert not MatterStage.objects.exists()
    assert matter.pk not in [m.pk for m in client.get(reverse("staff:matters")).context["page"]]
    # a collector sees the matter but cannot open or walk one
    client.force_login(world["collector"])
    assert client.get(reverse("staff:matter", args=[matter.pk])).status_code == 200
    assert client.post(reverse("staff:matter_stage", args=[matter.pk]),
                       {"stage": "suit:filed", "occurred_on": "2025-07-31"}).status_code == 403
    assert client.get(reverse("staff:matter_open", args=[world["far_case"].pk])).status_code == 403


def test_the_list_costs_the_same_queries_for_one_matter_or_many(client, world, django_assert_max_num_queries):
    client.force_login(world["legal"])
    client.post(reverse("staff:matter_open", args=[world["case"].pk]), {"route": "suit", "responsible": world["legal"].pk})
    with django_assert_max_num_queries(12) as one:
        client.get(reverse("staff:matters"))
    queries = len(one)
    for room in ("1202", "1203", "1204"):
        unit = factories.unit(world["case"].community, building="3栋", room=room)
        owner = factories.owner(unit, name=f"业主{room}")
        other = Case.objects.create(community=unit.community, unit=unit, owner=owner, opened_on=date(2025, 7, 20),
                                    as_of=date(2025, 7, 20), principal=Decimal("300"), late_fee=Decimal("0"),
                                    oldest_due=date(2025, 6, 5), days_overdue=45, months_overdue=1, bucket="31-90", tier="C")
        client.post(reverse("staff:matter_open", args=[other.pk]), {"route": "payment_order",
                                                                    "responsible": world["legal"].pk})
    assert Matter.objects.count() == 4
    with django_assert_max_num_queries(queries):
        response = client.get(reverse("staff:matters"))
    assert len(response.context["page"]) == 4


def test_the_matter_pages_speak_english_only_under_en(client, world):
    client.force_login(world["legal"])
    client.post(reverse("staff:matter_open", args=[world["case"].pk]), {"route": "suit", "responsible": world["legal"].pk})
    matter = Matter.objects.get()
    client.post(reverse("staff:matter_stage", args=[matter.pk]),
                {"stage": "suit:filed", "occurred_on": "2025-07-31", "document": _pdf()})
    client.get(reverse("staff:matters"))  # the flash messages of the posts above were written in Chinese
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: "en"})
    values = data_values()
    for url in (reverse("staff:matters"), reverse("staff:matter", args=[matter.pk]),
                reverse("staff:matter_open", args=[world["far_case"].pk])):
        client.force_login(world["legal"] if "far" not in url else world["outsider"])
        response = client.get(url)
        if response.status_code != 200:
            continue
        html = response.content.decode()
        left = [text for text in visible_texts(html, "en") if CJK.search(without_data(text, values))]
        assert left == [], url
