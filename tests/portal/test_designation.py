"""The payer chooses (民法典第560条): the owner's ticked charges in the portal and the cashier's
ticked charges at the desk take the money first; a disputed charge is paid only when chosen; the
receipt lists what was paid and marks what was designated.

The estate fixture (tests/staff/conftest.py) on 2026-05-10: 3栋1单元1201, 王小明, 200.00 a month
billed Jan–Apr (due the 5th, 万分之五 a day), 200.00 paid on 01-20 (January's principal). Open today:
January's late fee 1.50 (15 days), February 200.00 + 9.40, March 200.00 + 6.60, April 200.00 + 3.50.
"""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.cache import cache
from django.urls import reverse

from arrears.collection import services as collection_services
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.ledger.models import Allocation, Charge, Payment, PaymentReversal
from arrears.notices.context import statement_token
from arrears.portal import cashier, payments
from arrears.portal.models import OrderStatus, PaymentOrder, Receipt, ReceiptCounter
from arrears.portal.providers import get_provider, reset_cache
from arrears.portal.receipt_pdf import render_receipt
from tests.notices.test_pdf import text_of
from tests.staff import conftest as staff

TODAY = staff.TODAY
today, estate, finance = staff.today, staff.estate, staff.finance


@pytest.fixture(autouse=True)
def _sandbox(settings, tmp_path):
    settings.PORTAL_PAYMENT_PROVIDERS = {"sandbox": {"BACKEND": "arrears.portal.providers.sandbox.SandboxProvider"}}
    settings.MEDIA_ROOT = tmp_path
    reset_cache()
    cache.clear()
    yield
    reset_cache()


def months(estate) -> dict[int, Charge]:
    return {c.period_start.month: c for c in Charge.objects.filter(unit=estate["unit"], owner=estate["owner"])}


def written(payment) -> list[tuple]:
    return [(a.charge.period_start.month, a.component, a.amount)
            for a in payment.allocations.select_related("charge").order_by("charge__due_date", "pk")]


def dispute(charge):
    return collection_services.open_dispute(charge=charge, reason="面积有误", staff=None, opened_on=TODAY)


def ledger_rows():
    return (Payment.objects.count(), Allocation.objects.count(), Receipt.objects.count(), PaymentReversal.objects.count(),
            list(ReceiptCounter.objects.values_list("last", flat=True)))


def take(estate, operator, amount, charge_ids=()):
    return cashier.take_payment(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D(amount), method="cash",
                                paid_on=TODAY, reference="", operator=operator, charge_ids=charge_ids)


# -- the owner's portal -------------------------------------------------------------------------


def test_an_owner_who_disputes_january_and_pays_only_april_pays_april_only(client, estate):
    # given: the company allocates by the civil code (which by itself would take January's late fee first)
    company = estate["community"].company
    company.allocation_rule = "civil-code"
    company.save()
    charge = months(estate)
    token = statement_token(estate["owner"].pk, estate["unit"].pk, estate["owner"].link_generation)
    client.post(reverse("portal:complaint", args=[token]), {"unit": estate["unit"].pk, "charge": charge[1].pk,
                                                            "text": "一月份的费用有误"})
    assert Charge.objects.get(pk=charge[1].pk).on_hold is True
    # when: the owner ticks April only and pays it with the sandbox
    started = client.post(reverse("portal:pay", args=[token]), {"unit": estate["unit"].pk, "charge": [charge[4].pk],
                                                                 "provider": "sandbox"})
    order = PaymentOrder.objects.get()
    client.post(started.url, {"action": "pay"})
    # then: 203.50 on April alone (第561条 within it: its 3.50 late fee, then its principal); January untouched
    order.refresh_from_db()
    assert (order.amount, order.status) == (D("203.50"), OrderStatus.PAID)
    assert order.payment.designation == [charge[4].pk]
    assert written(order.payment) == [(4, "late_fee", D("3.50")), (4, "principal", D("200.00"))]
    assert list(charge[1].allocations.values_list("amount", "value_date")) == [(D("200.00"), date(2026, 1, 20))]
    assert not Allocation.objects.filter(charge__in=[charge[2], charge[3]]).exists()
    # and the receipt lists April on one line (principal and late fee), marked as the payer's designation
    receipt = Receipt.objects.get(payment=order.payment)
    assert receipt.content["lines"] == [
        {"charge_type": "物业费", "period": "2026-04-01–2026-04-30", "principal": "200.00", "late_fee": "3.50",
         "amount": "203.50", "designated": True},
    ]
    assert receipt.content["credit"] == "0.00"


def test_a_chosen_charge_settled_before_the_notification_does_not_refuse_the_money(estate, finance):
    # given: an order for April, then April paid at the desk before the provider's notification arrives
    charge = months(estate)
    order = payments.create_order(owner=estate["owner"], unit=estate["unit"], charge_ids=[charge[4].pk],
                                  provider_code="sandbox")
    take(estate, finance, "203.50", charge_ids=[charge[4].pk])
    # when
    headers, body = get_provider("sandbox").notification_for(order, trade_no="T-LATE")
    payments.handle_notification(provider_code="sandbox", headers=headers, body=body)
    # then: the money is taken by the company's rule (February's principal first), not refused
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payment.designation == []
    assert written(order.payment) == [(2, "principal", D("200.00")), (3, "principal", D("3.50"))]


# -- the cashier desk ---------------------------------------------------------------------------


def test_the_cashier_designates_march_only_and_march_is_paid(estate, finance):
    # given
    charge = months(estate)
    # when: 206.60, March's principal and its 66 days' late fee
    payment = take(estate, finance, "206.60", charge_ids=[charge[3].pk])
    # then
    assert written(payment) == [(3, "principal", D("200.00")), (3, "late_fee", D("6.60"))]
    assert payment.designation == [charge[3].pk]
    assert AuditEvent.objects.get(action="cashier.payment").detail["designation"] == [charge[3].pk]


def test_without_a_designation_the_rule_passes_a_disputed_charge_by(estate, finance):
    # given: February under dispute
    charge = months(estate)
    dispute(charge[2])
    # when: 300.00 with nothing ticked
    preview = cashier.preview(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D("300.00"), paid_on=TODAY)
    payment = take(estate, finance, "300.00")
    # then: principal-first goes to the next oldest, March, then April; February untouched
    assert written(payment) == [(3, "principal", D("200.00")), (4, "principal", D("100.00"))]
    assert [(line.charge_id, line.amount, line.designated) for line in preview.lines] == [
        (charge[3].pk, D("200.00"), False), (charge[4].pk, D("100.00"), False)]
    assert not charge[2].allocations.exists()


def test_designating_another_units_charge_at_the_desk_is_refused_and_writes_nothing(estate, finance):
    # given
    theirs = Charge.objects.filter(unit=estate["other_unit"]).first()
    before = ledger_rows()
    # when
    with pytest.raises(DomainError) as refused:
        take(estate, finance, "200.00", charge_ids=[theirs.pk])
    with pytest.raises(DomainError) as previewed:
        cashier.preview(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D("200.00"), paid_on=TODAY,
                        charge_ids=[theirs.pk])
    # then
    assert (refused.value.code, previewed.value.code) == ("designation", "designation")
    assert "不是该业主在此房屋的费用" in refused.value.zh and "not a charge of this owner" in refused.value.en
    assert ledger_rows() == before


def test_the_desk_page_ticks_march_previews_it_takes_it_and_prints_the_lines(client, estate, finance):
    # given: February under dispute
    client.force_login(finance)
    url = reverse("staff:cashier", args=[estate["unit"].pk])
    charge = months(estate)
    dispute(charge[2])
    page = client.get(url).content.decode()
    assert f'data-testid="held-{charge[2].pk}"' in page and f'name="charges" value="{charge[3].pk}"' in page
    # when: the owner designates March and hands over 250.00
    previewed = client.post(url, {"action": "preview", "owner": estate["owner"].pk, "amount": "250.00", "method": "cash",
                                  "paid_on": "2026-05-10", "reference": "", "charges": [charge[3].pk]})
    preview = previewed.context["preview"]
    confirmed = client.post(url, {"action": "confirm", "token": previewed.context["token"]})
    # then: March first (206.60), the 43.40 left by the rule to the oldest open principal not disputed: April
    assert [(line.charge_id, line.component, line.amount, line.designated) for line in preview.lines] == [
        (charge[3].pk, "late_fee", D("6.60"), True), (charge[3].pk, "principal", D("200.00"), True),
        (charge[4].pk, "principal", D("43.40"), False)]
    assert 'data-testid="preview-designated"' in previewed.content.decode()
    payment = Payment.objects.get(operator=finance)
    assert confirmed.status_code == 302 and payment.designation == [charge[3].pk]
    assert written(payment) == [(3, "principal", D("200.00")), (3, "late_fee", D("6.60")), (4, "principal", D("43.40"))]
    pdf = client.get(reverse("staff:receipt_pdf", args=[payment.receipt.pk]))
    text = text_of(pdf.content)
    for expected in ("物业费（指定）", "2026-03-01–2026-03-31", "200.00", "6.60", "43.40", "第五百六十条", "贰佰伍拾元整"):
        assert expected in text, expected


def test_a_ticked_charge_of_another_unit_is_refused_on_the_page(client, estate, finance):
    # given
    client.force_login(finance)
    theirs = Charge.objects.filter(unit=estate["other_unit"]).first()
    before = ledger_rows()
    # when
    response = client.post(reverse("staff:cashier", args=[estate["unit"].pk]), {
        "action": "preview", "owner": estate["owner"].pk, "amount": "200.00", "method": "cash", "paid_on": "2026-05-10",
        "reference": "", "charges": [theirs.pk]})
    # then
    assert response.status_code == 200 and "preview" not in response.context
    assert "charges" in response.context["form"].errors
    assert ledger_rows() == before


# -- the receipt --------------------------------------------------------------------------------


def test_the_receipt_lists_each_charge_once_and_what_stays_as_credit(estate, finance):
    # given
    charge = months(estate)
    # when: 700.00 designating April: 203.50 on it, the other 417.50 owed by the rule, 79.00 left
    payment = take(estate, finance, "700.00", charge_ids=[charge[4].pk])
    # then
    receipt = Receipt.objects.get(payment=payment)
    lines = [(line["period"][:7], line["principal"], line["late_fee"], line["amount"], line["designated"])
             for line in receipt.content["lines"]]
    assert lines == [
        ("2026-01", "0.00", "1.50", "1.50", False),
        ("2026-02", "200.00", "9.40", "209.40", False),
        ("2026-03", "200.00", "6.60", "206.60", False),
        ("2026-04", "200.00", "3.50", "203.50", True),
    ]  # 1.50 + 209.40 + 206.60 + 203.50 = 621.00, and 79.00 credit: 700.00
    assert receipt.content["credit"] == "79.00"
    text = text_of(render_receipt(number=receipt.number, issued_at=receipt.issued_at, content=receipt.content, voided=False))
    for expected in ("物业费（指定）", "预存款（未冲抵）", "79.00", "异议处理中的费用不会被自动冲抵"):
        assert expected in text, expected
