from django.contrib import admin

from arrears.core.admin import ViewOnlyAdmin
from arrears.insights.models import KpiSnapshot, SnapshotState


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(ViewOnlyAdmin):
    """A cache of the ledger: shown to check it, written only by the refresh after the daily run."""

    list_display = ["building", "as_of", "year_due", "year_outstanding", "recovered", "households_owing", "computed_at"]
    list_filter = ["community", "as_of"]
    list_select_related = ["building", "building__community"]


@admin.register(SnapshotState)
class SnapshotStateAdmin(ViewOnlyAdmin):
    list_display = ["community", "through", "allocation_mark", "charge_mark", "waiver_mark", "refreshed_at"]
