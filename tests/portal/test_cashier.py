"""The cashier desk: preview = what the ledger then writes, one transaction per payment with its
receipt, four-eyes reversals; and the staff pages over it (scope, permissions, the whole flow).

The estate fixture (tests/staff/conftest.py) on 2026-05-10: 阳光花园 3栋1单元1201, 王小明, ¥200.00 a
month billed Jan–Apr (due the 5th, 万分之五 a day), ¥200.00 paid on 01-20 (January's principal).
Owed: principal 600.00 (Feb, Mar, Apr) and late fees 1.50 + 9.40 + 6.60 + 3.50 = 21.00.
"""

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from arrears.collection.models import CaseStatus, CloseReason
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.estate.models import StaffScope
from arrears.ledger import selectors
from arrears.ledger.models import Allocation, Payment, PaymentReversal
from arrears.portal import cashier
from arrears.portal.models import Receipt, ReceiptCounter, RequestStatus, ReversalRequest
from tests import factories
from tests.collection.conftest import make_case
from tests.notices.test_pdf import text_of
from tests.staff import conftest as staff

TODAY = staff.TODAY
today, estate, insider, outsider, finance = staff.today, staff.estate, staff.insider, staff.outsider, staff.finance


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def other_finance(estate):
    user = factories.user("cashier2", groups=[roles.FINANCE])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


@pytest.fixture
def manager(estate):
    user = factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


def _take(estate, operator, amount="300.00", method="cash", reference="", **extra):
    return cashier.take_payment(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D(amount), method=method,
                                paid_on=TODAY, reference=reference, operator=operator, **extra)


def _owed(estate):
    s = selectors.unit_statement(estate["unit"].pk, TODAY)
    return s.principal, s.late_fee, s.prepaid


def _ledger_rows():
    return (Payment.objects.count(), Allocation.objects.count(), Receipt.objects.count(), PaymentReversal.objects.count(),
            list(ReceiptCounter.objects.values_list("last", flat=True)))


def _lines(preview):
    return [(line.charge_type, f"{line.period_start:%Y-%m}", line.component_label, line.amount) for line in preview.lines]


# -- preview ------------------------------------------------------------------------------------


def test_the_preview_puts_300_on_february_then_march_principal_and_writes_nothing(estate):
    before = _ledger_rows()

    preview = cashier.preview(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D("300.00"), paid_on=TODAY)

    # principal-first (the company's default): oldest principal first, late fees only after all principal.
    assert _lines(preview) == [("物业费", "2026-02", "本金", D("200.00")), ("物业费", "2026-03", "本金", D("100.00"))]
    assert (preview.amount, preview.credit, preview.allocated) == (D("300.00"), D("0.00"), D("300.00"))
    assert _ledger_rows() == before


def test_the_preview_follows_the_civil_code_rule_when_the_company_uses_it(estate):
    company = estate["community"].company
    company.allocation_rule = "civil-code"
    company.save()

    preview = cashier.preview(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D("300.00"), paid_on=TODAY)

    # 民法典第561条/第560条: per charge, oldest first, the late fee before the principal.
    assert _lines(preview) == [
        ("物业费", "2026-01", "违约金", D("1.50")),
        ("物业费", "2026-02", "违约金", D("9.40")), ("物业费", "2026-02", "本金", D("200.00")),
        ("物业费", "2026-03", "违约金", D("6.60")), ("物业费", "2026-03", "本金", D("82.50")),
    ]
    assert preview.credit == D("0.00")


def test_the_preview_shows_what_an_overpayment_leaves_as_credit(estate):
    preview = cashier.preview(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D("700.00"), paid_on=TODAY)

    # 600.00 principal, then the 21.00 of late fees, 79.00 left.
    assert sum((line.amount for line in preview.lines), D("0")) == D("621.00")
    assert preview.credit == D("79.00")


# -- taking money -------------------------------------------------------------------------------


def test_taking_300_cash_writes_what_the_preview_showed_with_a_receipt(estate, finance):
    preview = cashier.preview(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D("300.00"), paid_on=TODAY)

    payment = _take(estate, finance)

    assert (payment.amount, payment.unallocated, payment.method, payment.operator) == (D("300.00"), D("0.00"), "cash", finance)
    assert payment.receipt_number == "SJ2026-000001"
    written = [(a.charge_id, a.component, a.amount, a.value_date) for a in payment.allocations.order_by("charge__due_date")]
    assert written == [(line.charge_id, line.component, line.amount, TODAY) for line in preview.lines]
    receipt = Receipt.objects.get(payment=payment)
    assert receipt.number == "SJ2026-000001" and receipt.voided_at is None
    assert receipt.content["lines"] == [
        {"charge_type": "物业费", "period": "2026-02-01–2026-02-28", "principal": "200.00", "late_fee": "0.00",
         "amount": "200.00", "designated": False},
        {"charge_type": "物业费", "period": "2026-03-01–2026-03-31", "principal": "100.00", "late_fee": "0.00",
         "amount": "100.00", "designated": False},
    ]
    assert (receipt.content["amount"], receipt.content["credit"], receipt.content["channel"]) == ("300.00", "0.00", "前台收银")
    # Left: March 100.00 and April 200.00; the late fees stay 21.00 (paying today adds no day).
    assert _owed(estate) == (D("300.00"), D("21.00"), D("0"))
    event = AuditEvent.objects.get(action="cashier.payment")
    assert (event.actor, event.detail["receipt"], event.detail["amount"]) == (finance, "SJ2026-000001", "300.00")


def test_receipt_numbers_follow_each_other_and_a_refused_payment_uses_none(estate, finance):
    first = _take(estate, finance, "100.00", key="preview-1")
    with pytest.raises(DomainError) as refused:
        _take(estate, finance, "100.00", key="preview-1")  # the same confirmation again
    second = _take(estate, finance, "100.00", method="pos", reference="POS-778812", key="preview-2")

    assert refused.value.code == "duplicate"
    assert (first.receipt_number, second.receipt_number) == ("SJ2026-000001", "SJ2026-000002")
    assert list(Receipt.objects.order_by("number").values_list("number", flat=True)) == ["SJ2026-000001", "SJ2026-000002"]
    assert ReceiptCounter.objects.get().last == 2
    assert Payment.objects.filter(operator=finance).count() == 2


@pytest.mark.parametrize(("changes", "code"), [
    ({"method": "online"}, "method"),
    ({"method": "bank_transfer", "reference": "  "}, "reference"),
    ({"amount": "0.00"}, "amount"),
    ({"amount": "10.005"}, "amount"),
    ({"paid_on": date(2026, 5, 11)}, "future"),
])
def test_a_refused_payment_changes_nothing(estate, finance, changes, code):
    before, owed = _ledger_rows(), _owed(estate)
    values = {"unit_id": estate["unit"].pk, "owner_id": estate["owner"].pk, "amount": "300.00", "method": "cash",
              "paid_on": TODAY, "reference": "", "operator": finance, **changes}

    with pytest.raises(DomainError) as refused:
        cashier.take_payment(**values)

    assert refused.value.code == code
    assert refused.value.zh  # said in Chinese to the cashier
    assert _ledger_rows() == before and _owed(estate) == owed


def test_it_refuses_money_from_someone_who_never_owned_the_unit(estate, finance):
    before = _ledger_rows()

    with pytest.raises(DomainError) as refused:
        cashier.take_payment(unit_id=estate["unit"].pk, owner_id=estate["neighbour_owner"].pk, amount="300.00",
                             method="cash", paid_on=TODAY, reference="", operator=finance)

    assert refused.value.code == "not_owner"
    assert _ledger_rows() == before


def test_it_refuses_the_same_transfer_reference_twice_on_a_unit(estate, finance):
    _take(estate, finance, "100.00", method="bank_transfer", reference="ICBC-20260510-001")
    before = _ledger_rows()

    with pytest.raises(DomainError) as refused:
        _take(estate, finance, "100.00", method="bank_transfer", reference="ICBC-20260510-001")

    assert refused.value.code == "duplicate_reference" and "SJ2026-000001" in refused.value.zh
    assert _ledger_rows() == before


def test_a_desk_payment_that_clears_the_arrears_closes_the_case(estate, finance):
    case = make_case(estate["unit"], estate["owner"])

    _take(estate, finance, "621.00")

    case.refresh_from_db()
    assert (case.status, case.closed_on, case.close_reason) == (CaseStatus.CLOSED, TODAY, CloseReason.PAID)
    assert _owed(estate) == (D("0.00"), D("0.00"), D("0"))


def test_a_part_payment_leaves_the_case_open(estate, finance):
    case = make_case(estate["unit"], estate["owner"])

    _take(estate, finance, "300.00")

    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


# -- reversals ----------------------------------------------------------------------------------


@pytest.fixture
def taken(estate, finance):
    return _take(estate, finance, "300.00")


@pytest.fixture
def asked(taken, finance):
    return cashier.request_reversal(payment=taken, reason="金额录错，应为 200 元", requested_by=finance)


def test_the_requester_cannot_approve_their_own_reversal_and_nothing_changes(estate, asked, finance):
    before, owed = _ledger_rows(), _owed(estate)

    with pytest.raises(DomainError) as refused:
        cashier.approve_reversal(request=asked, approver=finance, on=TODAY)

    assert refused.value.code == "four_eyes" and "双人复核" in refused.value.zh
    asked.refresh_from_db()
    assert (asked.status, asked.decided_by, asked.reversal) == (RequestStatus.REQUESTED, None, None)
    assert _ledger_rows() == before and _owed(estate) == owed
    assert Receipt.objects.get(payment=asked.payment).voided_at is None


@pytest.mark.parametrize("approver_fixture", ["manager", "other_finance"])
def test_a_second_person_approves_the_reversal_the_ledger_owes_again_and_the_receipt_is_void(
        request, estate, asked, finance, approver_fixture):
    approver = request.getfixturevalue(approver_fixture)
    assert _owed(estate) == (D("300.00"), D("21.00"), D("0"))

    decided = cashier.approve_reversal(request=asked, approver=approver, on=TODAY)

    reversal = PaymentReversal.objects.get(payment=asked.payment)
    assert (decided.status, decided.decided_by, decided.reversal) == (RequestStatus.ACCEPTED, approver, reversal)
    assert (reversal.requested_by, reversal.approved_by, reversal.reversed_on) == (finance, approver, TODAY)
    assert _owed(estate) == (D("600.00"), D("21.00"), D("0"))  # back to what was owed before
    assert Receipt.objects.get(payment=asked.payment).voided_at is not None
    assert AuditEvent.objects.filter(action="cashier.reversal_approved", actor=approver).count() == 1
    with pytest.raises(DomainError) as again:
        cashier.approve_reversal(request=asked, approver=approver, on=TODAY)
    assert again.value.code == "decided"


def test_a_declined_request_leaves_the_payment(estate, asked, other_finance):
    before, owed = _ledger_rows(), _owed(estate)

    decided = cashier.decline_reversal(request=asked, decider=other_finance, note="业主确认金额无误")

    assert (decided.status, decided.decided_by, decided.decision_note) == (RequestStatus.DECLINED, other_finance, "业主确认金额无误")
    assert _ledger_rows() == before and _owed(estate) == owed
    assert Receipt.objects.get(payment=asked.payment).voided_at is None
    with pytest.raises(DomainError) as late:
        cashier.approve_reversal(request=asked, approver=other_finance, on=TODAY)
    assert late.value.code == "decided"


def test_declining_needs_a_note_and_a_second_person(asked, finance, other_finance):
    with pytest.raises(DomainError) as no_note:
        cashier.decline_reversal(request=asked, decider=other_finance, note=" ")
    with pytest.raises(DomainError) as own:
        cashier.decline_reversal(request=asked, decider=finance, note="撤回")

    assert (no_note.value.code, own.value.code) == ("note", "four_eyes")
    asked.refresh_from_db()
    assert asked.status == RequestStatus.REQUESTED


def test_a_reversal_needs_a_reason_and_only_one_open_request(estate, taken, asked, finance, other_finance):
    second = _take(estate, finance, "50.00")

    with pytest.raises(DomainError) as twice:
        cashier.request_reversal(payment=taken, reason="再申请一次", requested_by=other_finance)
    with pytest.raises(DomainError) as no_reason:
        cashier.request_reversal(payment=second, reason="  ", requested_by=finance)

    assert (twice.value.code, no_reason.value.code) == ("open_request", "reason")
    assert list(ReversalRequest.objects.values_list("payment_id", flat=True)) == [taken.pk]


# -- pages --------------------------------------------------------------------------------------


def _preview(client, estate, **changes):
    data = {"action": "preview", "owner": estate["owner"].pk, "amount": "300.00", "method": "cash",
            "paid_on": "2026-05-10", "reference": "", **changes}
    return client.post(reverse("staff:cashier", args=[estate["unit"].pk]), data)


def test_the_whole_desk_flow_preview_confirm_print(client, estate, finance):
    client.force_login(finance)
    url = reverse("staff:cashier", args=[estate["unit"].pk])

    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"].initial["amount"] == D("621.00")
    assert "¥621.00" in page.content.decode()

    previewed = _preview(client, estate)
    assert previewed.status_code == 200
    assert _lines(previewed.context["preview"]) == [("物业费", "2026-02", "本金", D("200.00")), ("物业费", "2026-03", "本金", D("100.00"))]
    assert "叁佰元整" in previewed.content.decode() and "确认收款" in previewed.content.decode()
    assert not Payment.objects.filter(operator=finance).exists()  # a preview takes nothing

    token = previewed.context["token"]
    confirmed = client.post(url, {"action": "confirm", "token": token})
    payment = Payment.objects.get(operator=finance)
    assert confirmed.status_code == 302 and confirmed.url == f"{url}?paid={payment.pk}#result"
    result = client.get(confirmed.url)
    html = result.content.decode()
    assert "SJ2026-000001" in html and "打印收据" in html and "已收款 ¥300.00，收据号 SJ2026-000001。" in html

    receipt = Receipt.objects.get(payment=payment)
    pdf = client.get(reverse("staff:receipt_pdf", args=[receipt.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = text_of(pdf.content)
    for expected in ("收款收据", "SJ2026-000001", "王小明", "300.00", "叁佰元整"):
        assert expected in text, expected

    again = client.post(url, {"action": "confirm", "token": token})  # the back button, or a second click
    assert again.status_code == 302 and again.url == url
    assert Payment.objects.filter(operator=finance).count() == 1


def test_with_two_current_owners_the_cashier_chooses_who_pays(client, estate, finance):
    spouse = factories.owner(estate["unit"], "王太太", start=date(2026, 5, 1))  # co-owner since May: nothing billed yet
    client.force_login(finance)

    page = client.get(reverse("staff:cashier", args=[estate["unit"].pk]))
    previewed = _preview(client, estate, owner=spouse.pk, amount="100.00")

    assert [account.owner.name for account in page.context["accounts"]] == ["王小明", "王太太"]
    assert [account.total for account in page.context["accounts"]] == [D("621.00"), D("0.00")]
    assert page.context["form"].fields["owner"].choices == [(estate["owner"].pk, "王小明"), (spouse.pk, "王太太")]
    assert (previewed.context["preview"].lines, previewed.context["preview"].credit) == ((), D("100.00"))
    assert previewed.context["preview_owner"] == spouse


def test_a_refused_preview_says_why_in_chinese_and_writes_nothing(client, estate, finance):
    client.force_login(finance)
    before = _ledger_rows()

    response = _preview(client, estate, method="bank_transfer", reference="")

    assert response.status_code == 200 and "preview" not in response.context
    assert "银行转账收款须填写交易参考号" in response.content.decode()
    assert _ledger_rows() == before


def test_a_collector_without_the_cashier_permission_gets_403(client, estate, insider):
    client.force_login(insider)

    assert client.get(reverse("staff:cashier", args=[estate["unit"].pk])).status_code == 403
    assert _preview(client, estate).status_code == 403
    html = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()
    assert reverse("staff:cashier", args=[estate["unit"].pk]) not in html and reverse("staff:reversals") not in html


def test_a_unit_out_of_scope_is_not_found(client, estate, finance):
    client.force_login(finance)
    far = estate["far_unit"]

    assert client.get(reverse("staff:cashier", args=[far.pk])).status_code == 404
    stranger = factories.user("far-cashier", groups=[roles.FINANCE])
    StaffScope.objects.create(user=stranger, community=far.community)
    receipt = Receipt.objects.get(payment=_take(estate, finance))
    client.force_login(stranger)
    assert client.get(reverse("staff:receipt_pdf", args=[receipt.pk])).status_code == 404


def test_the_unit_page_links_to_the_desk_for_finance(client, estate, finance):
    client.force_login(finance)

    html = client.get(reverse("staff:unit", args=[estate["unit"].pk])).content.decode()

    assert reverse("staff:cashier", args=[estate["unit"].pk]) in html
    assert reverse("staff:reversals") in html  # the nav link 冲正审批


def test_reversal_pages_four_eyes_then_approval_by_a_manager(client, estate, finance, manager, taken):
    url = reverse("staff:cashier", args=[estate["unit"].pk])
    client.force_login(finance)
    asked = client.post(url, {"action": "request_reversal", "payment": taken.pk, "reason": "重复收款"})
    assert asked.status_code == 302
    request = ReversalRequest.objects.get(payment=taken)
    assert (request.reason, request.requested_by) == ("重复收款", finance)

    page = client.get(reverse("staff:reversals")).content.decode()
    assert "重复收款" in page and "不能由您审批" in page and f'data-testid="approve-{request.pk}"' not in page
    refused = client.post(reverse("staff:reversals"), {"request": request.pk, "decision": "approve"}, follow=True)
    assert "不能审批自己提出的冲正申请" in refused.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.REQUESTED and not PaymentReversal.objects.exists()

    client.force_login(manager)
    page = client.get(reverse("staff:reversals")).content.decode()
    assert f'data-testid="approve-{request.pk}"' in page
    approved = client.post(reverse("staff:reversals"), {"request": request.pk, "decision": "approve"}, follow=True)
    assert "原收据已作废" in approved.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.ACCEPTED and request.reversal.approved_by == manager
    assert _owed(estate) == (D("600.00"), D("21.00"), D("0"))
    pdf = client.get(reverse("staff:receipt_pdf", args=[taken.receipt.pk]))
    assert "作废" in text_of(pdf.content)


def test_a_request_without_a_reason_is_refused_on_the_page(client, estate, finance, taken):
    client.force_login(finance)

    response = client.post(reverse("staff:cashier", args=[estate["unit"].pk]),
                           {"action": "request_reversal", "payment": taken.pk, "reason": ""}, follow=True)

    assert "申请冲正必须填写原因" in response.content.decode()
    assert not ReversalRequest.objects.exists()


def test_a_collector_may_not_decide_reversals(client, estate, insider, asked):
    client.force_login(insider)

    response = client.post(reverse("staff:reversals"), {"request": asked.pk, "decision": "approve"})

    assert response.status_code == 403
    asked.refresh_from_db()
    assert asked.status == RequestStatus.REQUESTED


def test_it_refuses_a_transfer_reference_stored_before_keys_had_a_normal_form(estate, finance, monkeypatch):
    # given: the voucher taken before the upgrade, its reference stored as typed (fullwidth: evidence, left as written)
    from tests.core.test_keys import as_typed

    with as_typed(monkeypatch):
        _take(estate, finance, "100.00", method="bank_transfer", reference="ＩＣＢＣ-20260510-001")
    before = _ledger_rows()
    # when: the same voucher is typed again, now in its normal form
    with pytest.raises(DomainError) as refused:
        _take(estate, finance, "100.00", method="bank_transfer", reference="ICBC-20260510-001")
    # then
    assert refused.value.code == "duplicate_reference"
    assert _ledger_rows() == before
