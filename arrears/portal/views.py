"""The owner's pages, opened from a signed link: thin views over `statements`, `payments` and `requests`.

No login: the token is the key. Every page answers 404 for a bad, expired or revoked token (the
same answer, so a guesser learns nothing), sends no Referer (the token must not leak to a
provider's page) and is never cached.
"""

from __future__ import annotations

from functools import wraps

import segno
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from arrears.core.errors import DomainError
from arrears.core.ratelimit import client_address, rate_limited
from arrears.estate.models import Satisfaction, Unit
from arrears.portal import payments, receipts, statements, wechat
from arrears.portal import requests as owner_requests
from arrears.portal.models import (
    Complaint,
    InstalmentRequest,
    OrderStatus,
    PaymentOrder,
    Receipt,
    RequestStatus,
    SurveyResponse,
)
from arrears.portal.providers import enabled_providers, get_provider
from arrears.portal.statements import resolve_token


def owner_page(view):
    """Resolve the token (404 when it is not valid) and harden the response."""

    @wraps(view)
    def wrapped(request, token, *args, **kwargs):
        access = resolve_token(token)
        if access is None:
            response = render(request, "portal/invalid.html", {"office": statements.office_for(token)}, status=404)
        else:
            response = view(request, access, token, *args, **kwargs)
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        add_never_cache_headers(response)
        return response

    return wrapped


@rate_limited("page")
@owner_page
def statement(request, access, token):
    if wechat.should_authorize(owner=access.owner, user_agent=request.META.get("HTTP_USER_AGENT", ""),
                               session=request.session, token=token):
        callback = settings.ARREARS_PUBLIC_URL.rstrip("/") + reverse("portal:wechat", args=[token])
        return redirect(wechat.authorize_url(token=token, callback_url=callback, session=request.session))
    today = timezone.localdate()
    accounts = statements.accounts(access, today=today)
    pending = InstalmentRequest.objects.filter(owner=access.owner, status=RequestStatus.REQUESTED).first()
    answered = InstalmentRequest.objects.filter(owner=access.owner).exclude(status=RequestStatus.REQUESTED).first()
    providers = enabled_providers()
    return render(request, "portal/statement.html", {
        "access": access, "token": token, "accounts": accounts, "today": today,
        "company": access.owner.community.company, "community": access.unit.community,
        "compositions": statements.fee_compositions(access.unit, today=today),
        "receipts": statements.receipts_of(access),
        # No provider: no pay button; the page says where and how to pay (the letters' bank account).
        "providers": providers, "sandbox": any(p.code == "sandbox" for p in providers),
        "bank": settings.ARREARS_BANK_ACCOUNT,
        "months": owner_requests.plan_months_offered(access.unit.community_id),
        "pending_request": pending, "last_request": answered,
        # One account to pay: its total and pay button stay on screen; several: each bar sticks within its account.
        "fixed_bar": bool(providers) and sum(1 for account in accounts if account.lines) == 1,
        "complaints": Complaint.objects.filter(owner=access.owner).select_related("ticket", "dispute")[:5],
    })


@rate_limited("page")
@owner_page
def wechat_callback(request, access, token):
    """WeChat's redirect after the owner's authorisation: bind the openid if all checks hold, then the statement."""
    wechat.complete(owner=access.owner, unit_id=access.unit.pk, token=token, code=request.GET.get("code", ""),
                    state=request.GET.get("state", ""), session=request.session)
    return redirect(reverse("portal:statement", args=[token]))


def _say(request, error: DomainError) -> None:
    """Errors travel in the session, never in the URL: a crafted link must not put words on our page."""
    messages.error(request, error.localized)


def _back(request, token, error: DomainError | None = None, anchor: str = ""):
    if error is not None:
        _say(request, error)
    return redirect(reverse("portal:statement", args=[token]) + anchor)


def _unit_of(access, raw) -> Unit:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise Http404 from None
    unit = next((u for u in access.units if u.pk == pk), None)
    if unit is None:  # another owner's unit: the same answer as a unit that does not exist
        raise Http404
    return unit


def _is_mobile(request) -> bool:
    agent = request.META.get("HTTP_USER_AGENT", "")
    return any(mark in agent for mark in ("Mobile", "Android", "iPhone", "MicroMessenger"))


@require_POST
@rate_limited("pay")
@owner_page
def pay(request, access, token):
    unit = _unit_of(access, request.POST.get("unit"))
    try:
        charge_ids = [int(pk) for pk in request.POST.getlist("charge")]
        order = payments.create_order(owner=access.owner, unit=unit, charge_ids=charge_ids,
                                      provider_code=request.POST.get("provider", ""))
        order_url = request.build_absolute_uri(reverse("portal:order", args=[token, order.number]))
        notify_url = settings.ARREARS_PUBLIC_URL.rstrip("/") + reverse("portal:notify", args=[order.provider])
        checkout = payments.start_checkout(order, mobile=_is_mobile(request), return_url=order_url, notify_url=notify_url,
                                           client_ip=client_address(request))
    except ValueError:
        return _back(request, token, DomainError("请选择要缴纳的费用", "choose the charges to pay"), "#pay")
    except DomainError as exc:
        return _back(request, token, exc, "#pay")
    if checkout.kind == "qr":
        return redirect(reverse("portal:order", args=[token, order.number]))
    return redirect(checkout.url)


def _order_of(access, number) -> PaymentOrder:
    order = PaymentOrder.objects.filter(number=number, owner=access.owner).select_related("payment__receipt", "unit__building").first()
    if order is None:
        raise Http404
    return order


@rate_limited("page")
@owner_page
def order(request, access, token, number):
    order = _order_of(access, number)
    qr_svg = ""
    if order.status == OrderStatus.CREATED and order.checkout_url.startswith("weixin://"):
        qr_svg = segno.make(order.checkout_url, error="m").svg_inline(scale=5)
    receipt = getattr(order.payment, "receipt", None) if order.payment_id else None
    survey_done = order.payment_id is not None and SurveyResponse.objects.filter(payment_id=order.payment_id).exists()
    return render(request, "portal/order.html", {
        "access": access, "token": token, "order": order, "receipt": receipt, "qr_svg": qr_svg,
        "survey_done": survey_done, "satisfaction": Satisfaction.choices,
        "expired": order.status == OrderStatus.CREATED and order.expires_at < timezone.now(),
    })


@rate_limited("page")
@owner_page
def receipt(request, access, token, number):
    found = (Receipt.objects.filter(number=number, payment__owner=access.owner, payment__unit_id__in=[u.pk for u in access.units])
             .select_related("payment").first())
    if found is None:
        raise Http404
    response = HttpResponse(receipts.receipt_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{found.number}.pdf"'
    return response


@require_POST
@rate_limited("pay")
@owner_page
def instalment(request, access, token):
    unit = _unit_of(access, request.POST.get("unit"))
    try:
        owner_requests.request_instalments(owner=access.owner, unit=unit, months=int(request.POST.get("months", "0")),
                                           note=request.POST.get("note", ""))
    except ValueError:
        return _back(request, token, DomainError("分期月数须为 3–6 个月", "a plan runs 3 to 6 months"), "#instalments")
    except DomainError as exc:
        return _back(request, token, exc, "#instalments")
    return _back(request, token, anchor="#instalments")


@require_POST
@rate_limited("pay")
@owner_page
def complaint(request, access, token):
    unit = _unit_of(access, request.POST.get("unit"))
    raw = request.POST.get("charge", "")
    try:
        owner_requests.submit_complaint(owner=access.owner, unit=unit, text=request.POST.get("text", ""),
                                        charge_id=int(raw) if raw else None)
    except ValueError:
        return _back(request, token, DomainError("所选费用不存在或已结清", "the chosen charge is not open"), "#complaints")
    except DomainError as exc:
        return _back(request, token, exc, "#complaints")
    return _back(request, token, anchor="#complaints")


@require_POST
@rate_limited("pay")
@owner_page
def survey(request, access, token, number):
    order = _order_of(access, number)
    if order.payment_id is None:
        raise Http404
    url = reverse("portal:order", args=[token, order.number])
    try:
        owner_requests.answer_survey(payment=order.payment, payment_experience=request.POST.get("payment_experience", ""),
                                     service=request.POST.get("service", ""), comment=request.POST.get("comment", ""))
    except DomainError as exc:
        _say(request, exc)
    return redirect(url + "#survey")


def _same_site(url: str, request) -> bool:
    return url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure())


@rate_limited("pay")
def sandbox_pay(request, number):
    """The sandbox 'provider's' pay page: pay or cancel; paying sends a signed notification like a provider."""
    if "sandbox" not in settings.PORTAL_PAYMENT_PROVIDERS:
        raise Http404
    order = get_object_or_404(PaymentOrder, number=number, provider="sandbox")
    back = request.POST.get("return") or request.GET.get("return") or ""
    if not _same_site(back, request):
        back = ""
    if request.method == "POST" and order.status == OrderStatus.CREATED:
        provider = get_provider("sandbox")
        if request.POST.get("action") == "pay":
            headers, body = provider.notification_for(order, trade_no=f"SB{order.number[2:]}")
            payments.handle_notification(provider_code="sandbox", headers=headers, body=body)
        else:
            PaymentOrder.objects.filter(pk=order.pk, status=OrderStatus.CREATED).update(
                status=OrderStatus.CLOSED, closed_at=timezone.now())
        if back:
            return redirect(back)
        order.refresh_from_db()
    response = render(request, "portal/sandbox.html", {"order": order, "back": back})
    response["Referrer-Policy"] = "same-origin"
    add_never_cache_headers(response)
    return response


@csrf_exempt
@require_POST
@rate_limited("notify")
def notify(request, provider):
    """A provider's asynchronous notification: verified, matched and credited once (payments.handle_notification)."""
    if provider not in settings.PORTAL_PAYMENT_PROVIDERS:
        raise Http404
    handled = payments.handle_notification(provider_code=provider, headers=request.META | dict(request.headers),
                                           body=request.body)
    return HttpResponse(handled.ack.body, status=handled.ack.status, content_type=handled.ack.content_type)
