"""The ledger in the admin: append-only. Rows are written through services and never edited.

Charges, payments and reversals are added through the same services the rest of the system uses
(late-fee terms, allocation, credit, four-eyes checks); waivers are approved by an action that
calls `services.approve_waiver`. Nothing here changes or deletes a ledger row.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from arrears.core.admin import EvidenceAdmin
from arrears.core.errors import DomainError
from arrears.ledger import incentives, services
from arrears.ledger.models import (
    Allocation,
    Charge,
    ChargeOrigin,
    ChargeType,
    IncentiveGrant,
    IncentiveProgramme,
    Payment,
    PaymentReversal,
    PrepayAward,
    Tariff,
    Waiver,
)


def error_text(exc: DomainError) -> str:
    return exc.localized


class AppendOnlyAdmin(admin.ModelAdmin):
    """Viewable, never changed or deleted: a correction is a new entry (reversal, waiver)."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CreateThroughServiceAdmin(AppendOnlyAdmin):
    """The add form's last validation step calls the service; a refusal becomes a form error.

    The admin runs the add view in one transaction, so the row the service writes during
    validation is committed together with the admin's log entry, or not at all.
    """

    def create(self, request, data):
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form_class
        model_admin = self

        class ServiceForm(form_class):
            def _post_clean(self):
                super()._post_clean()
                if self.errors:
                    return
                try:
                    with transaction.atomic():
                        self.instance = model_admin.create(request, self.cleaned_data)
                except DomainError as exc:
                    self.add_error(None, error_text(exc))

        return ServiceForm

    def save_model(self, request, obj, form, change):
        """Nothing to save: the service wrote the row when the form was validated."""


@admin.register(ChargeType)
class ChargeTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ["community", "charge_type", "basis", "scope", "price", "cycle_months", "due_day",
                    "late_fee_daily_rate", "grace_days", "late_fee_cap", "effective_from", "effective_to"]
    list_filter = ["community", "charge_type", "basis"]
    list_select_related = ["community", "charge_type"]
    search_fields = ["community__name", "charge_type__name"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class TariffForm(form_class):
            def _post_clean(self):
                super()._post_clean()
                if self.errors:
                    return
                try:
                    services.validate_tariff(self.instance)  # overlapping tariffs are refused
                except DomainError as exc:
                    self.add_error(None, error_text(exc))

        return TariffForm


@admin.register(Charge)
class ChargeAdmin(CreateThroughServiceAdmin):
    list_display = ["unit", "owner", "charge_type", "period_start", "period_end", "amount", "due_date", "origin", "settled_on"]
    list_filter = ["community", "charge_type", "origin"]
    list_select_related = ["unit__building", "owner", "charge_type"]
    search_fields = ["owner__name", "unit__room", "note"]
    raw_id_fields = ["unit", "owner", "tariff"]
    date_hierarchy = "due_date"
    fields = ["unit", "owner", "charge_type", "period_start", "period_end", "amount", "due_date", "note"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return [*self.fields, "origin", "tariff", "late_fee_daily_rate", "grace_days", "late_fee_cap",
                "settled_on", "on_hold", "community", "created_at"]

    def create(self, request, data):
        return services.create_charge(
            unit_id=data["unit"].pk, owner_id=data["owner"].pk, charge_type_id=data["charge_type"].pk,
            period_start=data["period_start"], period_end=data["period_end"], amount=data["amount"],
            due_date=data["due_date"], origin=ChargeOrigin.ADJUSTMENT, note=data.get("note", ""),
        )


@admin.register(Payment)
class PaymentAdmin(CreateThroughServiceAdmin):
    list_display = ["receipt_number", "unit", "owner", "amount", "paid_on", "method", "unallocated", "operator", "reversed"]
    list_filter = ["community", "method", "repeats_reference"]
    list_select_related = ["unit__building", "owner", "operator", "reversal"]
    search_fields = ["receipt_number", "reference", "owner__name", "unit__room"]
    raw_id_fields = ["unit", "owner"]
    date_hierarchy = "paid_on"
    fields = ["unit", "owner", "amount", "paid_on", "method", "reference", "receipt_number"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return [*self.fields, "unallocated", "designation", "corrects", "repeats_reference", "operator", "company",
                "community", "created_at"]

    @admin.display(description=_("已冲正"), boolean=True)
    def reversed(self, obj):
        return hasattr(obj, "reversal")

    def create(self, request, data):
        return services.record_payment(
            unit_id=data["unit"].pk, owner_id=data["owner"].pk, amount=data["amount"], paid_on=data["paid_on"],
            method=data["method"], reference=services.desk_reference(data.get("reference", "")), receipt_number=data.get("receipt_number", ""),
            operator=request.user,
        )


@admin.register(PaymentReversal)
class PaymentReversalAdmin(CreateThroughServiceAdmin):
    list_display = ["payment", "reversed_on", "reason", "requested_by", "approved_by", "community"]
    list_filter = ["community"]
    list_select_related = ["payment", "requested_by", "approved_by", "community"]
    search_fields = ["payment__receipt_number", "reason"]
    raw_id_fields = ["payment", "approved_by"]
    date_hierarchy = "reversed_on"
    fields = ["payment", "reversed_on", "reason", "approved_by"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return [*self.fields, "requested_by", "community", "created_at"]

    def create(self, request, data):
        return services.reverse_payment(
            payment_id=data["payment"].pk, reversed_on=data["reversed_on"], reason=data["reason"],
            requested_by=request.user, approved_by=data.get("approved_by"),
        )


@admin.register(Allocation)
class AllocationAdmin(AppendOnlyAdmin):
    """Allocations are made by the allocation rule only, never by hand."""

    list_display = ["payment", "charge", "component", "amount", "value_date", "reversal"]
    list_filter = ["community", "component"]
    list_select_related = ["payment", "charge__unit__building", "charge__charge_type", "reversal__payment"]
    search_fields = ["payment__receipt_number"]
    raw_id_fields = ["payment", "charge", "reversal"]
    date_hierarchy = "value_date"

    def has_add_permission(self, request):
        return False


@admin.register(Waiver)
class WaiverAdmin(CreateThroughServiceAdmin):
    list_display = ["charge", "component", "amount", "status", "reason", "requested_by", "requested_on", "approved_by", "decided_on"]
    list_filter = ["status", "component", "community"]
    list_select_related = ["charge__unit__building", "charge__charge_type", "requested_by", "approved_by"]
    search_fields = ["reason", "charge__owner__name", "charge__unit__room"]
    raw_id_fields = ["charge"]
    date_hierarchy = "requested_on"
    fields = ["charge", "component", "amount", "reason"]
    actions = ["approve", "reject"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return [*self.fields, "status", "requested_by", "requested_on", "approved_by", "decided_on", "community"]

    def has_approve_permission(self, request):
        return request.user.has_perm("ledger.change_waiver")

    def create(self, request, data):
        return services.request_waiver(
            charge_id=data["charge"].pk, component=data["component"], amount=data["amount"], reason=data["reason"],
            requested_by=request.user,
        )

    def _decide(self, request, queryset, decide, done_message):
        done = 0
        for waiver in queryset.order_by("pk"):
            try:
                decide(waiver)
            except DomainError as exc:
                self.message_user(request, f"{waiver}: {error_text(exc)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("批准减免"), permissions=["approve"])
    def approve(self, request, queryset):
        self._decide(request, queryset,
                     lambda w: services.approve_waiver(waiver_id=w.pk, approved_by=request.user),
                     _("已批准 %(count)d 笔减免。"))

    @admin.action(description=_("驳回减免"), permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(request, queryset,
                     lambda w: services.reject_waiver(waiver_id=w.pk, decided_by=request.user),
                     _("已驳回 %(count)d 笔减免。"))


# -- incentives (seed 000) ---------------------------------------------------------------------


@admin.register(IncentiveProgramme)
class IncentiveProgrammeAdmin(CreateThroughServiceAdmin):
    """Opened through `incentives.create_programme` (its checks, its overlap refusal); ended by an action."""

    list_display = ["name", "community", "kind", "valid_from", "valid_to", "days", "percent", "amount", "created_by"]
    list_filter = ["community", "kind"]
    list_select_related = ["community", "created_by"]
    search_fields = ["name", "community__name"]
    fields = ["community", "kind", "name", "valid_from", "valid_to", "days", "percent", "amount", "charge_types"]
    actions = ["end_today"]

    def create(self, request, data):
        return incentives.create_programme(
            community_id=data["community"].pk, kind=data["kind"], name=data["name"], valid_from=data["valid_from"],
            valid_to=data.get("valid_to"), days=data.get("days") or 0, percent=data.get("percent"),
            amount=data.get("amount"), charge_type_ids=[t.pk for t in data.get("charge_types") or ()],
            created_by=request.user,
        )

    @admin.action(description=_("今天结束所选优惠活动"), permissions=["end"])
    def end_today(self, request, queryset):
        for programme in queryset:
            try:
                incentives.end_programme(programme_id=programme.pk, on=services.today(), staff=request.user)
            except DomainError as exc:
                self.message_user(request, f"{programme.name}: {error_text(exc)}", messages.ERROR)

    def has_end_permission(self, request):
        return request.user.has_perm("ledger.change_incentiveprogramme")


@admin.register(PrepayAward)
class PrepayAwardAdmin(EvidenceAdmin):
    list_display = ["unit", "owner", "programme", "payment", "starts", "ends", "created_at"]
    list_filter = ["community"]
    list_select_related = ["unit__building", "owner", "programme", "payment"]
    search_fields = ["owner__name", "unit__room"]


@admin.register(IncentiveGrant)
class IncentiveGrantAdmin(EvidenceAdmin):
    list_display = ["granted_on", "programme", "kind", "charge", "component", "amount", "payment", "withdraws"]
    list_filter = ["community", "kind"]
    list_select_related = ["programme", "charge__unit__building", "charge__charge_type", "payment"]
    search_fields = ["programme__name", "charge__owner__name"]
    date_hierarchy = "granted_on"
