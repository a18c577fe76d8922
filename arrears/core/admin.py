"""Evidence in the admin: shown, never added, changed or deleted (DESIGN.md §3), and the audit trail.

A correction of evidence is a new row written by its app's service, with who, when and why;
the admin shows the original and its corrections side by side.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from arrears.core.models import AuditEvent, StaffProfile


class NoHandWrites:
    """No add, change or delete in the admin: for a ModelAdmin or an inline alike."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ViewOnlyAdmin(NoHandWrites, admin.ModelAdmin):
    """Viewable only: rows written by a service (the daily run, the outbox, a payment), never by hand."""


class EvidenceAdmin(ViewOnlyAdmin):
    """Read-only: no add, no change, no delete (nor its bulk action); every field is shown as text."""

    actions = None

    def get_readonly_fields(self, request, obj=None):
        return [*(field.name for field in self.model._meta.fields), *self.readonly_fields]


class EvidenceInline(NoHandWrites, admin.TabularInline):
    """Rows hanging off a piece of evidence (its attachments, its corrections), shown read-only."""

    extra = 0
    can_delete = False
    show_change_link = True
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.select_related)


@admin.register(AuditEvent)
class AuditEventAdmin(EvidenceAdmin):
    list_display = ["at", "action", "actor", "community_id"]
    list_filter = ["action"]
    list_select_related = ["actor"]
    search_fields = ["action"]
    date_hierarchy = "at"


class StaffProfileInline(admin.StackedInline):
    """Title, office phone and extension beside the user's name: what scripts and letters give owners."""

    model = StaffProfile
    can_delete = False
    extra = 1
    max_num = 1


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "title", "office_phone", "extension"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__last_name", "user__first_name"]
    raw_id_fields = ["user"]


User = get_user_model()
if admin.site.is_registered(User):
    # The stock user admin, with the staff profile under the real name (last name + first name).
    admin.site.unregister(User)

    @admin.register(User)
    class StaffUserAdmin(UserAdmin):
        inlines = [*UserAdmin.inlines, StaffProfileInline]
