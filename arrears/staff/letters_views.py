"""Letter pages: choose cases, print a numbered batch, record delivery. Thin over notices.letters."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from arrears.collection import selectors as collection_selectors
from arrears.collection.assess import policies_by_community, policy_or_default
from arrears.collection.models import Case, CaseStatus, Channel, TaskStatus
from arrears.core.errors import DomainError
from arrears.estate import selectors as estate_selectors
from arrears.notices import letter_jobs
from arrears.notices import letters as letter_service
from arrears.notices.models import (
    ACTIVE_LETTER_JOBS,
    DeliveryMethod,
    Letter,
    LetterBatch,
    LetterJob,
    LetterJobStatus,
    LetterKind,
    LetterStatus,
)
from arrears.staff.collection_forms import CaseFilterForm
from arrears.staff.collection_views import _domain_message, _form_errors, _require

CANDIDATES_SHOWN = 200


class DeliveryForm(forms.Form):
    method = forms.ChoiceField(label=gettext_lazy("送达方式"), choices=DeliveryMethod.choices)
    delivered_on = forms.DateField(label=gettext_lazy("送达日期"),
                                   widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    tracking_no = forms.CharField(label=gettext_lazy("邮件单号"), max_length=60, required=False)
    proof = forms.FileField(label=gettext_lazy("送达凭证（签收单、回执扫描件）"), required=False)
    note = forms.CharField(label=gettext_lazy("说明"), max_length=300, required=False)


class DeliveryCorrectionForm(forms.Form):
    method = forms.ChoiceField(label=gettext_lazy("送达方式"), choices=DeliveryMethod.choices)
    tracking_no = forms.CharField(label=gettext_lazy("邮件单号"), max_length=60, required=False)
    proof = forms.FileField(label=gettext_lazy("新的送达凭证（不传则沿用原凭证）"), required=False)
    note = forms.CharField(label=gettext_lazy("说明"), max_length=300, required=False)
    reason = forms.CharField(label=gettext_lazy("更正原因"), max_length=300)


def _letters_in_scope(user):
    return Letter.objects.filter(unit__in=estate_selectors.units_visible_to(user))


def _batches_in_scope(user):
    communities = estate_selectors.units_visible_to(user).values("community_id")
    return LetterBatch.objects.filter(community_id__in=communities)


def _chosen_community(request, communities: list) -> int | None:
    """The community the page lists: the one asked for (in scope), the only one the user has, else none yet."""
    wanted = request.GET.get("community") or request.POST.get("community") or ""
    ids = [pk for pk, _name in communities]
    if wanted.isascii() and wanted.isdigit() and int(wanted) in ids:
        return int(wanted)
    return ids[0] if len(ids) == 1 else None


@login_required
def letters(request):
    """One community at a time: its cases due a letter (or the 欠费列表 filter's), none ticked, none lettered lately."""
    _require(request.user, "notices.view_letter")
    today = timezone.localdate()
    units = estate_selectors.units_visible_to(request.user)
    communities = list(estate_selectors.communities_visible_to(request.user).order_by("name").values_list("pk", "name"))
    community = _chosen_community(request, communities)
    filtered = any(key in request.GET for key in CaseFilterForm.base_fields if key != "community")
    cases, recent = [], {}
    if community is not None:
        if filtered:
            choices = collection_selectors.case_filter_choices(request.user, community=community)
            form = CaseFilterForm(request.GET, choices=choices)
            data = form.cleaned_data if form.is_valid() else {}
            data["community"] = community
            filters = collection_selectors.CaseFilters(**{k: v for k, v in data.items() if v not in (None, "")})
            found = collection_selectors.open_cases(request.user, filters)
        else:
            found = (
                Case.objects.filter(unit__in=units, community_id=community, status=CaseStatus.OPEN,
                                    tasks__channel=Channel.LETTER, tasks__status=TaskStatus.OPEN)
                .select_related("unit__building", "owner", "community").distinct()
                .order_by("unit__building__sort_key", "unit__sort_key", "pk")
            )
        found = list(found[:CANDIDATES_SHOWN + letter_service.MAX_BATCH])
        recent = letter_service.recent_letters(found, LetterKind.COLLECTION, today)
        cases = [case for case in found if case.pk not in recent][:CANDIDATES_SHOWN]
    lawyer = []
    if request.user.has_perm("notices.issue_lawyer_letter") and community is not None:
        lawyer = letter_service.lawyer_candidates({community}, today)
    batches = _batches_in_scope(request.user).select_related("community", "created_by")
    pending = _letters_in_scope(request.user).filter(status=LetterStatus.ISSUED).select_related("unit__building", "owner")
    if community is not None:
        batches, pending = batches.filter(community_id=community), pending.filter(community_id=community)
    return render(request, "staff/letters.html", {
        "communities": communities, "community": community, "cases": cases, "skipped": len(recent),
        # the 欠费列表's filters ride along when the community is chosen after them
        "carry": [(key, value) for key, values in request.GET.lists() if key != "community" for value in values],
        "repeat_days": max((r.days for r in recent.values()), default=_repeat_days(community)),
        "filtered": filtered, "lawyer": lawyer, "today": today, "max_batch": letter_service.MAX_BATCH,
        "batches": batches[:20], "pending": pending[:100],
        "jobs": LetterJob.objects.filter(user=request.user, status__in=ACTIVE_LETTER_JOBS).order_by("-pk")[:5],
    })


def _repeat_days(community: int | None) -> int:
    policies = policies_by_community([community] if community else [])
    return policy_or_default(policies, community or 0).letter_repeat_days


@login_required
@require_POST
def issue(request):
    """Check the batch now, render it in the background; the same selection posted twice finds the first job."""
    kind = request.POST.get("kind", LetterKind.COLLECTION)
    _require(request.user, "notices.add_letterbatch")
    ids = [int(v) for v in request.POST.getlist("case") if v.isascii() and v.isdigit()]
    cases = list(Case.objects.filter(pk__in=ids, unit__in=estate_selectors.units_visible_to(request.user)))
    if len(cases) != len(set(ids)):
        raise Http404
    back = reverse("staff:letters") + (f"?community={cases[0].community_id}" if cases else "")
    try:
        issued_on = date.fromisoformat(request.POST.get("issued_on") or f"{timezone.localdate()}")
    except ValueError:
        messages.error(request, _("出函日期格式应为 YYYY-MM-DD"))
        return redirect(back)
    try:
        job = letter_jobs.start_job(user=request.user, kind=kind, cases=cases, issued_on=issued_on,
                                    override_reason=request.POST.get("override_reason", ""))
    except DomainError as error:
        messages.error(request, _domain_message(error))
        return redirect(back)
    if job.status == LetterJobStatus.DONE:
        messages.success(request, _("已生成 %(count)s 份%(kind)s，请下载打印。") % {"count": job.batch.count, "kind": job.batch.get_kind_display()})
        return redirect("staff:letter_batch", job.batch_id)
    if job.status == LetterJobStatus.FAILED:
        messages.error(request, job.error_en if translation.get_language().startswith("en") else job.error_zh)
        return redirect(back)
    return redirect("staff:letter_job", job.pk)


def _job_for(request, pk) -> LetterJob:
    """A job is its starter's own page; another user's is not found."""
    _require(request.user, "notices.add_letterbatch")
    return get_object_or_404(LetterJob.objects.select_related("community", "batch"), pk=pk, user=request.user)


@login_required
def job_page(request, pk):
    """The progress bar of a batch being rendered, and the download links once it is done."""
    job = _job_for(request, pk)
    error = job.error_en if translation.get_language().startswith("en") else job.error_zh
    return render(request, "staff/letter_job.html", {"job": job, "state": letter_jobs.status_of(job), "error": error})


@login_required
def job_status(request, pk):
    """What the progress bar polls (JSON)."""
    job = _job_for(request, pk)
    state = letter_jobs.status_of(job)
    if job.batch_id:
        state["batch_url"] = reverse("staff:letter_batch", args=[job.batch_id])
        state["pdf_url"] = reverse("staff:letter_batch_file", args=[job.batch_id, "pdf"])
        state["zip_url"] = reverse("staff:letter_batch_file", args=[job.batch_id, "zip"])
    if job.status == LetterJobStatus.FAILED:
        state["error"] = job.error_en if translation.get_language().startswith("en") else job.error_zh
    return JsonResponse(state)


@login_required
def batch_detail(request, pk):
    _require(request.user, "notices.view_letter")
    batch = get_object_or_404(_batches_in_scope(request.user).select_related("community", "created_by", "override_by"), pk=pk)
    rows = batch.letters.select_related("unit__building", "owner").order_by("number")
    return render(request, "staff/letter_batch.html", {"batch": batch, "rows": rows})


@login_required
def batch_file(request, pk, what):
    _require(request.user, "notices.view_letter")
    batch = get_object_or_404(_batches_in_scope(request.user), pk=pk)
    field = batch.merged_pdf if what == "pdf" else batch.zip_file
    if not field:
        raise Http404
    name = f"letters-{batch.issued_on:%Y%m%d}-{batch.pk}.{'pdf' if what == 'pdf' else 'zip'}"
    return FileResponse(field.open("rb"), as_attachment=what != "pdf", filename=name)


@login_required
def letter_detail(request, pk):
    _require(request.user, "notices.view_letter")
    letter = get_object_or_404(_letters_in_scope(request.user).select_related("unit__building", "owner", "batch", "attempt",
                                                                               "recorded_by"), pk=pk)
    corrections = list(letter.delivery_corrections.select_related("corrected_by").order_by("pk"))
    delivery = letter.delivery
    can_change = request.user.has_perm("notices.change_letter")
    return render(request, "staff/letter.html", {
        "letter": letter, "form": DeliveryForm(initial={"delivered_on": timezone.localdate()}),
        "can_record": can_change and letter.status == LetterStatus.ISSUED,
        "delivery": delivery, "corrections": corrections,
        "can_correct": can_change and delivery is not None and letter.status == LetterStatus.DELIVERED,
        "correction_form": DeliveryCorrectionForm(initial={"method": delivery.method, "tracking_no": delivery.tracking_no,
                                                           "note": delivery.note}) if delivery else None,
    })


@login_required
def letter_file(request, pk, what="pdf"):
    _require(request.user, "notices.view_letter")
    letter = get_object_or_404(_letters_in_scope(request.user), pk=pk)
    # The proof that counts: the latest correction's, else the one recorded at delivery.
    field = letter.pdf if what == "pdf" else (letter.delivery.proof if letter.delivery else None)
    if not field:
        raise Http404
    name = f"{letter.number}.pdf" if what == "pdf" else field.name.rsplit("/", 1)[-1]
    return FileResponse(field.open("rb"), as_attachment=what != "pdf", filename=name)


@login_required
@require_POST
def deliver(request, pk):
    _require(request.user, "notices.change_letter")
    letter = get_object_or_404(_letters_in_scope(request.user).select_related("case", "unit", "owner", "task"), pk=pk)
    if request.POST.get("action") == "return":
        try:
            letter_service.record_return(letter=letter, staff=request.user, note=request.POST.get("note", ""))
        except DomainError as error:
            messages.error(request, _domain_message(error))
        else:
            messages.success(request, _("已登记退回：%(number)s") % {"number": letter.number})
        return redirect("staff:letter", letter.pk)
    form = DeliveryForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("staff:letter", letter.pk)
    data = form.cleaned_data
    try:
        letter_service.record_delivery(letter=letter, method=data["method"], delivered_on=data["delivered_on"],
                                       staff=request.user, tracking_no=data["tracking_no"], proof=data["proof"],
                                       note=data["note"])
    except DomainError as error:
        messages.error(request, _domain_message(error))
    else:
        messages.success(request, _("已登记送达：%(number)s，诉讼时效自送达日起重新计算。") % {"number": letter.number})
    return redirect("staff:letter", letter.pk)



@login_required
@require_POST
def correct_delivery(request, pk):
    """A correction of the delivery record: a new row with who, when and why; the old record stays."""
    _require(request.user, "notices.change_letter")
    letter = get_object_or_404(_letters_in_scope(request.user), pk=pk)
    form = DeliveryCorrectionForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("staff:letter", letter.pk)
    data = form.cleaned_data
    try:
        letter_service.correct_delivery(letter=letter, staff=request.user, reason=data["reason"], method=data["method"],
                                        tracking_no=data["tracking_no"], proof=data["proof"], note=data["note"])
    except DomainError as error:
        messages.error(request, _domain_message(error))
    else:
        messages.success(request, _("已登记送达更正：%(number)s，原记录保留。") % {"number": letter.number})
    return redirect("staff:letter", letter.pk)
