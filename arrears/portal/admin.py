"""Admin for the portal: the fee composition is edited here; orders, notifications, receipts and
owners' requests are records, written only through the services (read-only here)."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from arrears.core.admin import ViewOnlyAdmin

from .models import (
    Complaint,
    FeeComposition,
    FeeCompositionItem,
    InstalmentRequest,
    PaymentNotification,
    PaymentOrder,
    Receipt,
    ReversalRequest,
    SurveyResponse,
)


class ItemsFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        total = sum((form.cleaned_data.get("percent") or Decimal("0")
                     for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")), Decimal("0"))
        if total != Decimal("100"):
            raise ValidationError(_("各项占比合计须为 100%%，当前为 %(total)s%%") % {"total": total})


class FeeCompositionItemInline(admin.TabularInline):
    model = FeeCompositionItem
    formset = ItemsFormSet
    extra = 0


@admin.register(FeeComposition)
class FeeCompositionAdmin(admin.ModelAdmin):
    list_display = ["community", "charge_type", "published_on", "note"]
    list_filter = ["community", "charge_type"]
    list_select_related = ["community", "charge_type"]
    inlines = [FeeCompositionItemInline]


@admin.register(PaymentOrder)
class PaymentOrderAdmin(ViewOnlyAdmin):
    list_display = ["number", "provider", "community", "owner", "amount", "status", "created_at", "paid_at", "provider_trade_no"]
    list_filter = ["provider", "status", "community"]
    list_select_related = ["community", "owner"]
    search_fields = ["number", "provider_trade_no"]


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ViewOnlyAdmin):
    list_display = ["received_at", "provider", "order_number", "outcome", "reason"]
    list_filter = ["provider", "outcome"]
    search_fields = ["order_number"]


@admin.register(Receipt)
class ReceiptAdmin(ViewOnlyAdmin):
    list_display = ["number", "community", "payment", "issued_at", "voided_at"]
    list_select_related = ["community", "payment"]
    search_fields = ["number"]


@admin.register(ReversalRequest)
class ReversalRequestAdmin(ViewOnlyAdmin):
    list_display = ["payment", "status", "requested_by", "requested_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["payment", "requested_by", "decided_by"]


@admin.register(InstalmentRequest)
class InstalmentRequestAdmin(ViewOnlyAdmin):
    list_display = ["owner", "unit", "months", "total", "status", "requested_at", "decided_by"]
    list_filter = ["status", "community"]
    list_select_related = ["owner", "unit__building", "decided_by"]


@admin.register(Complaint)
class ComplaintAdmin(ViewOnlyAdmin):
    list_display = ["created_at", "owner", "unit", "charge", "text"]
    list_select_related = ["owner", "unit__building", "charge__charge_type", "charge__unit__building"]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ViewOnlyAdmin):
    list_display = ["answered_at", "payment", "payment_experience", "service", "comment"]
    list_filter = ["payment_experience", "service"]
    list_select_related = ["payment"]
