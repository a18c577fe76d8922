"""Admin for notices: templates are edited through `texts.check_template`; letters, deliveries, their corrections and events are evidence, read-only."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from arrears.core.admin import EvidenceAdmin, EvidenceInline
from arrears.core.errors import DomainError

from . import texts
from .models import DeliveryCorrection, Letter, LetterBatch, MessageEvent, NoticeTemplate


class NoticeTemplateForm(forms.ModelForm):
    class Meta:
        model = NoticeTemplate
        fields = ["community", "code", "channel", "name", "subject", "body", "neutral", "provider_codes", "payment_methods",
                  "active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 16, "cols": 100})}

    ERROR_FIELDS = {"template_code": "code", "template_channel": "channel", "template_name": "name",
                    "template_body": "body", "template_placeholder": "body", "neutral_text": "body",
                    "template_neutral": "neutral", "template_provider": "provider_codes"}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            texts.check_template(code=data["code"], channel=data["channel"], name=data["name"], body=data["body"],
                                 subject=data.get("subject") or "", neutral=data.get("neutral", False),
                                 provider_codes=data.get("provider_codes") or {})
        except DomainError as error:
            self.add_error(self.ERROR_FIELDS.get(error.code), error.localized)
        return data


@admin.register(NoticeTemplate)
class NoticeTemplateAdmin(admin.ModelAdmin):
    form = NoticeTemplateForm
    list_display = ["code", "name", "channel", "community", "neutral", "active", "updated_at"]
    list_filter = ["channel", "neutral", "active", "community"]
    search_fields = ["code", "name", "body"]
    readonly_fields = ["sms_length", "preview"]

    def has_delete_permission(self, request, obj=None):
        return False  # messages and letters name their template by code: switch one off instead

    @admin.display(description=_("示例内容"))
    def preview(self, obj):
        return texts.render(obj.body, texts.EXAMPLE_CONTEXT) if obj and obj.body else ""

    @admin.display(description=_("短信字数 / 条数"))
    def sms_length(self, obj):
        if not obj or obj.channel != "sms":
            return "—"
        length, parts = texts.sms_length(texts.render(obj.body, texts.EXAMPLE_CONTEXT), "物业")
        return f"{length} / {parts}"


class DeliveryCorrectionInline(EvidenceInline):
    """A letter's delivery corrections, oldest first: the last one is what counts."""

    model = DeliveryCorrection
    fields = ["corrected_at", "corrected_by", "reason", "delivery_method", "tracking_no", "proof", "proof_sha256",
              "delivery_note", "corrects"]
    readonly_fields = fields


@admin.register(LetterBatch)
class LetterBatchAdmin(EvidenceAdmin):
    list_display = ["issued_on", "kind", "community", "count", "created_by", "override_reason"]
    list_filter = ["kind", "community"]


@admin.register(Letter)
class LetterAdmin(EvidenceAdmin):
    """The letter as issued and its delivery as recorded; corrections are listed below it."""

    list_display = ["number", "kind", "unit", "owner", "issued_on", "status", "delivered_on", "delivery_method"]
    list_filter = ["kind", "status", "delivery_method", "community"]
    list_select_related = ["unit__building", "owner"]
    search_fields = ["number", "owner__name", "tracking_no"]
    inlines = [DeliveryCorrectionInline]


@admin.register(DeliveryCorrection)
class DeliveryCorrectionAdmin(EvidenceAdmin):
    list_display = ["letter", "corrected_at", "corrected_by", "delivery_method", "tracking_no", "reason"]
    list_select_related = ["letter", "corrected_by"]
    search_fields = ["letter__number", "tracking_no"]


@admin.register(MessageEvent)
class MessageEventAdmin(EvidenceAdmin):
    list_display = ["at", "message", "kind", "detail", "actor"]
    list_filter = ["kind"]
