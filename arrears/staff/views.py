"""Staff pages: parse the request, call one selector or service, render. Scope is enforced by
`arrears.estate.selectors.units_visible_to` on every page."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from arrears.collection import limitation
from arrears.collection import selectors as collection_selectors
from arrears.collection.models import AttachmentKind, ExcuseReason, Intent, Persona, Reason
from arrears.collection.services import LOGGED_BACK_DAYS, RELAYED_OUTCOMES
from arrears.core import roles
from arrears.estate import selectors as estate_selectors
from arrears.insights import risk as insights_risk
from arrears.ledger import import_jobs
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger.models import ACTIVE_JOB_STATUSES, ImportJob, ImportJobKind, ImportJobStatus
from arrears.notices import selectors as notices_selectors
from arrears.portal import links as portal_links
from arrears.staff import access, collection_views, limitation_views, lockout, uploads
from arrears.staff import selectors as staff_selectors
from arrears.staff.collection_forms import LOGGED_CHANNELS, LOGGED_OUTCOMES, NEUTRAL_OUTCOMES
from arrears.staff.forms import ImportUploadForm, SearchForm, too_large_message

PAGE_SIZE = 20


# Roles whose working day is the list of today's work: their home page is that list.
WORKDAY_ROLES = {roles.COLLECTOR, roles.LEGAL}


@login_required
def home(request):
    """A collector's (or legal's) home is today's work; other roles see their scope in figures."""
    today = timezone.localdate()
    summary = staff_selectors.scope_summary(request.user, today=today, with_arrears=access.sees_amounts(request.user))
    held = set(access.role_names(request.user))
    # Legal leads with the limitation deadlines about to pass (期限看板), above the day's work.
    limitation_top = limitation_views.home_top(request.user, today)
    if held & WORKDAY_ROLES and not held - WORKDAY_ROLES and request.user.has_perm("collection.view_task"):
        return collection_views.workday_page(request, summary=summary, limitation_top=limitation_top)
    return render(request, "staff/home.html", {"summary": summary, "today": today, "form": SearchForm(),
                                               "limitation_top": limitation_top})


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
        # the front desk sees no amounts, so no risk either (it is read off the ledger)
        "risk_scores": insights_risk.unit_risk(unit.pk) if show_amounts else [],
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


UPLOAD_FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the other fields around the file


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request):
    """Upload, check and import a workbook; each pass runs as a job and the page follows its progress."""
    if not access.can_import(request.user):
        raise PermissionDenied
    form = ImportUploadForm()
    if request.method == "POST" and uploads.declared_size(request) > settings.ARREARS_IMPORT_MAX_UPLOAD_BYTES + UPLOAD_FORM_OVERHEAD:
        # Refused on the declared length, before the body is read.
        context = {**_import_context(request, form, None), "upload_error": too_large_message()}
        return render(request, "staff/import.html", context, status=413)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "check":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            kept = uploads.keep(request, form.cleaned_data["file"])
            return _start_import_job(request, kept, ImportJobKind.CHECK)
    elif action == "import":
        kept = uploads.current(request)
        if kept is None or not import_jobs.passed_check(request.user.pk, kept.get("digest", "")):
            messages.error(request, _("请先上传文件并通过校验，再执行导入。"))
            return redirect("staff:import")
        return _start_import_job(request, kept, ImportJobKind.IMPORT)
    elif action == "discard":
        uploads.discard(request)
        return redirect("staff:import")
    job_id = request.GET.get("job", "")
    job = ImportJob.objects.filter(user=request.user, pk=job_id).first() if job_id.isdigit() else None  # own jobs only
    if not job_id and (token := uploads.last_token(request)):
        # Back through the menu after leaving mid-job: the latest job of the file last uploaded, running
        # or ended (an imported file is spent, but what happened to it is still worth saying).
        job = ImportJob.objects.filter(user=request.user, token=token).order_by("-pk").first()
    return render(request, "staff/import.html", _import_context(request, form, job))


def _start_import_job(request, kept: dict, kind: str):
    job = import_jobs.start_job(
        user=request.user, kind=kind, path=uploads.path_of(kept), token=kept["token"], file_name=kept["name"],
        company_name=estate_selectors.company_name_of(request.user), scope=access.import_scope(request.user),
    )
    return redirect(f"{reverse('staff:import')}?job={job.pk}#job")


def _import_context(request, form, job) -> dict:
    upload = uploads.current(request)
    return {
        "form": form, "job": job, "report": import_jobs.report_of(job) if job else None,
        "job_running": job is not None and job.status in ACTIVE_JOB_STATUSES,
        # drawn by the server too, so the page tells the truth without JavaScript (refreshed by its link)
        "job_percent": job_percent(job) if job else 0, "job_text": job_text(job) if job else "",
        "upload": upload,
        "checked_ok": upload is not None and import_jobs.passed_check(request.user.pk, upload.get("digest", "")),
    }


@login_required
@require_http_methods(["GET"])
def import_job_status(request, pk):
    """Progress of one of the user's own import jobs, for the page's progress bar."""
    if not access.can_import(request.user):
        raise PermissionDenied
    job = get_object_or_404(ImportJob.objects.filter(user=request.user), pk=pk)
    return JsonResponse({
        "status": job.status, "finished": job.status not in ACTIVE_JOB_STATUSES,
        "rows_done": job.rows_done, "rows_total": job.rows_total, "percent": job_percent(job), "text": job_text(job),
    })


def job_percent(job) -> int:
    """Reading is the measured part (to 90%); checking and writing fill the rest in two steps."""
    if job.status not in ACTIVE_JOB_STATUSES:
        return 100
    if job.stage == "read":
        return int(90 * job.rows_done / job.rows_total) if job.rows_total else 0
    return {"check": 92, "write": 96}.get(job.stage, 0)


def job_text(job) -> str:
    if job.status == ImportJobStatus.QUEUED:
        return _("排队中…")
    if job.status == ImportJobStatus.FAILED:
        return _("任务失败，未写入任何数据，请重试或联系管理员。")
    if job.status == ImportJobStatus.DONE:
        return _("已完成")
    if job.stage == "read":
        return _("正在读取：%(done)s / %(total)s 行") % {"done": job.rows_done, "total": job.rows_total}
    if job.stage == "write":
        return _("正在写入…")
    return _("正在校验…")


def locked_out(request, original_response=None, credentials=None):
    """django-axes lockout page (AXES_LOCKOUT_CALLABLE): say what happened, where and for how long."""
    lock = lockout.standing(request, credentials)
    return render(request, "staff/lockout.html", {
        "failure_limit": lock.limit, "cooloff_minutes": lock.minutes, "everywhere": lock.everywhere,
    }, status=429)


class LoginView(auth_views.LoginView):
    """Django's login page, warning before the try that would lock the account."""

    def form_invalid(self, form):
        # As the form read it (trimmed, NFKC), which is the username the lockout counted.
        username = form.cleaned_data.get("username") or ""
        lock = lockout.standing(self.request, {"username": username}) if username else None
        return self.render_to_response(self.get_context_data(form=form, last_try=lock if lock and lock.remaining == 1 else None))
