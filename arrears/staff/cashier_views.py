"""Cashier pages: take money at the counter after a preview of where it goes, print its receipt,
ask for and decide reversals. Thin over `arrears.portal.cashier`; scope by `units_visible_to`.

The preview stores what it showed under a one-time token in the session; "确认收款" takes exactly
that (not what the browser sends back), and the token is also the payment's idempotency key, so
a refresh, the back button or a double click never takes the same money twice.
"""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from arrears.core.errors import DomainError
from arrears.core.money import format_yuan
from arrears.estate import selectors as estate_selectors
from arrears.ledger.models import Payment
from arrears.notices.pdf import rmb_upper
from arrears.portal import cashier as desk
from arrears.portal import receipts
from arrears.portal.models import Receipt, RequestStatus, ReversalRequest
from arrears.staff.cashier_forms import DecisionForm, PaymentForm, ReversalRequestForm
from arrears.staff.collection_views import _domain_message, _form_errors, _require

SESSION_KEY = "cashier_previews"
PENDING_KEPT = 10  # previews a cashier may have open at once (tabs); older ones lapse


def _unit_in_scope(user, pk):
    units = estate_selectors.units_visible_to(user).select_related("community__company", "building")
    return get_object_or_404(units, pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def cashier(request, pk):
    _require(request.user, "ledger.add_payment")
    unit = _unit_in_scope(request.user, pk)
    today = timezone.localdate()
    accounts = desk.owner_accounts(unit.pk, today=today)
    owners = [account.owner for account in accounts]
    action = request.POST.get("action") if request.method == "POST" else None
    extra = {}
    if action == "request_reversal":
        return _request_reversal(request, unit)
    if action == "confirm":
        pending = _take_pending(request, request.POST.get("token", ""))
        if pending is None or pending["unit"] != unit.pk:
            messages.error(request, _("这笔收款已经确认过，或预览已失效：请重新预览后再确认。"))
            return redirect("staff:cashier", unit.pk)
        try:
            payment = desk.take_payment(
                unit_id=unit.pk, owner_id=pending["owner"], amount=Decimal(pending["amount"]), method=pending["method"],
                paid_on=date.fromisoformat(pending["paid_on"]), reference=pending["reference"], operator=request.user,
                key=pending["token"], charge_ids=pending.get("charges", []), corrects=pending.get("corrects", ""),
            )
        except DomainError as error:
            desk.record_refusal(operator=request.user, unit=unit, error=error, step="confirm", method=pending["method"],
                                reference=pending["reference"], corrects=pending.get("corrects", ""))
            form = PaymentForm(pending, owners=owners, accounts=accounts)
            form.is_valid()
            form.add_error(None, _domain_message(error))
        else:
            messages.success(request, _("已收款 ¥%(amount)s，收据号 %(number)s。") % {
                "amount": format_yuan(payment.amount, sign=False), "number": payment.receipt_number})
            return redirect(f"{reverse('staff:cashier', args=[unit.pk])}?paid={payment.pk}#result")
    elif action == "preview":
        form = PaymentForm(request.POST, owners=owners, accounts=accounts)
        if form.is_valid():
            data = form.cleaned_data
            try:
                reference = desk.check_method(method=data["method"], reference=data["reference"])
                desk.check_reference(unit=unit, method=data["method"], reference=reference, corrects=data["corrects"])
                extra["preview"] = desk.preview(unit_id=unit.pk, owner_id=data["owner"], amount=data["amount"],
                                                paid_on=data["paid_on"], charge_ids=data["charges"])
            except DomainError as error:
                desk.record_refusal(operator=request.user, unit=unit, error=error, step="preview", method=data["method"],
                                    reference=data["reference"], corrects=data["corrects"])
                form.add_error(None, _domain_message(error))
            else:
                extra["token"] = _keep_pending(request, unit, data, extra["preview"].designation)
                extra["preview_owner"] = next(o for o in owners if o.pk == data["owner"])
                extra["preview_method"] = dict(form.fields["method"].choices)[data["method"]]
                extra["preview_upper"] = rmb_upper(data["amount"])
                extra["preview_reference"] = reference  # as it will be recorded: a typo is caught here
    else:
        first = accounts[0] if accounts else None
        form = PaymentForm(owners=owners, accounts=accounts, initial={
            "owner": first.owner.pk if first else None, "amount": first.to_pay if first and first.to_pay else None,
            "method": "cash", "paid_on": today,
        })
    return _page(request, unit, accounts, form, today, **extra)


def _page(request, unit, accounts, form, today, **extra):
    paid = None
    if request.GET.get("paid", "").isascii() and request.GET.get("paid", "").isdigit():
        paid = (Payment.objects.filter(pk=int(request.GET["paid"]), unit=unit).select_related("receipt", "owner").first())
    return render(request, "staff/cashier.html", {
        "unit": unit, "accounts": accounts, "form": form, "today": today, "paid": paid,
        "paid_receipt": desk.related_or_none(paid, "receipt") if paid else None,
        "payments": desk.recent_payments(unit.pk),
        "may_request": request.user.has_perm("portal.add_reversalrequest"),
        **extra,
    })


def _keep_pending(request, unit, data, designation) -> str:
    token = secrets.token_urlsafe(16)
    pending = request.session.get(SESSION_KEY, {})
    pending[token] = {
        "token": token, "unit": unit.pk, "owner": data["owner"], "amount": str(data["amount"]), "method": data["method"],
        "paid_on": data["paid_on"].isoformat(), "reference": data["reference"], "charges": list(designation),
        "corrects": data["corrects"],
    }
    request.session[SESSION_KEY] = dict(list(pending.items())[-PENDING_KEPT:])
    return token


def _take_pending(request, token: str) -> dict | None:
    pending = request.session.get(SESSION_KEY, {})
    found = pending.pop(token, None) if token else None
    request.session[SESSION_KEY] = pending
    return found


def _request_reversal(request, unit):
    _require(request.user, "portal.add_reversalrequest")
    form = ReversalRequestForm(request.POST)
    target = reverse("staff:cashier", args=[unit.pk]) + "#payments"
    if not form.is_valid():
        messages.error(request, _("申请冲正必须填写原因。") if "reason" in form.errors else _form_errors(form))
        return redirect(target)
    payment = get_object_or_404(Payment, pk=form.cleaned_data["payment"], unit=unit)
    try:
        desk.request_reversal(payment=payment, reason=form.cleaned_data["reason"], requested_by=request.user)
    except DomainError as error:
        messages.error(request, _domain_message(error))
    else:
        messages.success(request, _("已提交冲正申请（收据号 %(number)s），等待另一位有权限的同事审批。") % {
            "number": payment.receipt_number or payment.pk})
    return redirect(target)


@login_required
@require_GET
def receipt_pdf(request, pk):
    _require(request.user, "portal.view_receipt")
    receipt = get_object_or_404(
        Receipt.objects.filter(payment__unit__in=estate_selectors.units_visible_to(request.user)), pk=pk)
    try:
        data = receipts.receipt_pdf(receipt)
    except DomainError as error:
        messages.error(request, _domain_message(error))
        return redirect("staff:unit", receipt.payment.unit_id)
    response = HttpResponse(data, content_type="application/pdf")
    suffix = "-void" if receipt.voided_at else ""
    response["Content-Disposition"] = f'inline; filename="{receipt.number}{suffix}.pdf"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def reversals(request):
    _require(request.user, "portal.view_reversalrequest")
    units = estate_selectors.units_visible_to(request.user)
    in_scope = ReversalRequest.objects.filter(payment__unit__in=units)
    if request.method == "POST":
        _require(request.user, "ledger.add_paymentreversal")
        _require(request.user, "portal.change_reversalrequest")
        form = DecisionForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest()
        decision = get_object_or_404(in_scope, pk=form.cleaned_data["request"])
        try:
            if form.cleaned_data["decision"] == "approve":
                desk.approve_reversal(request=decision, approver=request.user, on=timezone.localdate())
                messages.success(request, _("已冲正缴费（收据号 %(number)s），原收据已作废。") % {
                    "number": decision.payment.receipt_number or decision.payment_id})
            else:
                desk.decline_reversal(request=decision, decider=request.user, note=form.cleaned_data["note"])
                messages.success(request, _("已拒绝冲正申请（收据号 %(number)s），缴费保持不变。") % {
                    "number": decision.payment.receipt_number or decision.payment_id})
        except DomainError as error:
            messages.error(request, _domain_message(error))
        return redirect("staff:reversals")
    related = ("payment__unit__building", "payment__unit__community", "payment__owner", "payment__receipt", "requested_by",
               "decided_by")
    return render(request, "staff/cashier_reversals.html", {
        "open": in_scope.filter(status=RequestStatus.REQUESTED).select_related(*related).order_by("requested_at"),
        "decided": in_scope.exclude(status=RequestStatus.REQUESTED).select_related(*related).order_by("-decided_at")[:20],
        "may_decide": request.user.has_perm("ledger.add_paymentreversal") and request.user.has_perm("portal.change_reversalrequest"),
    })
