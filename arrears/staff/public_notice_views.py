"""Public arrears notice pages (欠费公示): the list, the prepare form, the notice with its log and its
decisions, the poster. Thin over legal.public_notices; a notice outside the user's scope is not found."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from arrears.core.errors import DomainError
from arrears.core.models import AuditEvent
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Building, Community
from arrears.legal import public_notices
from arrears.legal.models import NoticeMode, NoticeStatus, PublicNotice
from arrears.staff.collection_views import _form_errors


def _require_notice_desk(user) -> None:
    if not (user.has_perm(public_notices.PREPARE_PERM) or user.has_perm(public_notices.APPROVE_PERM)):
        raise PermissionDenied


def _targets(user) -> list[tuple[str, str]]:
    """What the user may post a notice for: whole communities they hold, and buildings they see."""
    communities, buildings = ((set(Community.objects.values_list("pk", flat=True)), set()) if user.is_superuser
                              else estate_selectors.scope_grants(user))
    choices = []
    for community in Community.objects.filter(pk__in=communities).order_by("name"):
        choices.append((f"c{community.pk}", _("%(community)s（整个小区）") % {"community": community.name}))
    shown = Building.objects.filter(community_id__in=communities) | Building.objects.filter(pk__in=buildings)
    for building in shown.select_related("community").order_by("community__name", "sort_key", "pk"):
        choices.append((f"b{building.pk}", f"{building.community.name} {building.name}"))
    return choices


class PrepareForm(forms.Form):
    target = forms.ChoiceField(label=gettext_lazy("公示范围"))
    mode = forms.ChoiceField(label=gettext_lazy("形式"), choices=NoticeMode.choices, initial=NoticeMode.MASKED_ROOMS,
                             widget=forms.RadioSelect)
    show_amounts = forms.BooleanField(label=gettext_lazy("列出金额（须公司设置允许）"), required=False)
    as_of = forms.DateField(label=gettext_lazy("数据日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    legal_basis = forms.CharField(
        label=gettext_lazy("依据"), required=False, max_length=public_notices.TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("每行一条。留空则为《民法典》第九百四十四条及本小区物业服务合同、管理规约。"))
    office_phone = forms.CharField(label=gettext_lazy("咨询电话"), required=False, max_length=50,
                                   help_text=gettext_lazy("留空则为物业公司的客服电话。"))

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets


def _target(value: str):
    """(community, building) of a chosen target, already checked against the user's choices."""
    if value.startswith("b"):
        building = get_object_or_404(Building.objects.select_related("community__company"), pk=int(value[1:]))
        return building.community, building
    return get_object_or_404(Community.objects.select_related("company"), pk=int(value[1:])), None


@login_required
def notice_list(request):
    _require_notice_desk(request.user)
    notices = (public_notices.notices_visible_to(request.user)
               .select_related("community", "building", "prepared_by", "decided_by", "withdrawn_by")
               .annotate(rooms=Count("entries")).order_by("-prepared_at", "-pk")[:100])
    return render(request, "staff/public_notices.html", {
        "notices": notices, "can_prepare": request.user.has_perm(public_notices.PREPARE_PERM)})


@login_required
def notice_prepare(request):
    if not request.user.has_perm(public_notices.PREPARE_PERM):
        raise PermissionDenied
    targets = _targets(request.user)
    form = PrepareForm(request.POST or None, targets=targets, initial={"as_of": timezone.localdate()})
    if request.method == "POST":
        if not form.is_valid():
            messages.error(request, _form_errors(form))
        else:
            data = form.cleaned_data
            community, building = _target(data["target"])
            try:
                notice = public_notices.prepare_notice(
                    community=community, building=building, mode=data["mode"], show_amounts=data["show_amounts"],
                    as_of=data["as_of"], staff=request.user, legal_basis=data["legal_basis"].strip() or None,
                    office_phone=data["office_phone"].strip() or None)
            except DomainError as error:
                messages.error(request, error.localized)
            else:
                if data["show_amounts"] and not notice.show_amounts:
                    messages.warning(request, _("公司设置不允许公示金额：本公示未列金额。"))
                messages.success(request, _("已拟制欠费公示，请另一位经理审批后再张贴。"))
                return redirect("staff:public_notice", notice.pk)
    return render(request, "staff/public_notice_prepare.html", {"form": form, "has_targets": bool(targets)})


def _notice_for(request, pk) -> PublicNotice:
    _require_notice_desk(request.user)
    return get_object_or_404(public_notices.notices_visible_to(request.user).select_related(
        "community__company", "building", "prepared_by", "decided_by", "withdrawn_by"), pk=pk)


@login_required
def notice_detail(request, pk):
    notice = _notice_for(request, pk)
    entries = notice.entries.select_related("unit__building").order_by("unit__building__sort_key", "unit__sort_key", "pk")
    rejection = (AuditEvent.objects.filter(action="public_notice_rejected", community_id=notice.community_id,
                                           detail__notice=notice.pk).order_by("-pk").values_list("detail", flat=True).first()
                 if notice.status == NoticeStatus.REJECTED else None)
    user = request.user
    return render(request, "staff/public_notice.html", {
        "notice": notice, "entries": entries, "rejection_note": (rejection or {}).get("note", ""),
        "can_decide": (notice.status == NoticeStatus.PENDING and user.has_perm(public_notices.APPROVE_PERM)
                       and notice.prepared_by_id != user.pk),
        "own_pending": notice.status == NoticeStatus.PENDING and notice.prepared_by_id == user.pk,
        "can_withdraw": notice.status == NoticeStatus.APPROVED,
    })


def _decide(request, pk, action):
    notice = _notice_for(request, pk)
    try:
        action(notice)
    except DomainError as error:
        (messages.info if error.code == "already_decided" else messages.error)(request, error.localized)
        return None
    return notice


@login_required
@require_POST
def notice_approve(request, pk):
    if _decide(request, pk, lambda notice: public_notices.approve_notice(notice=notice, staff=request.user)):
        messages.success(request, _("已批准张贴。撤下时请在本页登记原因。"))
    return redirect("staff:public_notice", pk)


@login_required
@require_POST
def notice_reject(request, pk):
    if _decide(request, pk, lambda notice: public_notices.reject_notice(notice=notice, staff=request.user,
                                                                        note=request.POST.get("note", ""))):
        messages.success(request, _("已驳回，本公示不张贴。"))
    return redirect("staff:public_notice", pk)


@login_required
@require_POST
def notice_withdraw(request, pk):
    if _decide(request, pk, lambda notice: public_notices.withdraw_notice(notice=notice, staff=request.user,
                                                                          reason=request.POST.get("reason", ""))):
        messages.success(request, _("已登记撤下。"))
    return redirect("staff:public_notice", pk)


@login_required
def notice_poster(request, pk):
    notice = _notice_for(request, pk)
    if not notice.file:
        raise Http404
    return FileResponse(notice.file.open("rb"), content_type="application/pdf",
                        filename=f"public-notice-{notice.pk}-{notice.as_of:%Y%m%d}.pdf")
