"""Collection in the admin: policies and ladders, scripts, and the case records, mostly read-only.

The daily run owns the case snapshot, the fired steps, the outbox and its own run log: they are
viewed here, never edited. The evidence (催收记录 and their attachments, limitation events, the outbox) is read-only:
a correction is a new entry that `corrects` the old, written on the staff site.
The shard key `community` is never typed in: it follows the case, unit, owner or charge.
"""

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from arrears.collection import rules, scripts
from arrears.collection.defaults import ladder_rows
from arrears.collection.models import (
    ArrearsSummary,
    AttemptAttachment,
    Case,
    CaseStep,
    ChargeDispute,
    CollectionPolicy,
    CollectionRun,
    CollectionRunPart,
    CollectionRunStart,
    CollectorAssignment,
    ContactAttempt,
    Instalment,
    InstalmentPlan,
    LadderStep,
    LimitationEvent,
    LimitationProof,
    OutgoingMessage,
    OwnerProfile,
    ProfileChange,
    Promise,
    RiskScore,
    SatisfactionRating,
    Script,
    Task,
)
from arrears.collection.services import sync_charge_hold
from arrears.core.admin import EvidenceAdmin, EvidenceInline, ViewOnlyAdmin
from arrears.core.errors import DomainError


def error_text(exc: DomainError) -> str:
    return exc.localized


def technique_label(number: int | None) -> str:
    if number is None:
        return "—"
    zh, en = rules.TECHNIQUE_LABELS[number]
    return f"{number} {en if (get_language() or '').startswith('en') else zh}"


class CommunityFromParentAdmin(admin.ModelAdmin):
    """The shard key is copied from a related row on save, never chosen in the form."""

    community_from = ""  # the foreign key whose community_id the row takes

    def get_exclude(self, request, obj=None):
        return [*(super().get_exclude(request, obj) or []), "community"]

    def save_model(self, request, obj, form, change):
        obj.community_id = getattr(obj, self.community_from).community_id
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for row in formset.save(commit=False):
            row.community_id = form.instance.community_id
            row.save()
        for row in formset.deleted_objects:
            row.delete()
        formset.save_m2m()


# -- policy, ladder, assignments ----------------------------------------------------------------

class LadderStepInline(admin.TabularInline):
    model = LadderStep
    extra = 0
    ordering = ["day_offset", "id"]
    fields = ["day_offset", "code", "name", "channel", "technique", "template_code", "script_code", "tiers",
              "personas", "credit", "min_amount", "min_months", "requires_steps", "days_after_required",
              "no_payment_since_required", "lawyer_letter_eligibility", "quiet_days", "after_delivery", "active"]


@admin.register(CollectionPolicy)
class CollectionPolicyAdmin(admin.ModelAdmin):
    list_display = ["community", "tier_a_months", "tier_a_amount", "tier_b_months", "tier_b_amount",
                    "contact_on_weekends", "calls_per_day", "sms_per_7_days"]
    list_select_related = ["community"]
    search_fields = ["community__name"]
    inlines = [LadderStepInline]
    fieldsets = [
        (None, {"fields": ["community"]}),
        (_("分类阈值"), {"fields": [("tier_a_months", "tier_a_amount"), ("tier_b_months", "tier_b_amount")]}),
        (_("联系时段"), {"fields": [("call_morning_start", "call_morning_end"),
                                   ("call_afternoon_start", "call_afternoon_end"), ("sms_start", "sms_end"),
                                   "contact_on_weekends"]}),
        (_("频次上限"), {"fields": ["sms_per_7_days", "calls_per_day", "calls_per_7_days", "visits_per_7_days"]}),
        (_("信号与分期"), {"fields": ["unreachable_after", "vacant_months", "plan_months", "plan_breach_days",
                                     "plan_waives_late_fee", "lawyer_letters_at_once", "letter_repeat_days"]}),
        (_("逾期风险预警"), {"fields": ["early_reminder_score"]}),
        (_("本小区额外不联系日"), {"fields": ["fallback_holidays"], "classes": ["collapse"]}),
    ]

    def has_delete_permission(self, request, obj=None):
        return False  # fired steps and tasks point at the ladder: switch a step off instead

    def save_related(self, request, form, formsets, change):
        """A new policy without steps gets the default ladder (DESIGN.md §2)."""
        super().save_related(request, form, formsets, change)
        if not change and not form.instance.steps.exists():
            LadderStep.objects.bulk_create(LadderStep(policy=form.instance, **row) for row in ladder_rows())


@admin.register(LadderStep)
class LadderStepAdmin(admin.ModelAdmin):
    list_display = ["policy", "day_offset", "code", "name", "channel", "technique", "script_code", "template_code",
                    "tiers", "active"]
    list_filter = ["policy__community", "channel", "technique", "active"]
    list_select_related = ["policy__community"]
    search_fields = ["code", "name", "policy__community__name"]
    ordering = ["policy_id", "day_offset", "id"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CollectorAssignment)
class CollectorAssignmentAdmin(CommunityFromParentAdmin):
    community_from = "building"
    list_display = ["building", "user", "community"]
    list_filter = ["community"]
    list_select_related = ["building__community", "user", "community"]
    search_fields = ["building__name", "user__username", "community__name"]
    raw_id_fields = ["building", "user"]


# -- scripts ------------------------------------------------------------------------------------

class ScriptForm(forms.ModelForm):
    technique = forms.TypedChoiceField(
        label=_("招式"), required=False, coerce=int, empty_value=None,
        choices=[("", "—"), *((number, f"{number} {zh}") for number, (zh, _en) in rules.TECHNIQUE_LABELS.items())],
    )

    class Meta:
        model = Script
        fields = ["code", "title", "technique", "channel", "neutral", "body", "active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 24, "cols": 100})}

    # Which field a refusal of `scripts.check_script` belongs to.
    ERROR_FIELDS = {"script_code": "code", "script_title": "title", "script_technique": "technique",
                    "script_channel": "channel", "script_body": "body", "script_placeholder": "body",
                    "neutral_text": "body"}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            if data.get("neutral"):
                # 个人信息保护法: a neutral script may be said to a third party, so nothing of the debt.
                rules.validate_neutral_text(data.get("body", ""))
            scripts.check_script(code=data.get("code", ""), title=data.get("title", ""), body=data.get("body", ""),
                                 neutral=bool(data.get("neutral")), technique=data.get("technique"),
                                 channel=data.get("channel", ""))
        except DomainError as exc:
            self.add_error(self.ERROR_FIELDS.get(exc.code), error_text(exc))
        return data


@admin.register(Script)
class ScriptAdmin(admin.ModelAdmin):
    form = ScriptForm
    list_display = ["code", "title", "technique_display", "channel", "neutral", "active"]
    list_filter = ["technique", "channel", "neutral", "active"]
    search_fields = ["code", "title", "body"]
    readonly_fields = ["placeholders", "preview"]
    fields = ["code", "title", "technique", "channel", "neutral", "active", "body", "placeholders", "preview"]

    def has_delete_permission(self, request, obj=None):
        return False  # tasks and attempts refer to scripts by code: switch one off instead

    @admin.display(description=_("招式"), ordering="technique")
    def technique_display(self, obj):
        return technique_label(obj.technique)

    @admin.display(description=_("可用占位符"))
    def placeholders(self, obj):
        english = (get_language() or "").startswith("en")
        return format_html(
            "<br>".join(["{{{}}} {}"] * len(scripts.PLACEHOLDERS)),
            *(item for name, (zh, en) in scripts.PLACEHOLDERS.items() for item in (name, en if english else zh)),
        )

    @admin.display(description=_("示例效果"))
    def preview(self, obj):
        if obj is None or not obj.body:
            return "—"
        return format_html('<div style="white-space: pre-wrap">{}</div>',
                           scripts.render_script(obj.body, scripts.EXAMPLE_CONTEXT))


# -- cases and what hangs off them --------------------------------------------------------------

class CaseStepInline(EvidenceInline):
    model = CaseStep
    fields = ["fired_on", "step"]
    readonly_fields = fields
    select_related = ("step",)


class TaskInline(EvidenceInline):
    model = Task
    fields = ["due_on", "title", "kind", "channel", "technique", "script_code", "status", "assignee", "done_at"]
    readonly_fields = fields
    select_related = ("assignee",)


class PromiseInline(EvidenceInline):
    model = Promise
    fields = ["made_on", "due_on", "amount", "status", "resolved_on", "created_by"]
    readonly_fields = fields
    select_related = ("created_by",)


# The snapshot of the last daily run and the case's life cycle: the run owns them.
CASE_RUN_FIELDS = ["community", "unit", "owner", "status", "opened_on", "closed_on", "close_reason", "previous",
                   "as_of", "principal", "late_fee", "oldest_due", "days_overdue", "months_overdue", "bucket", "tier",
                   "situations", "techniques", "suggested_persona", "limitation_deadline", "front_desk_flag",
                   "last_step", "last_step_on"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["community", "unit", "owner", "tier", "bucket", "principal", "days_overdue", "status", "collector"]
    list_filter = ["status", "tier", "bucket", "community"]
    list_select_related = ["community", "unit__building", "owner", "collector"]
    search_fields = ["unit__room", "owner__name"]
    raw_id_fields = ["collector"]
    readonly_fields = CASE_RUN_FIELDS
    fields = [*CASE_RUN_FIELDS[:8], "collector", "quiet_until", *CASE_RUN_FIELDS[8:]]
    date_hierarchy = "opened_on"
    inlines = [CaseStepInline, TaskInline, PromiseInline]

    def has_add_permission(self, request):
        return False  # cases are opened by the daily run, with a snapshot from the ledger

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CaseStep)
class CaseStepAdmin(ViewOnlyAdmin):
    list_display = ["fired_on", "case", "step", "community"]
    list_filter = ["community", "step__channel"]
    list_select_related = ["case__unit__building", "case__owner", "step", "community"]
    search_fields = ["case__unit__room", "case__owner__name"]
    date_hierarchy = "fired_on"


@admin.register(ArrearsSummary)
class ArrearsSummaryAdmin(ViewOnlyAdmin):
    list_display = ["building", "as_of", "overdue_principal", "units_owing", "units_owned", "computed_at"]
    list_filter = ["community", "as_of"]
    list_select_related = ["building", "community"]


@admin.register(Task)
class TaskAdmin(CommunityFromParentAdmin):
    community_from = "case"
    list_display = ["due_on", "title", "case", "kind", "channel", "technique", "status", "assignee", "priority"]
    list_filter = ["status", "kind", "channel", "community"]
    list_select_related = ["case__unit__building", "case__owner", "assignee"]
    search_fields = ["title", "case__unit__room", "case__owner__name"]
    raw_id_fields = ["case", "step", "assignee"]
    date_hierarchy = "due_on"

    def has_delete_permission(self, request, obj=None):
        return False  # cancel a task instead: the run would recreate a deleted one


class AttemptAttachmentInline(EvidenceInline):
    model = AttemptAttachment
    fields = ["kind", "file", "uploaded_at"]
    readonly_fields = fields


class AttemptCorrectionInline(EvidenceInline):
    """The corrections of an attempt: new rows that `corrects` it, each with who and when."""

    model = ContactAttempt
    fk_name = "corrects"
    verbose_name = _("更正记录")
    verbose_name_plural = _("更正记录")
    fields = ["created_at", "staff", "at", "channel", "outcome", "reason", "notes"]
    readonly_fields = fields


@admin.register(ContactAttempt)
class ContactAttemptAdmin(EvidenceAdmin):
    """The evidence log: read-only. Attempts are logged and corrected on the staff site, through the guard;
    a correction is a new row, shown here under the original it `corrects`."""

    list_display = ["at", "unit", "owner", "channel", "outcome", "reason", "relation", "staff", "blocked_rule", "corrects"]
    list_filter = ["channel", "outcome", "community"]
    list_select_related = ["unit__building", "owner", "staff", "corrects"]
    search_fields = ["unit__room", "owner__name", "notes"]
    date_hierarchy = "at"
    inlines = [AttemptAttachmentInline, AttemptCorrectionInline]


@admin.register(AttemptAttachment)
class AttemptAttachmentAdmin(EvidenceAdmin):
    list_display = ["attempt", "kind", "file", "uploaded_at", "community"]
    list_filter = ["kind", "community"]
    list_select_related = ["attempt", "community"]
    search_fields = ["attempt__unit__room", "attempt__owner__name"]


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(EvidenceAdmin):
    list_display = ["created_at", "rating", "case", "ticket", "follow_up", "staff", "community"]
    list_filter = ["rating", "community"]
    list_select_related = ["case__unit__building", "case__owner", "ticket", "follow_up", "staff", "community"]
    search_fields = ["case__unit__room", "case__owner__name"]


@admin.register(Promise)
class PromiseAdmin(CommunityFromParentAdmin):
    community_from = "case"
    list_display = ["due_on", "amount", "status", "case", "made_on", "resolved_on", "created_by"]
    list_filter = ["status", "community"]
    list_select_related = ["case__unit__building", "case__owner", "created_by"]
    search_fields = ["case__unit__room", "case__owner__name"]
    raw_id_fields = ["case", "attempt", "created_by"]
    date_hierarchy = "due_on"

    def has_delete_permission(self, request, obj=None):
        return False  # a promise restarts the limitation period (民法典第195条): it is evidence

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class InstalmentInline(admin.TabularInline):
    model = Instalment
    extra = 0
    fields = ["number", "due_on", "amount"]
    ordering = ["number"]


@admin.register(InstalmentPlan)
class InstalmentPlanAdmin(CommunityFromParentAdmin):
    community_from = "case"
    list_display = ["case", "total", "status", "proposed_on", "accepted_on", "resolved_on", "created_by"]
    list_filter = ["status", "community"]
    list_select_related = ["case__unit__building", "case__owner", "created_by"]
    search_fields = ["case__unit__room", "case__owner__name"]
    raw_id_fields = ["case", "created_by"]
    inlines = [InstalmentInline]

    def has_delete_permission(self, request, obj=None):
        return False  # an accepted plan restarts the limitation period: cancel it instead

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Instalment)
class InstalmentAdmin(ViewOnlyAdmin):
    """Instalments are edited on their plan."""

    list_display = ["plan", "number", "due_on", "amount"]
    list_filter = ["community"]
    list_select_related = ["plan__case__unit__building", "plan__case__owner"]
    search_fields = ["plan__case__unit__room", "plan__case__owner__name"]


@admin.register(ChargeDispute)
class ChargeDisputeAdmin(CommunityFromParentAdmin):
    community_from = "charge"
    list_display = ["charge", "reason", "opened_on", "closed_on", "resolution", "opened_by"]
    list_filter = ["community"]
    list_select_related = ["charge__unit__building", "charge__charge_type", "opened_by"]
    search_fields = ["reason", "charge__unit__room", "charge__owner__name"]
    raw_id_fields = ["charge", "opened_by"]
    date_hierarchy = "opened_on"

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change and obj.opened_by_id is None:
            obj.opened_by = request.user
        super().save_model(request, obj, form, change)
        # The ledger's hold follows the open disputes, whichever way the dispute was written.
        for charge_id in {obj.charge_id, form.initial.get("charge") or obj.charge_id}:
            sync_charge_hold(charge_id=charge_id, on=obj.closed_on or obj.opened_on)


class LimitationProofInline(EvidenceInline):
    model = LimitationProof
    fields = ["kind", "reference", "file", "sha256", "attachment", "added_by", "added_at"]
    readonly_fields = fields
    show_change_link = False
    select_related = ("added_by", "attachment")


@admin.register(LimitationEvent)
class LimitationEventAdmin(EvidenceAdmin):
    """A limitation deadline rests on these: written by the services with their evidence, never typed in."""

    list_display = ["occurred_on", "kind", "unit", "owner", "note"]
    list_filter = ["kind", "community"]
    list_select_related = ["unit__building", "owner"]
    search_fields = ["unit__room", "owner__name", "note"]
    date_hierarchy = "occurred_on"
    inlines = [LimitationProofInline]


@admin.register(LimitationProof)
class LimitationProofAdmin(EvidenceAdmin):
    list_display = ["added_at", "kind", "event", "reference", "sha256", "added_by"]
    list_filter = ["kind", "community"]
    list_select_related = ["event__unit__building", "added_by"]
    search_fields = ["event__unit__room", "event__owner__name", "reference", "sha256"]


# -- owner profiles -----------------------------------------------------------------------------

class ProfileChangeInline(EvidenceInline):
    model = ProfileChange
    fields = ["changed_at", "persona", "irritable", "reason", "intent", "note", "changed_by"]
    readonly_fields = fields
    show_change_link = False
    select_related = ("changed_by",)


PROFILE_FIELDS = ["persona", "irritable", "reason", "intent", "note"]


@admin.register(OwnerProfile)
class OwnerProfileAdmin(CommunityFromParentAdmin):
    community_from = "owner"
    list_display = ["owner", "persona", "irritable", "reason", "intent", "updated_by", "updated_at"]
    list_filter = ["persona", "irritable", "reason", "intent", "community"]
    list_select_related = ["owner", "updated_by"]
    search_fields = ["owner__name", "note"]
    raw_id_fields = ["owner"]
    readonly_fields = ["updated_by", "updated_at"]
    inlines = [ProfileChangeInline]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Save the profile and keep what it now says in its history (who judged what, when)."""
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        if not change or any(name in form.changed_data for name in PROFILE_FIELDS):
            ProfileChange.objects.create(
                community_id=obj.community_id, profile=obj, changed_by=request.user, changed_at=obj.updated_at,
                **{name: getattr(obj, name) for name in PROFILE_FIELDS},
            )


@admin.register(ProfileChange)
class ProfileChangeAdmin(ViewOnlyAdmin):
    list_display = ["changed_at", "profile", "persona", "irritable", "reason", "intent", "changed_by"]
    list_filter = ["persona", "community"]
    list_select_related = ["profile__owner", "changed_by"]
    search_fields = ["profile__owner__name"]


# -- what the run and the outbox write ----------------------------------------------------------

@admin.register(OutgoingMessage)
class OutgoingMessageAdmin(EvidenceAdmin):
    list_display = ["scheduled_on", "channel", "template_code", "unit", "owner", "status", "blocked_rule", "created_at"]
    list_filter = ["status", "channel", "community"]
    list_select_related = ["unit__building", "owner"]
    search_fields = ["unit__room", "owner__name", "template_code", "key"]
    date_hierarchy = "scheduled_on"


@admin.register(CollectionRun)
class CollectionRunAdmin(ViewOnlyAdmin):
    list_display = ["as_of", "started_at", "finished_at"]
    date_hierarchy = "as_of"


@admin.register(CollectionRunStart)
class CollectionRunStartAdmin(ViewOnlyAdmin):
    list_display = ["run", "started_at", "finished_at"]
    list_select_related = ["run"]


@admin.register(CollectionRunPart)
class CollectionRunPartAdmin(ViewOnlyAdmin):
    """Which worker ran which communities, how often it tried, and why a part gave up."""

    list_display = ["start", "index", "status", "worker", "attempts", "started_at", "finished_at", "error"]
    list_filter = ["status"]
    list_select_related = ["start__run"]


from arrears.collection import holiday_admin  # noqa: E402, F401  (registers the holiday arrangement)


@admin.register(RiskScore)
class RiskScoreAdmin(ViewOnlyAdmin):
    """Written by the scoring run only (`arrears risk score`): read here, never edited."""

    list_display = ["community", "unit", "owner", "score", "model_id", "scored_on"]
    list_filter = ["community"]
    list_select_related = ["community", "unit__building", "owner"]
    raw_id_fields = ["unit", "owner"]
