"""Staff pages: parse the request, call one selector or service, render. Scope is enforced by
`arrears.estate.selectors.units_visible_to` on every page."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from arrears.collection import limitation
from arrears.collection import selectors as collection_selectors
from arrears.collection.models import AttachmentKind, ExcuseReason, Intent, Persona, Reason
from arrears.collection.services import LOGGED_BACK_DAYS, RELAYED_OUTCOMES
from arrears.estate import selectors as estate_selectors
from arrears.ledger import importers
from arrears.ledger import selectors as ledger_selectors
from arrears.notices import selectors as notices_selectors
from arrears.portal import links as portal_links
from arrears.staff import access, lockout, uploads
from arrears.staff import selectors as staff_selectors
from arrears.staff.collection_forms import LOGGED_CHANNELS, LOGGED_OUTCOMES, NEUTRAL_OUTCOMES
from arrears.staff.forms import ImportUploadForm, SearchForm

PAGE_SIZE = 20


@login_required
def home(request):
    today = timezone.localdate()
    summary = staff_selectors.scope_summary(request.user, today=today, with_arrears=access.sees_amounts(request.user))
    return render(request, "staff/home.html", {"summary": summary, "today": today, "form": SearchForm()})


@login_required
def search(request):
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    today = timezone.localdate()
    units = estate_selectors.search_units(request.user, query, today=today)
    page = Paginator(units, PAGE_SIZE).get_page(request.GET.get("page"))
    unit_ids = [unit.pk for unit in page]
    ownerships = estate_selectors.current_ownerships(unit_ids, today=today)
    # The front desk sees no amounts, so no arrears column either: it is not even computed.
    show_amounts = access.sees_amounts(request.user)
    owed = staff_selectors.overdue_totals(unit_ids, today=today) if show_amounts else {}
    rows = [(unit, ownerships.get(unit.pk, []), owed.get(unit.pk)) for unit in page]
    return render(request, "staff/search.html", {
        "form": form, "query": query, "page": page, "rows": rows, "show_amounts": show_amounts,
        "full_phones": access.sees_full_phone_numbers(request.user),
    })


@login_required
def unit_detail(request, pk):
    units = estate_selectors.units_visible_to(request.user).select_related("community", "building")
    unit = get_object_or_404(units, pk=pk)
    today = timezone.localdate()
    detail = estate_selectors.unit_detail(unit)
    ledger_detail = access.sees_ledger_detail(request.user)
    show_amounts = access.sees_amounts(request.user)
    collection = None
    if request.user.has_perm("collection.view_case") and show_amounts:  # the case section shows amounts
        collection = collection_selectors.unit_collection(unit, user=request.user, today=today, now=timezone.now())
        collection["timeline"] += notices_selectors.timeline_entries(unit.pk, with_payments=ledger_detail)
        collection["timeline"].sort(key=lambda e: e.sort_key, reverse=True)
        collection["evidence"] = limitation.unit_evidence(unit.pk, [section["case"] for section in collection["cases"]])
    now = timezone.now()
    return render(request, "staff/unit.html", {
        "collection": collection,
        "outcomes": LOGGED_OUTCOMES, "channels": LOGGED_CHANNELS, "attachment_kinds": AttachmentKind.choices,
        "reasons": [("", "—"), *ExcuseReason.choices],
        "neutral_outcomes": NEUTRAL_OUTCOMES, "relayed_outcomes": RELAYED_OUTCOMES, "now": now,
        "earliest_contact": now - timedelta(days=LOGGED_BACK_DAYS),
        "personas": Persona.choices, "profile_reasons": Reason.choices, "intents": Intent.choices,
        "unit": unit,
        "today": today,
        "statement": ledger_selectors.unit_statement(unit.pk, today) if show_amounts else None,
        "history": staff_selectors.unit_ledger_history(unit.pk) if ledger_detail else [],
        "ledger_detail": ledger_detail,
        "full_phones": access.sees_full_phone_numbers(request.user),
        "portal_links": _portal_links(request.user, unit, detail["ownerships"], today),
        "link_days": settings.PORTAL_LINK_DAYS,
        **detail,
    })


def _portal_links(user, unit, ownerships, today) -> list:
    """Current owners' statement links, for staff who may send or revoke them."""
    if not user.has_perm("portal.revoke_statement_link"):
        return []
    return [(o.owner, portal_links.current_link(owner=o.owner, unit_id=unit.pk))
            for o in ownerships if o.start <= today and (o.end is None or o.end >= today)]


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request):
    if not access.can_import(request.user):
        raise PermissionDenied
    action = request.POST.get("action") if request.method == "POST" else None
    form = ImportUploadForm()
    report = None
    if action == "check":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            kept = uploads.keep(request, form.cleaned_data["file"])
            report = importers.run_import(
                uploads.path_of(kept), dry_run=True, company_name=estate_selectors.company_name_of(request.user)
            )
            uploads.mark_checked(request, report.ok)
    elif action == "import":
        kept = uploads.current(request)
        if kept is None or not kept.get("checked_ok"):
            messages.error(request, _("请先上传文件并通过校验，再执行导入。"))
            return redirect("staff:import")
        report = importers.run_import(
            uploads.path_of(kept), dry_run=False, company_name=estate_selectors.company_name_of(request.user)
        )
        if report.ok:
            uploads.discard(request)
    elif action == "discard":
        uploads.discard(request)
        return redirect("staff:import")
    return render(request, "staff/import.html", {
        "form": form, "report": report, "upload": uploads.current(request),
    })


def locked_out(request, original_response=None, credentials=None):
    """django-axes lockout page (AXES_LOCKOUT_CALLABLE): say what happened, where and for how long."""
    lock = lockout.standing(request, credentials)
    return render(request, "staff/lockout.html", {
        "failure_limit": lock.limit, "cooloff_minutes": lock.minutes, "everywhere": lock.everywhere,
    }, status=429)


class LoginView(auth_views.LoginView):
    """Django's login page, warning before the try that would lock the account."""

    def form_invalid(self, form):
        username = form.data.get("username", "")
        lock = lockout.standing(self.request, {"username": username}) if username else None
        return self.render_to_response(self.get_context_data(form=form, last_try=lock if lock and lock.remaining == 1 else None))
