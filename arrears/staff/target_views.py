"""目标考核: the team's targets and attainment for a manager, a collector's own; thin over insights.targets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from io import BytesIO

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.insights import targets
from arrears.insights.kpis import EARLIEST
from arrears.insights.models import DEFAULT_ARREARS_RATE_MAX, DEFAULT_SUCCESS_RATE_MIN, PeriodKind


def _number(text: str) -> int | None:
    return int(text) if text and text.isascii() and text.isdigit() else None


def _period(request, today: date) -> targets.Period:
    """The month or quarter asked for (?kind=quarter&period=2026-04), else the one holding today."""
    kind = request.GET.get("kind") if request.GET.get("kind") in PeriodKind.values else PeriodKind.MONTH
    raw = request.GET.get("period", "")
    try:
        day = date.fromisoformat(f"{raw}-01") if raw else today
    except ValueError:
        day = today
    return targets.period_of(kind, max(min(day, today), EARLIEST))


def _rows(request, today: date):
    period = _period(request, today)
    community = _number(request.GET.get("community", ""))
    try:
        rows = targets.attainment(request.user, as_of=today, kind=period.kind, community=community,
                                  period_start=period.start)
    except DomainError as refused:
        raise Http404 from refused  # another community's figures: not found, never named
    return period, community, rows


@login_required
def targets_page(request):
    """A manager's team table with the form to set targets; a collector's own rows."""
    if not request.user.has_perm(targets.VIEW_PERMISSION):
        raise PermissionDenied
    today = timezone.localdate()
    period, community, rows = _rows(request, today)
    manager = targets.may_set(request.user)
    communities = list(targets.communities_for(request.user)) if manager else []
    later = period.shifted(1)
    base = {"kind": period.kind, **({"community": community} if community else {})}
    edit = _editing(request, rows, period) if manager else None
    return render(request, "staff/targets.html", {
        "rows": rows, "period": period, "today": today, "manager": manager, "community": community,
        "communities": communities, "kinds": PeriodKind.choices, "edit": edit,
        "collectors": list(targets.collector_choices([c.pk for c in communities])) if manager else [],
        "earlier_query": urlencode({**base, "period": f"{period.shifted(-1).start:%Y-%m}"}),
        "later_query": urlencode({**base, "period": f"{later.start:%Y-%m}"}) if later.start <= today else "",
        "export_query": urlencode({**base, "period": f"{period.start:%Y-%m}"}),
        "default_arrears": DEFAULT_ARREARS_RATE_MAX * 100, "default_success": DEFAULT_SUCCESS_RATE_MIN * 100,
    })


def _editing(request, rows, period) -> dict:
    """The form's starting values: the row picked with ?edit=community-collector, else a new community target."""
    wanted = request.GET.get("edit", "")
    community, _sep, collector = wanted.partition("-")
    for row in rows:
        if str(row.community_id) == community and str(row.collector_id or "") == collector:
            return {"community": row.community_id, "collector": row.collector_id, "amount": row.amount,
                    "arrears": row.arrears_rate_max * 100, "success": row.success_rate_min * 100,
                    "label": row.collector or row.community}
    return {"community": rows[0].community_id if rows else None, "collector": None, "amount": None,
            "arrears": DEFAULT_ARREARS_RATE_MAX * 100, "success": DEFAULT_SUCCESS_RATE_MIN * 100, "label": ""}


def _fraction(text: str):
    """A percentage typed on the page as the service's fraction (5 → 0.05); anything else goes through as typed."""
    try:
        return Decimal(text.strip()) / 100 if text.strip() else None
    except InvalidOperation:
        return text


@login_required
@require_POST
def targets_set(request):
    """Set or change one target; the service checks role, scope, collector and values."""
    if not targets.may_set(request.user):
        raise PermissionDenied
    community = get_object_or_404(targets.communities_for(request.user), pk=_number(request.POST.get("community", "")))
    collector_id = request.POST.get("collector", "")
    collector = None
    if collector_id:
        collector = get_object_or_404(get_user_model(), pk=_number(collector_id))
    kind = request.POST.get("kind", "")
    back = reverse("staff:targets") + "?" + urlencode({"kind": kind if kind in PeriodKind.values else PeriodKind.MONTH,
                                                      "period": request.POST.get("period_start", "")[:7]})
    try:
        try:
            start = date.fromisoformat(request.POST.get("period_start", ""))
        except ValueError as error:
            raise DomainError("周期开始日不是有效日期", "the period start is not a date", code="period_start") from error
        targets.set_target(staff=request.user, community=community, collector=collector, kind=kind, period_start=start,
                           amount=request.POST.get("amount", "").strip() or None,
                           arrears_rate_max=_fraction(request.POST.get("arrears_rate_max", "")),
                           success_rate_min=_fraction(request.POST.get("success_rate_min", "")))
    except DomainError as refused:
        messages.error(request, refused.localized)
        return redirect(back)
    messages.success(request, _("目标已保存"))
    return redirect(back)


@login_required
def targets_export(request):
    """月度绩效考核表: the rows of the page, for the monthly performance review; the export is logged."""
    if not targets.may_set(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    period, community, rows = _rows(request, today)
    buffer = BytesIO()
    targets.write_review_xlsx(rows, period=period, as_of=today, path_or_file=buffer)
    record(actor=request.user, action="insights.review_export", community_id=community, kind=period.kind,
           period_start=period.start.isoformat(), rows=len(rows))
    response = HttpResponse(buffer.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="review-{period.kind}-{period.start:%Y-%m}.xlsx"'
    return response


def home_card(user, today: date) -> list:
    """A collector's own rows of this month, for the card on their day's page (nothing for anyone else)."""
    if targets.may_set(user) or not user.has_perm(targets.VIEW_PERMISSION):
        return []
    return targets.attainment(user, as_of=today)
