"""The legal desk in the admin: matters and their evidence are viewed here, written on the staff site
by the services; the company's templates and its policy on public notices are edited here."""

from django import forms
from django.contrib import admin

from arrears.core.admin import EvidenceAdmin, EvidenceInline, ViewOnlyAdmin
from arrears.core.errors import DomainError
from arrears.legal import documents
from arrears.legal.models import (
    Award,
    CommunityDocument,
    DocumentTemplate,
    LegalPolicy,
    Matter,
    MatterCost,
    MatterStage,
    PublicNotice,
    PublicNoticeEntry,
)


class StageInline(EvidenceInline):
    model = MatterStage
    fields = ["occurred_on", "route", "stage", "amount", "reference", "note", "corrects", "recorded_by"]
    readonly_fields = fields


class CostInline(EvidenceInline):
    model = MatterCost
    fields = ["paid_on", "kind", "amount", "note", "corrects", "recorded_by"]
    readonly_fields = fields


@admin.register(Matter)
class MatterAdmin(ViewOnlyAdmin):
    list_display = ["opened_on", "route", "status", "unit", "owner", "court", "court_case_number", "responsible"]
    list_filter = ["status", "route", "community"]
    list_select_related = ["unit__building", "owner", "responsible"]
    search_fields = ["court_case_number", "unit__room", "owner__name"]
    inlines = [StageInline, CostInline]


@admin.register(MatterStage)
class MatterStageAdmin(EvidenceAdmin):
    list_display = ["occurred_on", "route", "stage", "matter", "reference", "recorded_by"]
    list_filter = ["route", "community"]


@admin.register(MatterCost)
class MatterCostAdmin(EvidenceAdmin):
    list_display = ["paid_on", "kind", "amount", "matter", "recorded_by"]
    list_filter = ["kind", "community"]


@admin.register(Award)
class AwardAdmin(EvidenceAdmin):
    list_display = ["decided_on", "kind", "reference", "principal", "late_fee", "costs", "status", "recorded_by",
                    "decided_by"]
    list_filter = ["status", "kind", "community"]


@admin.register(CommunityDocument)
class CommunityDocumentAdmin(EvidenceAdmin):
    list_display = ["uploaded_at", "community", "kind", "title", "sha256", "uploaded_by"]
    list_filter = ["kind", "community"]


@admin.register(PublicNotice)
class PublicNoticeAdmin(EvidenceAdmin):
    list_display = ["prepared_at", "community", "building", "mode", "status", "prepared_by", "decided_by", "withdrawn_at"]
    list_filter = ["status", "community"]


@admin.register(PublicNoticeEntry)
class PublicNoticeEntryAdmin(EvidenceAdmin):
    list_display = ["notice", "label", "amount"]


class DocumentTemplateForm(forms.ModelForm):
    """The placeholders are checked here as on the staff site: nothing unknown is saved to reach a court."""

    class Meta:
        model = DocumentTemplate
        fields = ["company", "kind", "title", "body"]

    def clean(self):
        data = super().clean()
        if data.get("kind") and data.get("title") is not None and data.get("body") is not None:
            try:
                documents.check_template(kind=data["kind"], title=data["title"], body=data["body"])
            except DomainError as refused:
                raise forms.ValidationError(refused.localized) from refused
        return data


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(admin.ModelAdmin):
    form = DocumentTemplateForm
    list_display = ["kind", "title", "company", "updated_by", "updated_at"]
    list_filter = ["kind"]
    readonly_fields = ["updated_by"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(LegalPolicy)
class LegalPolicyAdmin(admin.ModelAdmin):
    list_display = ["company", "public_notice_enabled", "public_notice_amounts"]
