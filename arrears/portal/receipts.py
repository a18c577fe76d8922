"""Receipts: a unique number per company and year, content frozen when the payment is taken.

The PDF is rendered from the frozen content on first download and kept with its SHA-256, so a
receipt printed twice is the same document.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from arrears.collection.incentives import waive_late_fees
from arrears.collection.run import close_if_cleared
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.core.money import ZERO
from arrears.ledger.models import Allocation, Component, IncentiveGrant, Payment
from arrears.ledger.services import record_payment
from arrears.portal.models import Receipt, ReceiptCounter
from arrears.portal.receipt_pdf import render_receipt


def next_number(*, company_id: int, year: int) -> str:
    """The next receipt number (SJ2026-000001): taken under a row lock, so it never repeats or skips."""
    with transaction.atomic():
        ReceiptCounter.objects.get_or_create(company_id=company_id, year=year)
        counter = ReceiptCounter.objects.select_for_update().get(company_id=company_id, year=year)
        ReceiptCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
        return f"SJ{year}-{counter.last + 1:06d}"


def unit_label(unit) -> str:
    """3栋1单元1201: how owners and receipts name a unit."""
    entrance = f"{unit.entrance}单元" if unit.entrance else ""
    return f"{unit.building.name}{entrance}{unit.room}"


def receipt_content(payment: Payment, *, channel_label: str = "") -> dict:
    """What the receipt says, read once from the ledger right after the payment was allocated."""
    payment = Payment.objects.select_related("unit__building", "unit__community__company", "owner", "operator",
                                             "corrects__payment").get(pk=payment.pk)
    rows = (
        Allocation.objects.filter(payment=payment, reversal__isnull=True)
        .select_related("charge__charge_type").order_by("charge__due_date", "charge_id", "component")
    )
    designated = set(payment.designation)
    lines = {}  # one line per charge: its principal and its late fee (of every month) paid by this payment
    for row in rows:
        line = lines.setdefault(row.charge_id, {
            "charge_type": row.charge.charge_type.name,
            "period": f"{row.charge.period_start:%Y-%m-%d}–{row.charge.period_end:%Y-%m-%d}",
            "principal": ZERO, "late_fee": ZERO,
            "designated": row.charge_id in designated,  # 民法典第560条: put here because the payer chose it
        })
        line["principal" if row.component == Component.PRINCIPAL else "late_fee"] += row.amount
    lines = [{**line, "principal": str(line["principal"]), "late_fee": str(line["late_fee"]),
              "amount": str(line["principal"] + line["late_fee"])} for line in lines.values()]
    allocated = sum((row.amount for row in rows), ZERO)
    community = payment.unit.community
    # Discounts and waivers this payment earned (seed 000), each with its programme: not money, so not in the total.
    discounts = [
        {"programme": grant.programme.name, "kind": grant.get_kind_display(), "charge_type": grant.charge.charge_type.name,
         "period": f"{grant.charge.period_start:%Y-%m-%d}–{grant.charge.period_end:%Y-%m-%d}",
         "component": grant.get_component_display(), "amount": str(grant.amount)}
        for grant in IncentiveGrant.objects.filter(payment=payment, withdraws__isnull=True)
        .select_related("programme", "charge__charge_type").order_by("charge__due_date", "pk")
    ]
    return {
        "company": community.company.name,
        "company_phone": community.company.phone,
        "community": community.name,
        "unit": unit_label(payment.unit),
        "owner": payment.owner.name,
        "amount": str(payment.amount),
        "paid_on": payment.paid_on.isoformat(),
        "method": payment.get_method_display(),
        "channel": channel_label,
        "reference": payment.reference,
        "lines": lines,
        "credit": str(payment.amount - allocated),
        "discounts": discounts,
        # The owner reads this: a real name (or title), never a login such as "cashier1".
        "operator": roles.staff_name(payment.operator) if payment.operator else "",
        # A re-entry of a reversed payment names the receipt it replaces: with both in hand, nobody counts two payments.
        "replaces": payment.corrects.payment.receipt_number if payment.corrects_id else "",
    }


def issue_receipt(payment: Payment, *, number: str, at: datetime | None = None, channel_label: str = "") -> Receipt:
    """The receipt of a payment just taken (its number is already the payment's receipt_number)."""
    if Receipt.objects.filter(payment=payment).exists():
        raise DomainError("该笔缴费已开具收据", "this payment already has a receipt", code="receipt_exists")
    return Receipt.objects.create(
        company_id=payment.company_id, community_id=payment.community_id, payment=payment, number=number,
        issued_at=at or timezone.now(), content=receipt_content(payment, channel_label=channel_label),
    )


@transaction.atomic
def record_with_receipt(*, unit_id: int, owner_id: int, amount, paid_on, method: str, reference: str, number: str,
                        operator=None, channel_label: str = "", designation=(), corrects_id=None) -> Payment:
    """Money taken online or at the desk: record it (first to the payer's designated charges, then
    by the ledger's rule) under its receipt number, issue the receipt, and close the owner's case
    at once if nothing is overdue any more."""
    payment = record_payment(unit_id=unit_id, owner_id=owner_id, amount=amount, paid_on=paid_on, method=method,
                             reference=reference, receipt_number=number, operator=operator, designation=designation,
                             corrects_id=corrects_id)
    # The late fee of an owner who paid the principal soon after the first reminder is waived now, on this receipt.
    waive_late_fees(as_of=paid_on, pairs=[(unit_id, owner_id)], payment_id=payment.pk)
    issue_receipt(payment, number=number, channel_label=channel_label)
    close_if_cleared(unit_id=unit_id, owner_id=owner_id, as_of=paid_on)
    return payment


def receipt_pdf(receipt: Receipt) -> bytes:
    """The receipt's PDF: rendered once from the frozen content, then read from storage."""
    if receipt.pdf:
        with receipt.pdf.open("rb") as handle:
            return handle.read()
    voided = receipt.voided_at is not None
    data = render_receipt(number=receipt.number, issued_at=timezone.localtime(receipt.issued_at),
                          content=receipt.content, voided=voided, replaced_by=replaced_by(receipt) if voided else "")
    with transaction.atomic():
        locked = Receipt.objects.select_for_update().get(pk=receipt.pk)
        if not locked.pdf and locked.voided_at is None:
            locked.pdf.save(f"{receipt.number}.pdf", ContentFile(data), save=False)
            locked.pdf_sha256 = hashlib.sha256(data).hexdigest()
            locked.save(update_fields=["pdf", "pdf_sha256"])
    return data


def replaced_by(receipt: Receipt) -> str:
    """The receipt of the payment that re-entered this receipt's reversed payment, if any (a voided PDF is not kept)."""
    return (Payment.objects.filter(corrects__payment_id=receipt.payment_id).values_list("receipt_number", flat=True)
            .first() or "")


def void_receipt(payment: Payment, *, at: datetime) -> None:
    """A reversed payment's receipt is void: it stays on record, marked, and its PDF says 作废."""
    Receipt.objects.filter(payment=payment, voided_at__isnull=True).update(voided_at=at, pdf="", pdf_sha256="")
