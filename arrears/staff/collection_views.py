"""Collection pages: the collector's workbench, the case list, the front-desk lookup and the forms
of a unit's case section. Thin: parse, call one selector or service, render or redirect."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from arrears.collection import compliance, exports, guard, outcomes, routing, services
from arrears.collection import selectors as collection_selectors
from arrears.collection.models import (
    AttachmentKind,
    Case,
    CaseStatus,
    ContactAttempt,
    ReminderPlace,
    Task,
    TaskStatus,
)
from arrears.core import i18n
from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.core.money import format_yuan
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Contact, Satisfaction
from arrears.ledger import services as ledger_services
from arrears.staff import access, target_views
from arrears.staff.collection_forms import (
    LOGGED_OUTCOMES,
    NEUTRAL_OUTCOMES,
    OWNER_OUTCOMES,
    AttemptForm,
    CardForm,
    CaseFilterForm,
    ComplianceForm,
    CorrectionForm,
    DeskForm,
    OutcomeForm,
    PlanProposalForm,
    ProfileForm,
    PromiseForm,
    ReminderForm,
    WaiverRequestForm,
)
from arrears.staff.navigation import safe_next

CASES_PAGE = 50


def _require(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _domain_message(error: DomainError) -> str:
    return error.localized


def _form_errors(form) -> str:
    return pgettext("punctuation", "；").join(f"{form.fields[name].label if name in form.fields else ''}{': ' if name in form.fields else ''}{' '.join(errors)}"
                    for name, errors in form.errors.items())


def _report_attempt(request, attempt) -> None:
    """Say what was recorded; a contact that broke a rule says which and why (it is still recorded)."""
    recorded = _("已记录：%(unit)s %(channel)s %(outcome)s") % {
        "unit": attempt.unit.label, "channel": attempt.get_channel_display(), "outcome": attempt.get_outcome_display()}
    if attempt.violation_rule:
        rule = dict(guard.GuardRule.choices).get(attempt.violation_rule, attempt.violation_rule)
        messages.warning(request, _("%(recorded)s。联系时违反规则（%(rule)s）：%(reason)s，已列入合规报告。") % {
            "recorded": recorded, "rule": rule, "reason": i18n.shown(attempt.violation_reason)})
    else:
        messages.success(request, recorded)


def _log(request, *, case, form, channel, task=None, contact=None, script_code=""):
    data = form.cleaned_data
    return services.log_attempt(
        unit=case.unit, owner=case.owner, case=case, channel=channel, outcome=data["outcome"], staff=request.user,
        at=data.get("at"), contact=contact, reason=data.get("reason") or "", notes=data.get("notes") or "", task=task,
        script_code=script_code, promise_amount=data.get("promise_amount"), promise_due=data.get("promise_due"),
    )


# -- workbench ----------------------------------------------------------------------------------


@login_required
def workbench(request):
    """The collector's day: one card per case with all its due steps, most urgent first."""
    _require(request.user, "collection.view_task")
    return workday_page(request)


def workday_page(request, **extra):
    """The day's list, rendered for the workbench and for a collector's home page."""
    today, now = timezone.localdate(), timezone.now()
    building = request.GET.get("building") or ""
    quick = request.GET.get("quick") or ""
    quick = quick if quick in collection_selectors.QUICK_FILTERS else ""
    day = collection_selectors.workday(request.user, today=today, now=now, quick=quick, page_number=request.GET.get("page"),
                                       building=int(building) if building.isascii() and building.isdigit() else None)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "staff/workbench.html", {
        "day": day, "page": day.page, "cards": day.cards, "today": today, "outcomes": OWNER_OUTCOMES, "now": now,
        "reasons": OutcomeForm.base_fields["reason"].choices, "may_log": request.user.has_perm("collection.add_contactattempt"),
        "may_waive": request.user.has_perm("ledger.add_waiver"),
        "may_plan": request.user.has_perm("collection.add_instalmentplan"),
        "full_phones": access.sees_full_phone_numbers(request.user),
        "promise_due": today + timedelta(days=collection_selectors.PROMISE_DAYS_DEFAULT),
        "plan_first_due": today + timedelta(days=collection_selectors.PROMISE_DAYS_DEFAULT),
        "quick": quick, "building": building, "quick_filters": QUICK_LABELS, "query": query.urlencode(),
        "target_rows": target_views.home_card(request.user, today),
        "satisfaction_choices": Satisfaction.choices, "attachment_kinds": [
            (value, label) for value, label in AttachmentKind.choices if value in outcomes.CARD_ATTACHMENTS],
        **extra,
    })


QUICK_LABELS = [("", _lazy("全部")), ("promise", _lazy("承诺到期")), ("tier_a", _lazy("A 类")), ("calls", _lazy("电话")),
                ("visits", _lazy("上门")), ("follow_up", _lazy("跟进回访"))]


def _task_in_scope(request, pk) -> Task:
    """A task of the user's scope routed to one of the user's roles (routing.py); else 404."""
    tasks = Task.objects.filter(case__unit__in=estate_selectors.units_visible_to(request.user)).filter(
        routing.visible_task_q(request.user))
    return get_object_or_404(tasks.select_related("case__unit__building", "case__owner"), pk=pk)


@login_required
@require_POST
def task_log(request, pk):
    _require(request.user, "collection.add_contactattempt")
    task = _task_in_scope(request, pk)
    back = safe_next(request, reverse("staff:workbench"))
    if task.status != TaskStatus.OPEN:
        messages.error(request, _("该任务已处理。"))
        return redirect(back)
    form = CardForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(back)
    data = form.cleaned_data
    upload = data.get("attachment") or None
    if upload is not None and not request.user.has_perm("collection.add_attemptattachment"):
        raise PermissionDenied
    try:
        logged = outcomes.log_card(
            task=task, outcome=data.get("outcome") or "", staff=request.user, at=data.get("at"),
            reason=data.get("reason") or "", notes=data.get("notes") or "", promise_amount=data.get("promise_amount"),
            promise_due=data.get("promise_due"), satisfaction=data.get("satisfaction") or "",
            attachment_kind=data.get("attachment_kind") or "", upload=upload,
        )
    except DomainError as error:
        messages.error(request, _domain_message(error))
        return redirect(back)
    _report_attempt(request, logged.attempt)
    if logged.rating is not None:
        messages.info(request, _("满意度：%(rating)s") % {"rating": logged.rating.get_rating_display()}
                      + (_("；已开投诉工单并生成跟进任务") if logged.rating.ticket_id else ""))
    if logged.attachment is not None:
        messages.info(request, _("已上传%(kind)s") % {"kind": logged.attachment.get_kind_display()})
    return redirect(back)


@login_required
@require_POST
def case_waiver(request, pk):
    """A waiver agreed on the phone: asked here, approved by someone else (approvals page)."""
    _require(request.user, "ledger.add_waiver")
    case = _case_in_scope(request, pk)
    back = safe_next(request, reverse("staff:workbench"))
    form = WaiverRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(back)
    try:
        made = outcomes.request_case_waiver(case=case, staff=request.user, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, _domain_message(error))
        return redirect(back)
    messages.success(request, _("减免申请已提交（%(count)s 笔，合计 ¥%(amount)s），待经理审批") % {
        "count": len(made), "amount": format_yuan(sum(w.amount for w in made), sign=False)})
    return redirect(back)


@login_required
@require_POST
def case_plan(request, pk):
    """An instalment plan agreed on the phone: proposed here, accepted by a manager once the owner agrees."""
    _require(request.user, "collection.add_instalmentplan")
    case = _case_in_scope(request, pk)
    back = safe_next(request, reverse("staff:workbench"))
    form = PlanProposalForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(back)
    try:
        plan = services.propose_plan(case=case, staff=request.user, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, _domain_message(error))
        return redirect(back)
    messages.success(request, _("分期方案已提交：¥%(total)s，待经理确认") % {
        "total": format_yuan(plan.total, sign=False)})
    return redirect(back)


# -- approvals (four eyes) ---------------------------------------------------------------------------


@login_required
def approvals(request):
    """Waivers and instalment plans collectors asked for, waiting for a manager."""
    if not (request.user.has_perm("ledger.change_waiver") or request.user.has_perm("collection.change_instalmentplan")):
        raise PermissionDenied
    found = collection_selectors.pending_approvals(request.user)
    return render(request, "staff/approvals.html", {**found, "today": timezone.localdate()})


@login_required
@require_POST
def waiver_decide(request, pk, decision):
    _require(request.user, "ledger.change_waiver")
    if decision not in ("approve", "reject"):
        raise Http404
    waiver = get_object_or_404(collection_selectors.pending_approvals(request.user)["waivers_qs"], pk=pk)
    try:
        if decision == "approve":
            ledger_services.approve_waiver(waiver_id=waiver.pk, approved_by=request.user)
            messages.success(request, _("已批准减免 ¥%(amount)s") % {
                "amount": format_yuan(waiver.amount, sign=False)})
        else:
            ledger_services.reject_waiver(waiver_id=waiver.pk, decided_by=request.user)
            messages.success(request, _("已驳回减免申请"))
    except DomainError as error:
        messages.error(request, _domain_message(error))
    return redirect("staff:approvals")


@login_required
@require_POST
def plan_accept(request, pk):
    _require(request.user, "collection.change_instalmentplan")
    plan = get_object_or_404(collection_selectors.pending_approvals(request.user)["plans_qs"], pk=pk)
    try:
        if request.POST.get("decision") == "cancel":
            services.cancel_plan(plan=plan, on=timezone.localdate())
            messages.success(request, _("已取消分期方案"))
        else:
            services.accept_plan(plan=plan, accepted_on=timezone.localdate(), staff=request.user)
            messages.success(request, _("已确认分期方案：业主同意，计划执行中"))
    except DomainError as error:
        messages.error(request, _domain_message(error))
    return redirect("staff:approvals")


# -- case list ----------------------------------------------------------------------------------


@login_required
def cases(request):
    _require(request.user, "collection.view_case")
    today = timezone.localdate()
    raw_community = request.GET.get("community") or None
    choices = collection_selectors.case_filter_choices(
        request.user, community=int(raw_community) if raw_community and raw_community.isascii() and raw_community.isdigit() else None)
    form = CaseFilterForm(request.GET or None, choices=choices)
    data = form.cleaned_data if form.is_valid() else {}
    filters = collection_selectors.CaseFilters(**{k: v for k, v in data.items() if v not in (None, "")})
    found = collection_selectors.open_cases(request.user, filters, today=today)
    if request.GET.get("format") == "xlsx":
        return _export(request, found, filters, today)
    page = Paginator(found, CASES_PAGE).get_page(request.GET.get("page"))
    rates = collection_selectors.arrears_rates(request.user, today=today, community=filters.community, building=filters.building)
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(request, "staff/cases.html", {
        "form": form, "page": page, "rates": rates, "today": today, "filters": filters,
        "query": query.urlencode(), "sort_query": sort_query.urlencode(),
    })


def _export(request, found, filters, today):
    buffer = BytesIO()
    count = exports.write_cases_xlsx(found, as_of=today, filters=filters.as_dict(), path_or_file=buffer)
    record(actor=request.user, action="cases_export", community_id=filters.community, filters=filters.as_dict(), rows=count)
    response = HttpResponse(buffer.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="cases-{today:%Y%m%d}.xlsx"'
    return response


# -- front desk ---------------------------------------------------------------------------------


@login_required
def desk(request):
    _require(request.user, "estate.view_unit")
    form = DeskForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    rows = []
    if query:
        rows = collection_selectors.desk_lookup(request.user, query, now=timezone.now(),
                                                show_amount=access.sees_amounts(request.user), collector_fallback=_("管家"))
        communities = {row.unit.community_id for row in rows}
        record(actor=request.user, action="desk_lookup", community_id=communities.pop() if len(communities) == 1 else None,
               query=query, results=len(rows))
    return render(request, "staff/desk.html", {
        "form": form, "query": query, "rows": rows, "places": ReminderPlace.choices,
        "can_record": request.user.has_perm("collection.record_reminder"),
    })


@login_required
@require_POST
def desk_remind(request, pk):
    """One tap: "reminded the owner in person at the gate / parking / desk", through the guard.

    The case must be in the user's scope (another community's is a 404); a refusal says why; a
    second tap or a form sent twice within a short window records nothing new and says so."""
    _require(request.user, "collection.record_reminder")
    in_scope = Case.objects.filter(unit__in=estate_selectors.units_visible_to(request.user))
    case = get_object_or_404(in_scope.select_related("unit__building"), pk=pk)
    form = ReminderForm(request.POST)
    query = request.POST.get("q", "")[:50]
    back = f"{reverse('staff:desk')}?{urlencode({'q': query})}" if query else reverse("staff:desk")
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(back)
    try:
        attempt, created = services.record_in_person_reminder(
            case=case, place=form.cleaned_data["place"], staff=request.user,
            owner_in_person=form.cleaned_data["owner_in_person"])
    except DomainError as error:
        messages.error(request, _domain_message(error))
        return redirect(back)
    said = {"time": formats.time_format(timezone.localtime(attempt.at), "H:i"), "place": attempt.get_place_display(),
            "unit": case.unit.label}
    if created:
        messages.success(request, _("已记录：%(time)s 在%(place)s当面提醒 %(unit)s 业主本人") % said)
    else:
        messages.info(request, _("%(time)s 在%(place)s的提醒刚刚已记录，没有重复记录") % said)
    return redirect(back)


# -- the unit page's case section ---------------------------------------------------------------


def _case_in_scope(request, pk) -> Case:
    cases_in_scope = Case.objects.filter(unit__in=estate_selectors.units_visible_to(request.user), status=CaseStatus.OPEN)
    return get_object_or_404(cases_in_scope.select_related("unit__building", "owner"), pk=pk)


def _unit_url(case) -> str:
    return reverse("staff:unit", args=[case.unit_id]) + "#case"


@login_required
@require_POST
def case_attempt(request, pk):
    _require(request.user, "collection.add_contactattempt")
    case = _case_in_scope(request, pk)
    contacts = list(Contact.objects.filter(owner_id=case.owner_id))
    form = AttemptForm(request.POST, contacts=contacts)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(_unit_url(case))
    contact = next((c for c in contacts if c.pk == form.cleaned_data["contact"]), None)
    try:
        attempt = _log(request, case=case, form=form, channel=form.cleaned_data["channel"], contact=contact)
    except DomainError as error:
        messages.error(request, _domain_message(error))
        return redirect(_unit_url(case))
    _report_attempt(request, attempt)
    return redirect(_unit_url(case))


@login_required
@require_POST
def case_promise(request, pk):
    _require(request.user, "collection.add_promise")
    case = _case_in_scope(request, pk)
    form = PromiseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(_unit_url(case))
    try:
        promise = services.make_promise(case=case, amount=form.cleaned_data["amount"], due_on=form.cleaned_data["due_on"],
                                        staff=request.user)
    except DomainError as error:
        messages.error(request, _domain_message(error))
        return redirect(_unit_url(case))
    messages.success(request, _("已记录承诺：¥%(amount)s，%(date)s 前缴纳") % {
        "amount": promise.amount, "date": formats.date_format(promise.due_on, "Y-m-d")})
    return redirect(_unit_url(case))


@login_required
@require_POST
def case_profile(request, pk):
    _require(request.user, "collection.change_ownerprofile")
    case = _case_in_scope(request, pk)
    form = ProfileForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(_unit_url(case))
    try:
        services.set_profile(owner=case.owner, staff=request.user, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, _domain_message(error))
        return redirect(_unit_url(case))
    messages.success(request, _("已保存业主画像。"))
    return redirect(_unit_url(case))


# -- corrections --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def attempt_correct(request, pk):
    """更正: a new version of an attempt, with why; the original stays, struck through on the timeline."""
    _require(request.user, "collection.add_contactattempt")
    attempts = ContactAttempt.objects.filter(unit__in=estate_selectors.units_visible_to(request.user)).with_versions()
    attempt = get_object_or_404(attempts.select_related("unit__building", "owner", "contact", "staff", "case"), pk=pk)
    back = reverse("staff:unit", args=[attempt.unit_id]) + f"#attempt-{attempt.pk}"
    form = CorrectionForm(request.POST or None, initial={
        "outcome": attempt.outcome, "reason": attempt.reason, "notes": attempt.notes,
        "at": timezone.localtime(attempt.at).strftime("%Y-%m-%dT%H:%M"),
    })
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            correction = services.correct_attempt(
                attempt=attempt, staff=request.user, correction_reason=data["correction_reason"], outcome=data["outcome"],
                reason=data.get("reason") or "", notes=data.get("notes") or "", at=_same_minute(data["at"], attempt.at),
                promise_amount=data.get("promise_amount"), promise_due=data.get("promise_due"),
            )
        except DomainError as error:
            messages.error(request, _domain_message(error))
        else:
            messages.success(request, _("已更正：原记录保留并标为已更正。"))
            return redirect(reverse("staff:unit", args=[correction.unit_id]) + f"#attempt-{correction.pk}")
    elif request.method == "POST":
        messages.error(request, _form_errors(form))
    outcomes = [(value, label) for value, label in LOGGED_OUTCOMES if not attempt.third_party or value in NEUTRAL_OUTCOMES]
    return render(request, "staff/attempt_correct.html", {
        "attempt": attempt, "form": form, "outcomes": outcomes, "back": back,
        "reasons": [("", "—"), *OutcomeForm.base_fields["reason"].choices[1:]],
    })


def _same_minute(entered, recorded):
    """The form shows minutes: an unchanged minute keeps the recorded time to the second."""
    if entered is not None and timezone.localtime(entered).replace(second=0, microsecond=0) == timezone.localtime(
            recorded).replace(second=0, microsecond=0):
        return recorded
    return entered


# -- compliance ---------------------------------------------------------------------------------

COMPLIANCE_PAGE = 50


@login_required
def compliance_page(request):
    """Contacts logged against a contact rule, by collector, rule and week (managers)."""
    _require(request.user, "collection.view_compliance")
    since, until = compliance.default_period(timezone.localdate())
    form = ComplianceForm(request.GET or None, initial={"since": since, "until": until})
    if form.is_valid():
        since = form.cleaned_data.get("since") or since
        until = form.cleaned_data.get("until") or until
    report = compliance.violations_for(request.user, since=since, until=until, nobody=_("未记录经办人"))
    page = Paginator(report.violations, COMPLIANCE_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "staff/compliance.html", {
        "form": form, "report": report, "page": page, "query": query.urlencode(),
        "rule_labels": dict(guard.GuardRule.choices),
    })
