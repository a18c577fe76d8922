"""One bank transfer, one payment (issue 13, path 4): a reference is taken once per company and
method, by the services and again by the database; a reversed payment is entered again only by
naming it, and only once. Runs on SQLite and PostgreSQL; the races are in test_reference_races.py.

The estate fixture (tests/staff/conftest.py) on 2026-05-10: 阳光花园 3栋1单元1201 (王小明) and
5栋1单元1201 (赵邻居), ¥200.00 a month billed Jan–Apr.
"""

import importlib
from decimal import Decimal as D

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from arrears.core import roles
from arrears.core.db import create_trigger_sql, drop_trigger_sql
from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.estate.models import StaffScope
from arrears.ledger import append_only
from arrears.ledger.models import Payment, PaymentReversal
from arrears.portal import cashier, payments
from arrears.portal.models import NotificationOutcome, Receipt
from arrears.portal.providers import get_provider, reset_cache
from tests import factories
from tests.staff import conftest as staff

TODAY = staff.TODAY
today, estate, finance = staff.today, staff.estate, staff.finance
REF = "ICBC-20260510-001"
MIGRATION = importlib.import_module("arrears.ledger.migrations.0009_payment_reference_unique")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def approver(estate):
    user = factories.user("boss", groups=[roles.MANAGER])
    StaffScope.objects.create(user=user, community=estate["community"])
    return user


def _take(estate, operator, amount="100.00", *, unit="unit", owner="owner", method="bank_transfer", reference=REF,
          **extra):
    return cashier.take_payment(unit_id=estate[unit].pk, owner_id=estate[owner].pk, amount=D(amount), method=method,
                                paid_on=TODAY, reference=reference, operator=operator, **extra)


def _reverse(payment, requester, approver):
    request = cashier.request_reversal(payment=payment, reason="金额录错", requested_by=requester)
    cashier.approve_reversal(request=request, approver=approver, on=TODAY)


def _counts():
    return Payment.objects.count(), Receipt.objects.count()


# -- the desk ---------------------------------------------------------------------------------------


def test_it_refuses_a_transfer_reference_already_taken_on_another_unit_of_the_company(estate, finance):
    # given the transfer is recorded on 3栋1单元1201
    first = _take(estate, finance)
    before = _counts()
    # when a second desk enters the same transfer for the neighbour's unit (the old check looked at one unit only)
    with pytest.raises(DomainError) as refused:
        _take(estate, finance, unit="other_unit", owner="neighbour_owner")
    # then it is refused, naming the receipt that holds it, and nothing is written
    assert refused.value.code == "duplicate_reference"
    assert f"交易参考号 {REF} 已登记（收据号 {first.receipt_number}）" in refused.value.zh
    assert _counts() == before


def test_it_refuses_a_reference_that_differs_only_by_invisible_or_fullwidth_characters(estate, finance):
    _take(estate, finance)

    with pytest.raises(DomainError) as refused:
        _take(estate, finance, reference="ＩＣＢＣ-20260510-001\u200b")

    assert refused.value.code == "duplicate_reference"


def test_a_reference_is_unique_per_method_and_per_company(estate, finance):
    # given the transfer reference is taken
    _take(estate, finance)
    # when a POS voucher carries the same digits, and another company's desk takes the same reference
    pos = _take(estate, finance, method="pos")
    elsewhere = factories.community("别家小区", company_obj=factories.company("别家物业"))
    unit = factories.unit(elsewhere)
    owner = factories.owner(unit)
    other = cashier.take_payment(unit_id=unit.pk, owner_id=owner.pk, amount=D("50.00"), method="bank_transfer",
                                 paid_on=TODAY, reference=REF, operator=finance)
    # then both stand: a reference is one payment per company and method
    assert (pos.reference, other.reference) == (REF, REF)


def test_a_reversed_transfer_is_entered_again_only_by_naming_its_receipt_and_only_once(estate, finance, approver):
    # given a transfer taken with the wrong amount, and reversed (four eyes)
    wrong = _take(estate, finance, "1000.00")
    _reverse(wrong, finance, approver)
    before = _counts()
    # when the cashier enters the same reference again without saying it corrects the reversed receipt
    with pytest.raises(DomainError) as refused:
        _take(estate, finance, "100.00")
    # then it is refused, saying how to do it lawfully
    assert refused.value.code == "duplicate_reference"
    assert f"收据号 {wrong.receipt_number}，已冲正" in refused.value.zh and "更正的收据号" in refused.value.zh
    assert f"give {wrong.receipt_number} in “Receipt this corrects”" in refused.value.en  # the English field's name
    assert _counts() == before
    # when the correction names the reversed receipt
    right = _take(estate, finance, "100.00", corrects=wrong.receipt_number)
    # then it is taken, linked to the reversal it re-enters, with its own receipt
    assert right.corrects == PaymentReversal.objects.get(payment=wrong)
    assert Receipt.objects.filter(payment=right, voided_at__isnull=True).exists()
    # and neither a second correction of the same receipt nor a fresh entry takes the transfer again
    for extra in ({"corrects": wrong.receipt_number}, {}):
        with pytest.raises(DomainError) as again:
            _take(estate, finance, "100.00", **extra)
        assert again.value.code == "duplicate_reference"
        assert right.receipt_number in again.value.zh
    assert _counts() == (before[0] + 1, before[1] + 1)


def test_a_correction_of_a_correction_keeps_one_payment_in_force(estate, finance, approver):
    # given a transfer entered, reversed, entered again, and reversed again
    first = _take(estate, finance, "1000.00")
    _reverse(first, finance, approver)
    second = _take(estate, finance, "10.00", corrects=first.receipt_number)
    _reverse(second, finance, approver)
    # when the first (already re-entered) is named, it is refused; the latest reversed one is taken
    with pytest.raises(DomainError) as refused:
        _take(estate, finance, corrects=first.receipt_number)
    assert "已重新登记过" in refused.value.zh
    third = _take(estate, finance, corrects=second.receipt_number)
    # then exactly one payment of the reference is in force
    live = Payment.objects.filter(reference=REF, reversal__isnull=True)
    assert list(live) == [third]


@pytest.mark.parametrize("case", ["not_reversed", "other_reference", "unknown_receipt", "no_reference"])
def test_it_refuses_a_correction_that_names_the_wrong_payment(estate, finance, approver, case):
    other = _take(estate, finance, "50.00", reference="OTHER-1")
    if case != "not_reversed":
        _reverse(other, finance, approver)
    corrects = {"unknown_receipt": "SJ2026-999999"}.get(case, other.receipt_number)
    before = _counts()

    with pytest.raises(DomainError) as refused:
        _take(estate, finance, reference="" if case == "no_reference" else REF, method="cash" if case == "no_reference"
              else "bank_transfer", corrects=corrects)

    assert refused.value.code == "correction"
    assert _counts() == before
    # and the cashier is told what to do instead, not only that it is wrong
    expected = {
        "not_reversed": f"收据号 {other.receipt_number} 的缴费尚未冲正",
        "other_reference": f"收据号 {other.receipt_number} 的交易参考号是 OTHER-1",
        "unknown_receipt": "更正的收据号 SJ2026-999999 不存在",
        "no_reference": "重新登记冲正的缴费须填写原交易参考号",
    }[case]
    assert expected in refused.value.zh


def test_the_cashier_page_says_the_reference_is_taken_at_the_preview(client, estate, finance):
    first = _take(estate, finance)
    client.force_login(finance)

    page = client.post(reverse("staff:cashier", args=[estate["other_unit"].pk]), {
        "action": "preview", "owner": estate["neighbour_owner"].pk, "amount": "100.00", "method": "bank_transfer",
        "paid_on": "2026-05-10", "reference": REF,
    })

    assert f"交易参考号 {REF} 已登记（收据号 {first.receipt_number}）" in page.content.decode()
    assert 'name="token"' not in page.content.decode()  # no confirmation offered


# -- the database ---------------------------------------------------------------------------------


def test_the_database_refuses_a_second_payment_of_one_reference_however_it_is_written(estate, finance, approver):
    # given a transfer taken, reversed and re-entered through the desk
    first = _take(estate, finance, "1000.00")
    _reverse(first, finance, approver)
    right = _take(estate, finance, corrects=first.receipt_number)
    values = {"company": first.company, "community": first.community, "unit": first.unit, "owner": first.owner,
              "amount": D("100.00"), "unallocated": D("100.00"), "paid_on": TODAY, "method": "bank_transfer",
              "reference": REF}
    # when a script writes around the services: a fresh entry, or a second correction of the same reversal
    for extra in ({}, {"corrects": right.corrects}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Payment.objects.create(**values, **extra)
    # then the reference still has one payment in force
    assert list(Payment.objects.filter(reference=REF, reversal__isnull=True)) == [right]


def test_it_refuses_to_credit_one_trade_number_to_two_orders(estate, settings):
    # given one sandbox trade already credited to an order
    settings.PORTAL_PAYMENT_PROVIDERS = {"sandbox": {"BACKEND": "arrears.portal.providers.sandbox.SandboxProvider"}}
    reset_cache()
    provider = get_provider("sandbox")
    open_ids = [line.charge_id for line in cashier.owner_accounts(estate["unit"].pk, today=TODAY)[0].lines]
    first = payments.create_order(owner=estate["owner"], unit=estate["unit"], charge_ids=open_ids[:1], provider_code="sandbox")
    second = payments.create_order(owner=estate["owner"], unit=estate["unit"], charge_ids=open_ids[:1], provider_code="sandbox")
    headers, body = provider.notification_for(first, trade_no="T-1")
    payments.handle_notification(provider_code="sandbox", headers=headers, body=body)
    before = _counts()
    # when a notification names the same trade for another order
    headers, body = provider.notification_for(second, trade_no="T-1")
    handled = payments.handle_notification(provider_code="sandbox", headers=headers, body=body)
    # then it is kept, refused, and nothing is credited twice (no receipt number used up)
    assert handled.notification.outcome == NotificationOutcome.REFUSED
    assert "已登记" in handled.notification.reason
    assert _counts() == before
    reset_cache()


# -- the migration: existing repeats are linked or listed, never dropped ------------------------------


def test_the_migration_links_re_entries_and_lists_real_repeats(estate, finance, approver, capsys):
    # given the database as it stood before the constraint: its index gone, the old trigger in place
    frozen = append_only.PAYMENT
    previous = MIGRATION.Migration.operations[-1].previous
    constraint = next(c for c in Payment._meta.constraints if c.name == "payment_reference_unique")
    create_index = str(constraint.create_sql(Payment, connection.schema_editor()))  # the SQL only, not run
    with connection.cursor() as cursor:
        for sql in drop_trigger_sql(connection.vendor, frozen) + create_trigger_sql(connection.vendor, previous):
            cursor.execute(sql)
        cursor.execute(connection.ops.quote_name("payment_reference_unique").join(["DROP INDEX ", ""]))
    # and the repeats the old per-unit check let through
    reversed_one = _take(estate, finance, "1000.00")
    _reverse(reversed_one, finance, approver)
    values = {"company": reversed_one.company, "community": reversed_one.community, "amount": D("100.00"),
              "unallocated": D("100.00"), "paid_on": TODAY, "method": "bank_transfer", "reference": REF}
    re_entry = Payment.objects.create(unit=estate["unit"], owner=estate["owner"], **values)
    repeat = Payment.objects.create(unit=estate["other_unit"], owner=estate["neighbour_owner"], receipt_number="OLD-9",
                                    **values)
    # when the migration's data step runs
    MIGRATION.link_and_report_repeats(apps, connection.schema_editor())
    # then the re-entry corrects the reversal, the real repeat keeps its money but not the reference
    re_entry.refresh_from_db()
    repeat.refresh_from_db()
    assert re_entry.corrects == reversed_one.reversal and not re_entry.repeats_reference
    assert repeat.repeats_reference and repeat.corrects is None and repeat.amount == D("100.00")
    # and the repeat is listed on the console and in the audit log
    out = capsys.readouterr().out
    assert f"kept #{re_entry.pk}" in out and f"#{repeat.pk} OLD-9" in out
    event = AuditEvent.objects.get(action=MIGRATION.AUDIT_ACTION)
    assert (event.detail["holder"], event.detail["repeats"]) == (re_entry.pk, [repeat.pk])
    # and the constraint now builds, with the new trigger reinstalled
    with connection.cursor() as cursor:
        cursor.execute(create_index)
        for sql in drop_trigger_sql(connection.vendor, previous) + create_trigger_sql(connection.vendor, frozen):
            cursor.execute(sql)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(unit=estate["unit"], owner=estate["owner"], **values)
    # and the data step changed no money
    assert sorted(Payment.objects.filter(reference=REF).values_list("amount", flat=True)) == [
        D("100.00"), D("100.00"), D("1000.00")]


def test_the_admin_shows_which_reversal_a_payment_re_enters(admin_client, estate, finance, approver):
    wrong = _take(estate, finance, "1000.00")
    _reverse(wrong, finance, approver)
    right = _take(estate, finance, corrects=wrong.receipt_number)

    page = admin_client.get(reverse("admin:ledger_payment_change", args=[right.pk]))
    listing = admin_client.get(reverse("admin:ledger_payment_changelist"), {"repeats_reference__exact": "1"})

    assert page.status_code == 200 and "重新登记的冲正" in page.content.decode()
    assert listing.status_code == 200


def test_the_cashier_page_re_enters_a_reversed_transfer_through_preview_and_confirmation(client, estate, finance,
                                                                                        approver):
    # given a transfer taken with a wrong amount and reversed
    wrong = _take(estate, finance, "1000.00")
    _reverse(wrong, finance, approver)
    client.force_login(finance)
    url = reverse("staff:cashier", args=[estate["unit"].pk])
    form = {"action": "preview", "owner": estate["owner"].pk, "amount": "100.00", "method": "bank_transfer",
            "paid_on": "2026-05-10", "reference": REF, "corrects": wrong.receipt_number}
    # when the cashier previews it naming the reversed receipt, then confirms
    preview = client.post(url, form)
    assert 'data-testid="preview-corrects"' in preview.content.decode()
    client.post(url, {"action": "confirm", "token": preview.context["token"]})
    # then the new payment re-enters that reversal
    assert Payment.objects.get(reference=REF, reversal__isnull=True).corrects == wrong.reversal


def test_it_names_the_receipt_a_re_entered_payment_replaces_on_both_receipts(estate, finance, approver):
    # given a transfer taken with the wrong amount, reversed, and entered again naming its receipt
    from arrears.portal import receipts
    from tests.notices.test_pdf import text_of

    wrong = _take(estate, finance, "1000.00")
    _reverse(wrong, finance, approver)
    right = _take(estate, finance, "100.00", corrects=wrong.receipt_number)
    # when the owner's new receipt and the voided old one are printed
    new_text = text_of(receipts.receipt_pdf(Receipt.objects.get(payment=right)))
    old_text = text_of(receipts.receipt_pdf(Receipt.objects.get(payment=wrong)))
    # then the new one says which receipt it replaces (a reader with both in hand must not count two payments),
    # frozen in its content, and the voided one says which receipt replaced it
    assert Receipt.objects.get(payment=right).content["replaces"] == wrong.receipt_number
    assert f"本收据更正并取代收据{wrong.receipt_number}" in new_text
    assert f"已由收据{right.receipt_number}更正" in old_text and "作废" in old_text


@pytest.mark.parametrize("change", ["mark_as_repeat", "unmark_repeat", "unlink_correction", "relink_correction"])
def test_the_database_refuses_changing_a_payments_repeat_mark_or_correction_link(estate, finance, approver, change):
    # given a re-entered transfer, and an old repeat marked by the migration (written as the migration writes it)
    first = _take(estate, finance, "1000.00")
    _reverse(first, finance, approver)
    right = _take(estate, finance, corrects=first.receipt_number)
    other = _take(estate, finance, "20.00", reference="OTHER-1")
    _reverse(other, finance, approver)
    repeat = Payment.objects.create(company=first.company, community=first.community, unit=first.unit, owner=first.owner,
                                    amount=D("5.00"), unallocated=D("5.00"), paid_on=TODAY, method="pos",
                                    reference="POS-1", repeats_reference=True)
    target, values = {
        # marking a live payment as an old repeat would take it out of the unique index and let a second one in
        "mark_as_repeat": (right, {"repeats_reference": True}),
        "unmark_repeat": (repeat, {"repeats_reference": False}),
        "unlink_correction": (right, {"corrects": None}),
        "relink_correction": (right, {"corrects": other.reversal}),
    }[change]
    # when anyone changes them afterwards, around the services
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=target.pk).update(**values)
    # then the evidence stands as written
    target.refresh_from_db()
    assert (target.repeats_reference, target.corrects_id) == (
        target is repeat, None if target is repeat else first.reversal.pk)


def test_the_cashier_preview_shows_the_reference_as_it_will_be_recorded(client, estate, finance):
    # given a cashier who pasted a transfer serial with a fullwidth letter and an invisible space
    client.force_login(finance)
    url = reverse("staff:cashier", args=[estate["unit"].pk])
    # when they preview it
    page = client.post(url, {"action": "preview", "owner": estate["owner"].pk, "amount": "100.00",
                             "method": "bank_transfer", "paid_on": "2026-05-10", "reference": "ＩCBC-777\u200b"})
    # then the preview shows the reference as it will be recorded, so a typo is caught before confirming
    html = page.content.decode()
    assert 'data-testid="preview-reference"' in html and ">ICBC-777<" in html


def test_it_logs_each_refused_second_entry_of_a_reference_with_who_where_and_why(client, estate, finance):
    # given a transfer taken on 3栋1单元1201
    first = _take(estate, finance)
    client.force_login(finance)
    url = reverse("staff:cashier", args=[estate["other_unit"].pk])
    form = {"action": "preview", "owner": estate["neighbour_owner"].pk, "amount": "100.00", "method": "bank_transfer",
            "paid_on": "2026-05-10", "reference": REF}
    # when a cashier tries the same transfer on the neighbour's unit (refused at the preview)
    client.post(url, form)
    # then the refusal is in the audit log: who, which unit, which reference, which receipt holds it, and why
    event = AuditEvent.objects.get(action=cashier.REFUSED_ACTION)
    assert event.actor == finance and event.community_id == estate["community"].pk
    assert event.detail == {"unit": estate["other_unit"].pk, "step": "preview", "code": "duplicate_reference",
                            "method": "bank_transfer", "reference": REF, "corrects": "",
                            "reason": f"交易参考号 {REF} 已登记（收据号 {first.receipt_number}），请勿重复收款"}
