"""The manager's 优惠活动 page: a community's incentive programmes, open one, end one. Thin over ledger.incentives."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from arrears.core.errors import DomainError
from arrears.estate import selectors as estate_selectors
from arrears.estate.models import Community
from arrears.ledger import incentives
from arrears.ledger.models import ChargeType, IncentiveKind, IncentiveProgramme


class ProgrammeForm(forms.Form):
    community = forms.ModelChoiceField(label=gettext_lazy("小区"), queryset=None)
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=IncentiveKind.choices)
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    valid_from = forms.DateField(label=gettext_lazy("生效日期"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_to = forms.DateField(label=gettext_lazy("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    days = forms.IntegerField(label=gettext_lazy("天数"), min_value=0, max_value=365, required=False)
    percent = forms.CharField(label=gettext_lazy("优惠比例（%）"), max_length=8, required=False)
    amount = forms.CharField(label=gettext_lazy("优惠金额"), max_length=16, required=False)
    charge_types = forms.ModelMultipleChoiceField(label=gettext_lazy("限收费项目"), queryset=ChargeType.objects.all(),
                                                  required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities


def _communities(user):
    """Whole communities only: a programme speaks to every owner of a community, so a manager scoped to
    one building neither sees nor opens one."""
    if user.is_superuser:
        return Community.objects.order_by("name")
    whole, _ = estate_selectors.scope_grants(user)
    return Community.objects.filter(pk__in=whole).order_by("name")


@login_required
def programmes(request):
    """The programmes of the communities the manager sees, newest first; the form to open one."""
    if not request.user.has_perm("ledger.view_incentiveprogramme"):
        raise PermissionDenied
    communities = _communities(request.user)
    form = ProgrammeForm(request.POST or None, communities=communities)
    if request.method == "POST":
        if not request.user.has_perm("ledger.add_incentiveprogramme"):
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                programme = incentives.create_programme(
                    community_id=data["community"].pk, kind=data["kind"], name=data["name"], valid_from=data["valid_from"],
                    valid_to=data["valid_to"], days=data["days"] or 0, percent=data["percent"], amount=data["amount"],
                    charge_type_ids=[t.pk for t in data["charge_types"]], created_by=request.user,
                )
            except DomainError as error:
                messages.error(request, error.localized)
            else:
                messages.success(request, _("已创建优惠活动：%(name)s") % {"name": programme.name})
                return redirect("staff:incentives")
    rows = (IncentiveProgramme.objects.filter(community__in=communities).select_related("community", "created_by")
            .prefetch_related("charge_types").order_by("community__name", "-valid_from", "-pk"))
    return render(request, "staff/incentives.html", {"form": form, "programmes": rows, "today": timezone.localdate()})


@login_required
@require_POST
def programme_end(request, pk):
    """End a programme today (or on the day given); what it granted stands."""
    if not request.user.has_perm("ledger.change_incentiveprogramme"):
        raise PermissionDenied
    programme = get_object_or_404(IncentiveProgramme.objects.filter(community__in=_communities(request.user)), pk=pk)
    field = forms.DateField(required=False)
    try:
        on = field.clean(request.POST.get("on")) or timezone.localdate()
        ended = incentives.end_programme(programme_id=programme.pk, on=on, staff=request.user)
    except forms.ValidationError:
        messages.error(request, _("日期格式不正确"))
    except DomainError as error:
        messages.error(request, error.localized)
    else:
        if ended.called_off:
            messages.success(request, _("优惠活动“%(name)s”尚未开始，已取消") % {"name": programme.name})
        else:
            messages.success(request, _("优惠活动“%(name)s”将于 %(day)s 结束") % {"name": programme.name,
                                                                          "day": ended.valid_to.isoformat()})
    return redirect("staff:incentives")
