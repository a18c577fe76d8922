"""The legal desk's matter pages: the list, opening a matter from a case, the matter with its stages,
costs, awards and closing. Thin: parse, call one service of legal.services, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from arrears.collection.models import Channel, Task, TaskStatus
from arrears.core import roles
from arrears.core.errors import DomainError
from arrears.estate import selectors as estate_selectors
from arrears.legal import services
from arrears.legal.models import (
    Award,
    AwardStatus,
    Matter,
    MatterCost,
    MatterStage,
    MatterStatus,
    Route,
)
from arrears.staff.collection_views import _case_in_scope, _form_errors, _require
from arrears.staff.matter_forms import (
    AwardForm,
    CloseForm,
    CorrectStageForm,
    CostForm,
    DecisionForm,
    OpenMatterForm,
    StageForm,
)

PAGE_SIZE = 30


def _matters_in_scope(user):
    return Matter.objects.filter(unit__in=estate_selectors.units_visible_to(user))


def _matter_in_scope(request, pk) -> Matter:
    _require(request.user, "legal.view_matter")
    return get_object_or_404(_matters_in_scope(request.user).select_related(
        "unit__building", "owner", "case", "responsible", "opened_by", "community"), pk=pk)


def _matter_url(matter) -> str:
    return reverse("staff:matter", args=[matter.pk])


@login_required
def matters(request):
    """法务案件: the matters of the user's scope, open ones first."""
    _require(request.user, "legal.view_matter")
    status = request.GET.get("status") or MatterStatus.OPEN
    rows = _matters_in_scope(request.user).select_related("unit__building", "owner", "responsible")
    if status in MatterStatus.values:
        rows = rows.filter(status=status)
    route = request.GET.get("route") or ""
    if route in Route.values:
        rows = rows.filter(route=route)
    page = Paginator(rows.order_by("-opened_on", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    next_tasks = {}
    for case_id, due_on, title in (Task.objects.filter(case_id__in=[m.case_id for m in page], kind="legal",
                                                         status=TaskStatus.OPEN)
                                   .order_by("due_on").values_list("case_id", "due_on", "title")):
        next_tasks.setdefault(case_id, (due_on, title))
    return render(request, "staff/matters.html", {
        "page": page, "rows": [(m, next_tasks.get(m.case_id)) for m in page], "status": status, "route": route,
        "statuses": MatterStatus.choices, "routes": Route.choices,
    })


def _people(user, case):
    """Who may take the matter: legal staff who can see the case's unit (the opener first)."""
    legal = get_user_model().objects.filter(Q(groups__name=roles.LEGAL) | Q(pk=user.pk), is_active=True).distinct()
    people = [person for person in legal.order_by("pk")
              if estate_selectors.units_visible_to(person).filter(pk=case.unit_id).exists()]
    people.sort(key=lambda person: person.pk != user.pk)
    return [(person.pk, roles.staff_label(person)) for person in people]


@login_required
def matter_open(request, pk):
    """Open a matter on a case (from the unit page or the legal-review task)."""
    _require(request.user, "legal.add_matter")
    case = _case_in_scope(request, pk)
    existing = Matter.objects.filter(case=case, status=MatterStatus.OPEN).first()
    if existing is not None:
        return redirect(_matter_url(existing))
    people = _people(request.user, case)
    form = OpenMatterForm(request.POST or None, people=people, initial={"task": request.GET.get("task")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        task = None
        if data["task"]:
            task = Task.objects.filter(pk=data["task"], case=case, channel=Channel.LEGAL_REVIEW).first()
        responsible = get_user_model().objects.filter(pk=data["responsible"]).first()
        try:
            matter = services.open_matter(case=case, route=data["route"], responsible=responsible, staff=request.user,
                                          court=data["court"], task=task)
        except DomainError as error:
            messages.error(request, error.localized)
        else:
            messages.success(request, _("已立项，案件转法务处理：催收阶梯的联系步骤暂停。"))
            return redirect(_matter_url(matter))
    elif request.method == "POST":
        messages.error(request, _form_errors(form))
    return render(request, "staff/matter_open.html", {"case": case, "form": form})


@login_required
def matter_detail(request, pk):
    matter = _matter_in_scope(request, pk)
    awards = list(matter.awards.select_related("recorded_by", "decided_by").order_by("pk"))
    pending = next((award for award in awards if award.status == AwardStatus.REQUESTED), None)
    preview, preview_error = None, ""
    if pending is not None:
        try:
            preview = services.plan(pending)
        except DomainError as error:  # the ledger moved since it was recorded (a payment): say so before approval
            preview_error = error.localized
    is_open = matter.status == MatterStatus.OPEN
    may_edit = is_open and request.user.has_perm("legal.add_matterstage")
    tasks = Task.objects.filter(case_id=matter.case_id, kind="legal").select_related("assignee").order_by("-due_on", "-pk")
    return render(request, "staff/matter.html", {
        "matter": matter, "stages": services.current_stages(matter), "history": matter.stages.count(),
        "costs": services.current_costs(matter), "costs_total": services.costs_total(matter), "awards": awards,
        "pending": pending, "preview": preview, "preview_error": preview_error, "tasks": tasks[:20], "is_open": is_open, "may_edit": may_edit,
        "may_decide": pending is not None and request.user.has_perm("legal.approve_award")
        and pending.recorded_by_id != request.user.pk,
        "stage_form": StageForm(initial={"occurred_on": timezone.localdate()}),
        "cost_form": CostForm(initial={"paid_on": timezone.localdate()}),
        "award_form": AwardForm(), "close_form": CloseForm(initial={"closed_on": timezone.localdate()}),
        "decision_form": DecisionForm(), "correct_form": CorrectStageForm(),
    })


def _post(request, pk, perm, form_class, call, done: str):
    """The shape of every matter form: scope, permission, parse, one service call, redirect back."""
    matter = _matter_in_scope(request, pk)
    _require(request.user, perm)
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(_matter_url(matter))
    try:
        call(matter, form.cleaned_data)
    except DomainError as error:
        messages.error(request, error.localized)
    else:
        messages.success(request, done)
    return redirect(_matter_url(matter))


@login_required
@require_POST
def matter_stage(request, pk):
    def call(matter, data):
        route, stage = data["stage"].split(":", 1)
        services.record_stage(matter=matter, route=route, stage=stage, occurred_on=data["occurred_on"], staff=request.user,
                              amount=data["amount"], reference=data["reference"], note=data["note"],
                              document=data["document"])
    return _post(request, pk, "legal.add_matterstage", StageForm, call, _("已登记节点，并为承办人生成待办。"))


@login_required
@require_POST
def stage_correct(request, pk, stage_pk):
    def call(matter, data):
        original = get_object_or_404(MatterStage, pk=stage_pk, matter=matter)
        services.correct_stage(original=original, staff=request.user, reason=data["reason"],
                               occurred_on=data["occurred_on"], amount=data["amount"], reference=data["reference"] or None,
                               note=data["note"] or None, document=data["document"])
    return _post(request, pk, "legal.add_matterstage", CorrectStageForm, call, _("已登记更正，原记录保留。"))


@login_required
@require_POST
def matter_cost(request, pk):
    def call(matter, data):
        services.record_cost(matter=matter, kind=data["kind"], amount=data["amount"], paid_on=data["paid_on"],
                             staff=request.user, note=data["note"], document=data["document"])
    return _post(request, pk, "legal.add_mattercost", CostForm, call, _("已登记费用。"))


@login_required
@require_POST
def matter_award(request, pk):
    def call(matter, data):
        services.record_award(matter=matter, kind=data["kind"], decided_on=data["decided_on"],
                              effective_on=data["effective_on"], late_fee_as_of=data["late_fee_as_of"],
                              principal=data["principal"], late_fee=data["late_fee"], costs=data["costs"],
                              reference=data["reference"], document=data["document"], staff=request.user)
    return _post(request, pk, "legal.add_award", AwardForm, call, _("已登记裁判文书，待另一人审批后入账。"))


@login_required
@require_POST
def award_decide(request, pk, award_pk, decision):
    if decision not in ("approve", "reject"):
        raise Http404

    def call(matter, data):
        award = get_object_or_404(Award, pk=award_pk, matter=matter)
        if decision == "approve":
            services.approve_award(award=award, staff=request.user, note=data["note"])
        else:
            services.reject_award(award=award, staff=request.user, note=data["note"])
    done = _("已入账：账务与裁判文书一致。") if decision == "approve" else _("已驳回。")
    return _post(request, pk, "legal.approve_award", DecisionForm, call, done)


@login_required
@require_POST
def matter_close(request, pk):
    def call(matter, data):
        services.close_matter(matter=matter, outcome=data["outcome"], closed_on=data["closed_on"], staff=request.user,
                              note=data["note"])
    return _post(request, pk, "legal.change_matter", CloseForm, call, _("已结案；如仍有欠费，催收阶梯恢复。"))


@login_required
def matter_file(request, pk, what, file_pk):
    """A stage's document, a cost's receipt or an award's decision, within the user's scope."""
    matter = _matter_in_scope(request, pk)
    model = {"stage": MatterStage, "cost": MatterCost, "award": Award}.get(what)
    if model is None:
        raise Http404
    row = get_object_or_404(model, pk=file_pk, matter=matter)
    field = row.document
    if not field:
        raise Http404
    return FileResponse(field.open("rb"), as_attachment=True, filename=field.name.rsplit("/", 1)[-1])
