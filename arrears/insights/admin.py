"""Insights in the admin: the snapshots, shown to check them; targets, written through `targets.set_target` so
the same checks and the audit event apply."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model

from arrears.core.admin import ViewOnlyAdmin
from arrears.core.errors import DomainError
from arrears.insights import targets
from arrears.insights.models import KpiSnapshot, RiskModel, SnapshotState, Target

KEY_FIELDS = ["community", "collector", "kind", "period_start"]
VALUE_FIELDS = ["amount", "arrears_rate_max", "success_rate_min"]


class TargetForm(forms.ModelForm):
    """Checked as on the staff site (role, scope, collector, period, values) before anything is saved."""

    request = None  # set by TargetAdmin.get_form

    class Meta:
        model = Target
        fields = [*KEY_FIELDS, *VALUE_FIELDS]

    def clean(self):
        data = super().clean()
        values = {name: data.get(name, getattr(self.instance, name, None)) for name in [*KEY_FIELDS, *VALUE_FIELDS]}
        if self.instance.pk:
            values.update({name: getattr(self.instance, name) for name in KEY_FIELDS})
        if values["community"] is None or not values["kind"] or values["period_start"] is None:
            return data
        try:
            targets.check_target(staff=self.request.user, **values)
        except DomainError as refused:
            raise forms.ValidationError(refused.localized) from refused
        return data


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    form = TargetForm
    list_display = ["period_start", "kind", "community", "collector", "amount", "arrears_rate_max", "success_rate_min",
                    "set_by", "set_at"]
    list_filter = ["kind", "community"]
    list_select_related = ["community", "collector", "set_by"]
    date_hierarchy = "period_start"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def get_readonly_fields(self, request, obj=None):
        # A target's key is what it answers for: another period or person is another target.
        return [*KEY_FIELDS, "set_by", "set_at"] if obj is not None else ["set_by", "set_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = targets.communities_for(request.user)
        elif db_field.name == "collector":
            communities = targets.communities_for(request.user).values_list("pk", flat=True)
            kwargs["queryset"] = (get_user_model().objects.filter(
                pk__in=targets.collector_choices(communities).values("user_id")).order_by("username"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # a target is changed (and the change logged), never removed

    def save_model(self, request, obj, form, change):
        saved = targets.set_target(staff=request.user, community=obj.community, collector=obj.collector, kind=obj.kind,
                                   period_start=obj.period_start, amount=obj.amount,
                                   arrears_rate_max=obj.arrears_rate_max, success_rate_min=obj.success_rate_min)
        obj.pk, obj.set_by, obj.set_at = saved.pk, saved.set_by, saved.set_at


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(ViewOnlyAdmin):
    """A cache of the ledger: shown to check it, written only by the refresh after the daily run."""

    list_display = ["building", "as_of", "year_due", "year_outstanding", "recovered", "households_owing", "computed_at"]
    list_filter = ["community", "as_of"]
    list_select_related = ["building", "building__community"]


@admin.register(SnapshotState)
class SnapshotStateAdmin(ViewOnlyAdmin):
    list_display = ["community", "through", "allocation_mark", "charge_mark", "waiver_mark", "refreshed_at"]


@admin.register(RiskModel)
class RiskModelAdmin(ViewOnlyAdmin):
    """The trained models and their hold-out reports: trained by `arrears risk train` or the monthly task only."""

    list_display = ["company", "trained_at", "algorithm", "cut_off", "active"]
    list_filter = ["company", "active"]
    exclude = ["fitted"]
    readonly_fields = ["company", "trained_at", "trained_on", "cut_off", "algorithm", "features", "report", "sha256", "active"]
