"""Staff answer what owners sent from their links, and revoke links, on the staff site."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from arrears.collection.models import ChargeDispute, InstalmentPlan, PlanStatus
from arrears.core import roles
from arrears.core.models import AuditEvent
from arrears.estate.models import StaffScope
from arrears.ledger.models import Charge
from arrears.notices.context import statement_token
from arrears.portal import requests as owner_requests
from arrears.portal.models import InstalmentRequest, RequestStatus
from tests import factories
from tests.collection.conftest import make_case


@pytest.fixture
def collector(estate):
    user = factories.user("collector", groups=[roles.COLLECTOR])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


@pytest.fixture
def outsider(estate):
    return factories.user("outsider", groups=[roles.COLLECTOR])


@pytest.fixture
def waiting(estate):
    make_case(estate["unit"], estate["owner"])
    return owner_requests.request_instalments(owner=estate["owner"], unit=estate["unit"], months=3, note="分三个月")


def test_a_collector_accepts_an_instalment_request_from_the_requests_page(client, collector, waiting):
    client.force_login(collector)
    page = client.get(reverse("staff:owner_requests"))
    assert page.status_code == 200 and "分三个月" in page.content.decode()
    response = client.post(reverse("staff:instalment_decide", args=[waiting.pk]), {"action": "accept", "first_due": "2026-05-20"})
    assert response.status_code == 302
    waiting.refresh_from_db()
    plan = InstalmentPlan.objects.get()
    assert waiting.status == RequestStatus.ACCEPTED and waiting.plan == plan and waiting.decided_by == collector
    assert plan.status == PlanStatus.ACCEPTED
    assert list(plan.instalments.values_list("due_on", "amount")) == [
        (date(2026, 5, 20), Decimal("200.00")), (date(2026, 6, 20), Decimal("200.00")), (date(2026, 7, 20), Decimal("200.00"))]


def test_declining_needs_a_reason_the_owner_will_see(client, collector, waiting):
    client.force_login(collector)
    page = client.post(reverse("staff:instalment_decide", args=[waiting.pk]), {"action": "decline", "note": ""}, follow=True)
    assert "请写明不同意分期的原因" in page.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == RequestStatus.REQUESTED
    client.post(reverse("staff:instalment_decide", args=[waiting.pk]), {"action": "decline", "note": "欠费不足三个月，请一次缴清"})
    waiting.refresh_from_db()
    assert waiting.status == RequestStatus.DECLINED and not InstalmentPlan.objects.exists()


def test_requests_of_units_out_of_scope_are_neither_listed_nor_decided(client, outsider, waiting):
    client.force_login(outsider)
    assert "分三个月" not in client.get(reverse("staff:owner_requests")).content.decode()
    assert client.post(reverse("staff:instalment_decide", args=[waiting.pk]), {"action": "accept",
                                                                             "first_due": "2026-05-20"}).status_code == 404
    assert InstalmentRequest.objects.get().status == RequestStatus.REQUESTED


def test_resolving_a_dispute_closes_its_ticket_and_resumes_collection(client, collector, estate):
    charge = Charge.objects.filter(unit=estate["unit"]).order_by("due_date")[1]
    complaint = owner_requests.submit_complaint(owner=estate["owner"], unit=estate["unit"], text="二月电梯停运", charge_id=charge.pk)
    client.force_login(collector)
    client.post(reverse("staff:complaint_resolve", args=[complaint.pk]), {"resolution": "已核实，电梯停运期间分摊费用另行减免"})
    complaint.ticket.refresh_from_db()
    assert complaint.ticket.closed_on == date(2026, 5, 10)
    assert ChargeDispute.objects.get().resolution == "已核实，电梯停运期间分摊费用另行减免"
    assert "二月电梯停运" not in client.get(reverse("staff:owner_requests")).content.decode()


def test_revoking_an_owners_links_stops_every_earlier_link(client, collector, estate):
    owner, unit = estate["owner"], estate["unit"]
    old = reverse("portal:statement", args=[statement_token(owner.pk, unit.pk, owner.link_generation)])
    client.force_login(collector)
    page = client.get(reverse("staff:unit", args=[unit.pk]))
    assert old.split("/s/")[1] in page.content.decode()
    client.post(reverse("staff:revoke_links", args=[unit.pk, owner.pk]), {"reason": "业主反映链接被转发"})
    client.logout()
    assert client.get(old).status_code == 404
    owner.refresh_from_db()
    assert owner.link_generation == 1
    assert AuditEvent.objects.filter(action="statement_links_revoked").count() == 1


def test_the_front_desk_may_not_revoke_links(client, estate):
    desk = factories.user("desk", groups=[roles.FRONT_DESK])
    StaffScope.objects.create(user=desk, community=estate["community"])
    client.force_login(desk)
    response = client.post(reverse("staff:revoke_links", args=[estate["unit"].pk, estate["owner"].pk]))
    assert response.status_code == 403
    estate["owner"].refresh_from_db()
    assert estate["owner"].link_generation == 0
