from django.contrib import admin

from arrears.core.admin import ViewOnlyAdmin
from arrears.insights.models import KpiSnapshot, RiskModel, SnapshotState


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
