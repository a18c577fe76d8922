"""The owner's link: what it shows, to whom, for how long; paying with the sandbox; requests and the survey."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from arrears.collection.assess import assess
from arrears.collection.models import (
    CaseStatus,
    ChargeDispute,
    InstalmentPlan,
    LimitationEvent,
    PlanStatus,
)
from arrears.core import roles
from arrears.demo.portal import ensure_fee_compositions
from arrears.estate.models import ServiceTicket
from arrears.ledger.models import Charge, Payment
from arrears.notices.context import statement_token
from arrears.portal import payments, tasks
from arrears.portal import requests as owner_requests
from arrears.portal.models import (
    Complaint,
    InstalmentRequest,
    NotificationOutcome,
    OrderStatus,
    PaymentNotification,
    PaymentOrder,
    Receipt,
    RequestStatus,
    SurveyResponse,
)
from arrears.portal.providers import get_provider, reset_cache
from tests import factories
from tests.collection.conftest import make_case


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.PORTAL_PAYMENT_PROVIDERS = {"sandbox": {"BACKEND": "arrears.portal.providers.sandbox.SandboxProvider"}}
    reset_cache()
    cache.clear()
    yield
    reset_cache()


def link(owner, unit) -> str:
    return reverse("portal:statement", args=[statement_token(owner.pk, unit.pk, owner.link_generation)])


def token_of(owner, unit) -> str:
    return statement_token(owner.pk, unit.pk, owner.link_generation)


# The estate fixture on 2026-05-10: ¥200 a month due the 5th, January to April, 万分之五 a day. The ¥200
# paid on 2026-01-20 went to January's principal (principal first), leaving its 15 days' late fee.


def test_it_shows_the_owner_their_unpaid_charges_with_late_fees_and_the_total(client, estate):
    page = client.get(link(estate["owner"], estate["unit"]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "王小明，您好" in body and "3栋1单元1201" in body
    assert page["Referrer-Policy"] == "same-origin" and "no-store" in page["Cache-Control"]
    accounts = page.context["accounts"]
    assert [line.charge.period_start for line in accounts[0].lines] == [
        date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    # late fee = 200 × 0.0005 × days late: Jan 15 d (paid 01-20) = 1.50, Feb 94 d = 9.40, Mar 66 d = 6.60, Apr 35 d = 3.50
    assert [line.charge.late_fee for line in accounts[0].lines] == [
        Decimal("1.50"), Decimal("9.40"), Decimal("6.60"), Decimal("3.50")]
    assert [line.charge.outstanding for line in accounts[0].lines] == [Decimal("0.00")] + [Decimal("200.00")] * 3
    assert (accounts[0].principal, accounts[0].late_fee, accounts[0].total) == (
        Decimal("600.00"), Decimal("21.00"), Decimal("621.00"))
    assert "¥621.00" in body


def test_a_link_never_shows_another_owners_data(client, estate):
    # given a link of the neighbour
    neighbour = client.get(link(estate["neighbour_owner"], estate["other_unit"]))
    assert "王小明" not in neighbour.content.decode() and "3栋1单元1201" not in neighbour.content.decode()
    # when the neighbour's token is paired with Wang's unit, or an order, receipt or unit of Wang's is asked for
    forged = statement_token(estate["neighbour_owner"].pk, estate["unit"].pk)
    assert client.get(reverse("portal:statement", args=[forged])).status_code == 404
    order = payments.create_order(owner=estate["owner"], unit=estate["unit"], charge_ids=_open_ids(estate),
                                  provider_code="sandbox")
    theirs = token_of(estate["neighbour_owner"], estate["other_unit"])
    assert client.get(reverse("portal:order", args=[theirs, order.number])).status_code == 404
    response = client.post(reverse("portal:pay", args=[theirs]), {"unit": estate["unit"].pk, "charge": _open_ids(estate),
                                                                   "provider": "sandbox"})
    # then each is refused like a page that does not exist, and no order was made for Wang's charges
    assert response.status_code == 404
    assert PaymentOrder.objects.count() == 1


def test_a_tampered_expired_or_revoked_link_is_refused(client, estate, settings):
    owner, unit = estate["owner"], estate["unit"]
    good = token_of(owner, unit)
    assert client.get(reverse("portal:statement", args=[good[:-2] + "xx"])).status_code == 404
    with time_machine.travel(date(2026, 5, 10) + timedelta(days=settings.PORTAL_LINK_DAYS + 1), tick=False):
        assert client.get(reverse("portal:statement", args=[good])).status_code == 404
    owner.link_generation += 1
    owner.save(update_fields=["link_generation"])
    page = client.get(reverse("portal:statement", args=[good]))
    assert page.status_code == 404 and "已作废" in page.content.decode()
    assert client.get(link(owner, unit)).status_code == 200


def _open_ids(estate):
    return list(Charge.objects.filter(unit=estate["unit"], owner=estate["owner"], settled_on__isnull=True)
                .order_by("due_date").values_list("pk", flat=True))


def test_paying_with_the_sandbox_credits_the_ledger_once_issues_a_receipt_and_closes_the_case(client, estate):
    case = make_case(estate["unit"], estate["owner"])
    token = token_of(estate["owner"], estate["unit"])
    # when the owner pays all four open charges
    response = client.post(reverse("portal:pay", args=[token]), {"unit": estate["unit"].pk, "charge": _open_ids(estate),
                                                                  "provider": "sandbox"})
    order = PaymentOrder.objects.get()
    assert order.amount == Decimal("621.00") and order.status == OrderStatus.CREATED
    assert response.status_code == 302 and response.url.startswith(reverse("portal:sandbox_pay", args=[order.number]))
    paid = client.post(response.url, {"action": "pay", "return": reverse("portal:order", args=[token, order.number])})
    # then the order is paid, the ledger owes nothing, a receipt exists and the case is closed
    assert paid.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payment.amount == Decimal("621.00")
    assert order.payment.method == "online" and order.payment.unallocated == Decimal("0.00")
    assert Receipt.objects.get().number == order.payment.receipt_number == "SJ2026-000001"
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.close_reason == "paid"
    page = client.get(paid.url)
    assert "缴费成功" in page.content.decode() and "SJ2026-000001" in page.content.decode()
    pdf = client.get(reverse("portal:receipt", args=[token, "SJ2026-000001"]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    # and a replayed notification changes nothing
    headers, body = get_provider("sandbox").notification_for(order, trade_no=order.provider_trade_no)
    again = client.post(reverse("portal:notify", args=["sandbox"]), body, content_type="application/json",
                        headers={"X-Sandbox-Signature": headers["X-Sandbox-Signature"]})
    assert again.status_code == 200
    assert Payment.objects.filter(method="online").count() == 1
    assert PaymentNotification.objects.order_by("pk").last().outcome == NotificationOutcome.DUPLICATE


def test_a_sandbox_notification_with_a_bad_signature_or_wrong_amount_is_refused(client, estate):
    order = payments.create_order(owner=estate["owner"], unit=estate["unit"], charge_ids=_open_ids(estate)[:1],
                                  provider_code="sandbox")
    provider = get_provider("sandbox")
    _, body = provider.notification_for(order, trade_no="T1")
    bad = client.post(reverse("portal:notify", args=["sandbox"]), body, content_type="application/json",
                      headers={"X-Sandbox-Signature": "0" * 64})
    headers, cheap = provider.notification_for(order, trade_no="T1", amount="0.01")
    wrong = client.post(reverse("portal:notify", args=["sandbox"]), cheap, content_type="application/json",
                        headers={"X-Sandbox-Signature": headers["X-Sandbox-Signature"]})
    assert bad.status_code == 400 and wrong.status_code == 400
    assert list(PaymentNotification.objects.values_list("outcome", flat=True)) == ["refused", "refused"]
    order.refresh_from_db()
    assert order.status == OrderStatus.CREATED and not Payment.objects.filter(method="online").exists()


def test_an_order_for_a_charge_that_is_not_the_owners_is_refused(estate):
    theirs = Charge.objects.filter(unit=estate["other_unit"]).values_list("pk", flat=True).first()
    with pytest.raises(Exception, match="所选费用不存在"):
        payments.create_order(owner=estate["owner"], unit=estate["unit"], charge_ids=[theirs], provider_code="sandbox")
    assert not PaymentOrder.objects.exists()


def test_the_payment_endpoints_are_rate_limited(client, estate, settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "pay": (2, 600)}
    token = token_of(estate["owner"], estate["unit"])
    data = {"unit": estate["unit"].pk, "charge": _open_ids(estate)[:1], "provider": "sandbox"}
    codes = [client.post(reverse("portal:pay", args=[token]), data).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    assert PaymentOrder.objects.count() == 2


def test_an_instalment_request_accepted_by_staff_becomes_an_accepted_plan_and_restarts_limitation(client, estate):
    case = make_case(estate["unit"], estate["owner"])
    token = token_of(estate["owner"], estate["unit"])
    client.post(reverse("portal:instalment", args=[token]), {"unit": estate["unit"].pk, "months": "4", "note": "最近手头紧"})
    request = InstalmentRequest.objects.get()
    assert (request.months, request.total, request.status) == (4, Decimal("600.00"), RequestStatus.REQUESTED)
    again = client.post(reverse("portal:instalment", args=[token]), {"unit": estate["unit"].pk, "months": "4"}, follow=True)
    assert "您已提交分期申请" in again.content.decode() and InstalmentRequest.objects.count() == 1
    staff = factories.user("collector", groups=[roles.COLLECTOR])
    owner_requests.accept_instalments(request=request, staff=staff, first_due=date(2026, 5, 20))
    plan = InstalmentPlan.objects.get(case=case)
    assert plan.status == PlanStatus.ACCEPTED and plan.accepted_on == date(2026, 5, 10)
    assert list(plan.instalments.values_list("amount", flat=True)) == [Decimal("150.00")] * 4
    event = LimitationEvent.objects.get()
    assert (event.kind, event.plan, event.occurred_on) == ("plan", plan, date(2026, 5, 10))
    assert list(event.proofs.values_list("kind", "reference", "added_by")) == [
        ("portal", f"portal instalment request #{request.pk}", staff.pk)]
    # the owner's own request is the proof: the deadline restarts on the day of acceptance
    [entry] = [a for a in assess(date(2026, 5, 10)) if a.key == (case.unit_id, case.owner_id)]
    assert entry.limitation_deadline == date(2029, 5, 10)


def test_an_instalment_request_outside_three_to_six_months_is_refused(client, estate):
    token = token_of(estate["owner"], estate["unit"])
    page = client.post(reverse("portal:instalment", args=[token]), {"unit": estate["unit"].pk, "months": "12"}, follow=True)
    assert "分期月数须为 3–6 个月" in page.content.decode()
    assert not InstalmentRequest.objects.exists()


def test_a_dispute_about_a_charge_opens_a_ticket_and_pauses_that_charge(client, estate):
    token = token_of(estate["owner"], estate["unit"])
    february = _open_ids(estate)[1]
    client.post(reverse("portal:complaint", args=[token]), {"unit": estate["unit"].pk, "charge": february,
                                                            "text": "二月份电梯停了三周，不应全额收费"})
    complaint = Complaint.objects.get()
    assert complaint.ticket.kind == "complaint" and complaint.ticket.closed_on is None
    assert ChargeDispute.objects.get().charge_id == february
    page = client.get(reverse("portal:statement", args=[token]))
    lines = page.context["accounts"][0].lines
    assert [line.disputed for line in lines] == [False, True, False, False]
    staff = factories.user("manager", groups=[roles.MANAGER])
    owner_requests.resolve_complaint(complaint=complaint, staff=staff, resolution="核实后减免二月电梯分摊部分")
    assert ServiceTicket.objects.get().closed_on == date(2026, 5, 10)
    assert ChargeDispute.objects.get().closed_on == date(2026, 5, 10)


def test_a_complaint_cannot_name_another_owners_charge(client, estate):
    token = token_of(estate["owner"], estate["unit"])
    theirs = Charge.objects.filter(unit=estate["other_unit"]).values_list("pk", flat=True).first()
    page = client.post(reverse("portal:complaint", args=[token]), {"unit": estate["unit"].pk, "charge": theirs, "text": "x"},
                       follow=True)
    assert "所选费用不存在或已结清" in page.content.decode()
    assert not Complaint.objects.exists() and not ServiceTicket.objects.exists()


def test_after_paying_the_owner_answers_two_questions_once(client, estate):
    token = token_of(estate["owner"], estate["unit"])
    order = payments.create_order(owner=estate["owner"], unit=estate["unit"], charge_ids=_open_ids(estate)[:1],
                                  provider_code="sandbox")
    headers, body = get_provider("sandbox").notification_for(order, trade_no="T9")
    payments.handle_notification(provider_code="sandbox", headers=headers, body=body)
    url = reverse("portal:survey", args=[token, order.number])
    client.post(url, {"payment_experience": "satisfied", "service": "neutral", "comment": "希望电梯早点修好"})
    client.post(url, {"payment_experience": "unsatisfied", "service": "unsatisfied"})
    answer = SurveyResponse.objects.get()
    assert (answer.payment_experience, answer.service, answer.comment) == ("satisfied", "neutral", "希望电梯早点修好")



def test_an_unpaid_order_closes_after_its_time_but_a_late_notification_still_credits_it(estate):
    order = payments.create_order(owner=estate["owner"], unit=estate["unit"], charge_ids=_open_ids(estate)[:1],
                                  provider_code="sandbox")
    with time_machine.travel(order.expires_at + timedelta(minutes=1), tick=False):
        assert tasks.close_expired_orders() == 1
        order.refresh_from_db()
        assert order.status == OrderStatus.CLOSED
        headers, body = get_provider("sandbox").notification_for(order, trade_no="LATE1")
        handled = payments.handle_notification(provider_code="sandbox", headers=headers, body=body)
    order.refresh_from_db()
    assert handled.notification.outcome == NotificationOutcome.CREDITED
    assert order.status == OrderStatus.PAID and order.payment.amount == Decimal("1.50")


def test_the_fee_composition_is_shown_with_each_items_share_of_the_price(client, estate):
    ensure_fee_compositions(published_on=date(2026, 1, 1))
    page = client.get(link(estate["owner"], estate["unit"]))
    [composition] = page.context["compositions"]
    assert composition.price == Decimal("2.0000")
    # 2.00 元/㎡/月 × 40% = 0.80; × 18% = 0.36; × 2% = 0.04; the shares add up to 100%
    assert [(item.percent, item.per_unit) for item in composition.items][:2] == [
        (Decimal("40.00"), Decimal("0.80")), (Decimal("18.00"), Decimal("0.36"))]
    assert sum(item.percent for item in composition.items) == Decimal("100")
    assert "管理服务人员的工资、社会保险和福利费" in page.content.decode()
