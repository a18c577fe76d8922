from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from arrears.estate.models import (
    Building,
    Community,
    Company,
    Contact,
    ContactRelation,
    Owner,
    Ownership,
    ServiceTicket,
    StaffScope,
    TicketStatus,
    Unit,
    Vehicle,
)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "allocation_rule"]
    search_fields = ["name"]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "address", "contract_number", "contract_start", "contract_end"]
    list_filter = ["company"]
    list_select_related = ["company"]
    search_fields = ["name", "address", "contract_number"]


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ["name", "community"]
    list_filter = ["community"]
    list_select_related = ["community"]
    search_fields = ["name", "community__name"]


class OwnershipInline(admin.TabularInline):
    model = Ownership
    extra = 0
    raw_id_fields = ["owner"]
    fields = ["owner", "start", "end"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["__str__", "community", "building", "entrance", "room", "floor_area", "status", "status_since"]
    list_filter = ["community", "status"]
    list_select_related = ["community", "building__community"]
    search_fields = ["room", "building__name", "community__name"]
    raw_id_fields = ["building"]
    inlines = [OwnershipInline]

    def save_formset(self, request, form, formset, change):
        for ownership in formset.save(commit=False):
            ownership.community_id = form.instance.community_id
            ownership.save()
        for ownership in formset.deleted_objects:
            ownership.delete()


DISCLOSURE_FIELDS = ("relation", "disclosure_authorised")


def disclosure_fields_locked(request) -> bool:
    """Only a manager or legal records who may hear of the debt: the owner's own number, an authorisation."""
    return not request.user.has_perm("estate.authorise_disclosure")


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["kind", "value", "relation", "name", "disclosure_authorised"]

    def get_readonly_fields(self, request, obj=None):
        return DISCLOSURE_FIELDS if disclosure_fields_locked(request) else ()

    def has_add_permission(self, request, obj=None):
        # New numbers go through the contact page, where "本人" is not offered to them.
        return super().has_add_permission(request, obj) and not disclosure_fields_locked(request)


@admin.register(Owner)
class OwnerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "masked_id", "community", "do_not_contact"]
    list_filter = ["community", "kind", "do_not_contact"]
    list_select_related = ["community"]
    # Exact ID number only: a partial match would let anyone enumerate ID numbers by typing digits.
    search_fields = ["name", "=id_number"]
    inlines = [ContactInline]

    @admin.display(description=_("证件号"))
    def masked_id(self, obj):
        return obj.masked_id_number

    def save_formset(self, request, form, formset, change):
        for contact in formset.save(commit=False):
            contact.community_id = form.instance.community_id
            contact.save()
        for contact in formset.deleted_objects:
            contact.delete()


@admin.register(Ownership)
class OwnershipAdmin(admin.ModelAdmin):
    list_display = ["unit", "owner", "start", "end", "community"]
    list_filter = ["community"]
    list_select_related = ["unit__building__community", "owner", "community"]
    search_fields = ["owner__name", "unit__room"]
    raw_id_fields = ["unit", "owner"]
    exclude = ["community"]
    date_hierarchy = "start"

    def save_model(self, request, obj, form, change):
        obj.community_id = obj.unit.community_id  # the shard key always follows the unit
        super().save_model(request, obj, form, change)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["owner", "kind", "masked", "relation", "name", "disclosure_authorised", "community"]
    list_filter = ["community", "kind", "relation", "disclosure_authorised"]
    list_select_related = ["owner", "community"]
    search_fields = ["owner__name", "value", "name"]
    raw_id_fields = ["owner"]
    exclude = ["community"]

    def get_readonly_fields(self, request, obj=None):
        if not disclosure_fields_locked(request):
            return ()
        return DISCLOSURE_FIELDS if obj is not None else ("disclosure_authorised",)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "relation" and disclosure_fields_locked(request):
            # A number a collector adds is someone else's until a manager confirms it is the owner's.
            kwargs["choices"] = [(value, label) for value, label in ContactRelation.choices if value != ContactRelation.SELF]
            kwargs["initial"] = ContactRelation.RELATIVE
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        obj.community_id = obj.owner.community_id
        super().save_model(request, obj, form, change)

    @admin.display(description=_("号码/地址"))
    def masked(self, obj):
        return obj.masked_value


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ["plate", "unit", "community"]
    list_filter = ["community"]
    list_select_related = ["unit__building__community", "community"]
    search_fields = ["plate", "unit__room"]
    raw_id_fields = ["unit"]
    exclude = ["community"]

    def save_model(self, request, obj, form, change):
        obj.community_id = obj.unit.community_id
        super().save_model(request, obj, form, change)


@admin.register(StaffScope)
class StaffScopeAdmin(admin.ModelAdmin):
    list_display = ["user", "community", "building"]
    list_filter = ["community"]
    list_select_related = ["user", "community", "building__community"]
    search_fields = ["user__username", "community__name", "building__name"]
    raw_id_fields = ["user", "building"]


@admin.register(ServiceTicket)
class ServiceTicketAdmin(admin.ModelAdmin):
    list_display = ["unit", "kind", "summary", "status", "due_on", "assignee", "opened_on", "closed_on", "satisfaction",
                    "community"]
    list_filter = ["kind", "status", "satisfaction", "community"]
    list_select_related = ["unit__building", "community", "assignee"]
    search_fields = ["unit__room", "summary"]
    raw_id_fields = ["unit", "assignee"]
    exclude = ["community"]
    readonly_fields = ["status", "opened_by"]  # the status follows 办结日期 here; the staff site records each step
    date_hierarchy = "opened_on"

    def save_model(self, request, obj, form, change):
        obj.community_id = obj.unit.community_id
        if obj.closed_on is not None:
            obj.status = TicketStatus.RESOLVED
        elif obj.status == TicketStatus.RESOLVED:
            obj.status = TicketStatus.OPEN
        if not change:
            obj.opened_by = request.user
        super().save_model(request, obj, form, change)
