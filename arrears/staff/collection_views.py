"""Collection pages: the collector's workbench, the case list, the front-desk lookup and the forms
of a unit's case section. Thin: parse, call one selector or service, render or redirect."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from arrears.collection import compliance, exports, guard, services
from arrears.collection import selectors as collection_selectors
from arrears.collection.models import Case, CaseStatus, ContactAttempt, Task, TaskStatus
from arrears.core.errors import DomainError
from arrears.core.models import record
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Contact
from arrears.staff import access
from arrears.staff.collection_forms import (
    LOGGED_OUTCOMES,
    NEUTRAL_OUTCOMES,
    OWNER_OUTCOMES,
    AttemptForm,
    CaseFilterForm,
    ComplianceForm,
    CorrectionForm,
    DeskForm,
    OutcomeForm,
    ProfileForm,
    PromiseForm,
)
from arrears.staff.navigation import safe_next

WORKBENCH_PAGE = 50
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
            "recorded": recorded, "rule": rule, "reason": attempt.violation_reason})
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
    _require(request.user, "collection.view_task")
    today, now = timezone.localdate(), timezone.now()
    tasks = collection_selectors.open_tasks_for(request.user, today=today)
    page = Paginator(tasks, WORKBENCH_PAGE).get_page(request.GET.get("page"))
    rows = collection_selectors.workbench_rows(request.user, page.object_list, today=today, now=now)
    return render(request, "staff/workbench.html", {
        "page": page, "rows": rows, "today": today, "outcomes": OWNER_OUTCOMES, "now": now,
        "reasons": OutcomeForm.base_fields["reason"].choices, "may_log": request.user.has_perm("collection.add_contactattempt"),
        "full_phones": access.sees_full_phone_numbers(request.user),
        "promise_due": today + timedelta(days=collection_selectors.PROMISE_DAYS_DEFAULT),
    })


@login_required
@require_POST
def task_log(request, pk):
    _require(request.user, "collection.add_contactattempt")
    tasks = Task.objects.filter(case__unit__in=estate_selectors.units_visible_to(request.user))
    task = get_object_or_404(tasks.select_related("case__unit__building", "case__owner"), pk=pk)
    back = safe_next(request, reverse("staff:workbench"))
    if task.status != TaskStatus.OPEN:
        messages.error(request, _("该任务已处理。"))
        return redirect(back)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(back)
    try:
        attempt = _log(request, case=task.case, form=form, channel=task.channel, task=task, script_code=task.script_code)
    except DomainError as error:
        messages.error(request, _domain_message(error))
        return redirect(back)
    _report_attempt(request, attempt)
    return redirect(back)


# -- case list ----------------------------------------------------------------------------------


@login_required
def cases(request):
    _require(request.user, "collection.view_case")
    today = timezone.localdate()
    raw_community = request.GET.get("community") or None
    choices = collection_selectors.case_filter_choices(
        request.user, community=int(raw_community) if raw_community and raw_community.isdigit() else None)
    form = CaseFilterForm(request.GET or None, choices=choices)
    data = form.cleaned_data if form.is_valid() else {}
    filters = collection_selectors.CaseFilters(**{k: v for k, v in data.items() if v not in (None, "")})
    found = collection_selectors.open_cases(request.user, filters)
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
    return render(request, "staff/desk.html", {"form": form, "query": query, "rows": rows})


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
