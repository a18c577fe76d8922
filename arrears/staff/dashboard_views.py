"""The dashboard (报表): charts and their tables over `insights.dashboard`, and the same numbers as a workbook."""

from __future__ import annotations

from io import BytesIO
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from arrears.core.models import record
from arrears.estate import selectors as estate_selectors
from arrears.insights import dashboard as insights_dashboard
from arrears.insights.snapshots import last_complete_day
from arrears.staff import access
from arrears.staff.forms import DashboardForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def may_view(user) -> bool:
    """Those who work the arrears list and may see amounts: never the front desk (no amounts, §3)."""
    return user.has_perm("collection.view_case") and access.sees_amounts(user)


@login_required
def dashboard(request):
    if not may_view(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    communities = list(estate_selectors.communities_visible_to(request.user).order_by("name").values_list("pk", "name"))
    # Opens on yesterday, the last complete day: its figures are stored by the nightly refresh (fast,
    # and final); today can be chosen and is computed live, still taking payments.
    opening = last_complete_day(today)
    form = DashboardForm(request.GET or None, communities=communities, today=today, initial={"as_of": opening})
    chosen = form.cleaned_data if form.is_valid() else {}
    as_of, community = chosen.get("as_of") or opening, chosen.get("community")
    data = insights_dashboard.dashboard_data(request.user, as_of=as_of, community=community)
    if request.GET.get("format") == "xlsx" and not form.errors:  # a refused date shows the page and why, not yesterday's file
        buffer = BytesIO()
        insights_dashboard.write_dashboard_xlsx(data, buffer)
        record(actor=request.user, action="dashboard_export", community_id=community, as_of=as_of.isoformat())
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="dashboard-{as_of:%Y%m%d}.xlsx"'
        return response
    _add_links(data, community)
    query = urlencode({"as_of": as_of.isoformat(), **({"community": community} if community else {})})
    return render(request, "staff/dashboard.html", {"form": form, "data": data, "query": query})


def _add_links(data: dict, community: int | None) -> None:
    """Every bar, slice and cell to the list behind it: the arrears list filtered; a month to its own dashboard."""
    cases = reverse("staff:cases")
    rows = [*data["recovery"], *data["aging"], *data["tiers"], *data["reasons"], *data["collectors"],
            *data["heatmap"]["cells"]]
    for row in rows:
        row["url"] = f"{cases}?{urlencode(row['list'])}" if row.get("list") else None
    here = reverse("staff:dashboard")
    for point in data["trend"]:
        point["url"] = f"{here}?{urlencode({'as_of': point['as_of'], **({'community': community} if community else {})})}"
