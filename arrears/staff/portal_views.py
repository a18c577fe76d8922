"""What owners sent from their links, for staff to answer; revoking an owner's links. Thin views
over `arrears.portal.requests` and `arrears.portal.links`; scope as everywhere (units_visible_to)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from arrears.core.errors import DomainError
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Owner, Ownership
from arrears.portal import links
from arrears.portal import requests as owner_requests
from arrears.portal.models import Complaint, InstalmentRequest, RequestStatus
from arrears.staff.collection_views import _domain_message


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


@login_required
def owner_requests_page(request):
    _require(request.user, "portal.view_instalmentrequest")
    units = estate_selectors.units_visible_to(request.user)
    instalments = (InstalmentRequest.objects.filter(unit__in=units, status=RequestStatus.REQUESTED)
                   .select_related("unit__building", "owner").order_by("requested_at"))
    complaints = (Complaint.objects.filter(unit__in=units, ticket__closed_on__isnull=True)
                  .select_related("unit__building", "owner", "ticket", "dispute", "charge__charge_type").order_by("created_at"))
    return render(request, "staff/owner_requests.html", {
        "instalments": instalments, "complaints": complaints,
        "first_due": owner_requests.default_first_due(timezone.localdate()),
    })


def _back(request):
    return redirect(reverse("staff:owner_requests"))


@login_required
@require_POST
def instalment_decide(request, pk):
    _require(request.user, "portal.change_instalmentrequest")
    found = get_object_or_404(InstalmentRequest.objects.filter(unit__in=estate_selectors.units_visible_to(request.user)), pk=pk)
    try:
        if request.POST.get("action") == "accept":
            try:
                first_due = date.fromisoformat(request.POST.get("first_due", ""))
            except ValueError:
                raise DomainError("请填写首期缴费日期", "give the first instalment's date", code="first_due") from None
            owner_requests.accept_instalments(request=found, staff=request.user, first_due=first_due)
            messages.success(request, _("已同意分期，分期计划已生效。"))
        else:
            owner_requests.decline_instalments(request=found, staff=request.user, note=request.POST.get("note", ""))
            messages.success(request, _("已拒绝分期申请。"))
    except DomainError as exc:
        messages.error(request, _domain_message(exc))
    return _back(request)


@login_required
@require_POST
def complaint_resolve(request, pk):
    _require(request.user, "portal.change_complaint")
    found = get_object_or_404(Complaint.objects.filter(unit__in=estate_selectors.units_visible_to(request.user))
                              .select_related("ticket", "dispute"), pk=pk)
    try:
        owner_requests.resolve_complaint(complaint=found, staff=request.user, resolution=request.POST.get("resolution", ""))
        messages.success(request, _("已办结，业主在账单页可看到处理结果。"))
    except DomainError as exc:
        messages.error(request, _domain_message(exc))
    return _back(request)


@login_required
@require_POST
def revoke_links(request, unit_pk, owner_pk):
    _require(request.user, "portal.revoke_statement_link")
    unit = get_object_or_404(estate_selectors.units_visible_to(request.user), pk=unit_pk)
    if not Ownership.objects.filter(unit=unit, owner_id=owner_pk).exists():
        raise PermissionDenied
    owner = get_object_or_404(Owner, pk=owner_pk)
    links.revoke_links(owner=owner, staff=request.user, reason=request.POST.get("reason", ""))
    messages.success(request, _("已作废该业主此前发出的所有账单链接；之后发送的短信和函件使用新链接。"))
    return redirect(reverse("staff:unit", args=[unit.pk]) + "#portal")
