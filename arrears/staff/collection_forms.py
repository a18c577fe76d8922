"""Forms of the collection pages: parsing only; every rule lives in collection.services."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from arrears.collection.limitation import LETTER_CHANNELS
from arrears.collection.models import (
    THIRD_PARTY_OUTCOMES,
    AttachmentKind,
    Bucket,
    Channel,
    ExcuseReason,
    Intent,
    Outcome,
    Persona,
    Reason,
    ReminderPlace,
    Tier,
)
from arrears.collection.rules import SITUATION_LABELS
from arrears.collection.selectors import NOT_RECORDED, SORTS, situation_label
from arrears.collection.services import RELAYED_OUTCOMES
from arrears.estate.models import Satisfaction
from arrears.ledger.models import Component

BLANK = [("", "—")]
# Letters are recorded as delivered only in the letters module, which holds their proof.
LOGGED_CHANNELS = [(value, label) for value, label in Channel.choices if value not in LETTER_CHANNELS]
LOGGED_OUTCOMES = [(value, label) for value, label in Outcome.choices if value != Outcome.BLOCKED]
# A contact with the owner (the workbench's tasks): nobody to relay a message through.
OWNER_OUTCOMES = [(value, label) for value, label in LOGGED_OUTCOMES if value not in RELAYED_OUTCOMES]
# What the unit page offers for a contact not authorised to hear of the debt (the service decides).
NEUTRAL_OUTCOMES = sorted(str(value) for value in THIRD_PARTY_OUTCOMES)
# <input type="datetime-local"> sends 2026-05-10T11:50 (seconds when the browser adds them).
CONTACT_TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("结果"), choices=LOGGED_OUTCOMES)
    at = forms.DateTimeField(label=_("联系时间"), required=False, input_formats=CONTACT_TIME_FORMATS)
    reason = forms.ChoiceField(label=_("原因"), choices=BLANK + ExcuseReason.choices, required=False)
    notes = forms.CharField(label=_("记录"), required=False, max_length=2000)
    promise_amount = forms.DecimalField(label=_("承诺金额"), required=False, max_digits=14, decimal_places=2)
    promise_due = forms.DateField(label=_("承诺日期"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("outcome") != Outcome.PROMISED:
            data["promise_amount"], data["promise_due"] = None, None
        return data


class CorrectionForm(OutcomeForm):
    """A correction states every field of the new version (prefilled with the current one) and why."""

    at = forms.DateTimeField(label=_("联系时间"), input_formats=CONTACT_TIME_FORMATS)
    correction_reason = forms.CharField(label=_("更正原因"), max_length=300)


class AttemptForm(OutcomeForm):
    channel = forms.ChoiceField(label=_("渠道"), choices=LOGGED_CHANNELS)
    contact = forms.TypedChoiceField(label=_("联系方式"), coerce=int, required=False, empty_value=None, choices=())

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = BLANK + [(c.pk, str(c)) for c in contacts]


class PromiseForm(forms.Form):
    amount = forms.DecimalField(label=_("承诺金额"), max_digits=14, decimal_places=2)
    due_on = forms.DateField(label=_("承诺日期"))


class ProfileForm(forms.Form):
    persona = forms.ChoiceField(label=_("业主类型"), choices=BLANK + Persona.choices, required=False)
    irritable = forms.BooleanField(label=_("易激动"), required=False)
    reason = forms.ChoiceField(label=_("欠费原因"), choices=BLANK + Reason.choices, required=False)
    intent = forms.ChoiceField(label=_("欠费性质"), choices=BLANK + Intent.choices, required=False)
    note = forms.CharField(label=_("备注"), required=False, max_length=300)


class QuickSelect(forms.Select):
    """Django's select, rendered by string formatting rather than one template per option: a
    company-wide user's building filter holds a thousand buildings, which took a second to draw."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = "".join(
            f'<option value="{escape(option["value"])}"{" selected" if option["selected"] else ""}>{escape(option["label"])}</option>'
            for _, group, _ in widget["optgroups"] for option in group
        )
        return mark_safe(f'<select name="{escape(widget["name"])}"{flatatt(widget["attrs"])}>{options}</select>')  # noqa: S308


class CaseFilterForm(forms.Form):
    community = forms.TypedChoiceField(label=_("小区"), coerce=int, required=False, empty_value=None, widget=QuickSelect)
    building = forms.TypedChoiceField(label=_("楼栋"), coerce=int, required=False, empty_value=None, widget=QuickSelect)
    tier = forms.ChoiceField(label=_("分类"), choices=BLANK + Tier.choices, required=False)
    bucket = forms.ChoiceField(label=_("账龄"), choices=BLANK + Bucket.choices, required=False)
    persona = forms.ChoiceField(label=_("业主类型"), choices=BLANK + Persona.choices, required=False)
    situation = forms.TypedChoiceField(label=_("情形"), coerce=int, required=False, empty_value=None,
                                       choices=lambda: BLANK + [(n, f"{n} {situation_label(n)}") for n in SITUATION_LABELS])
    collector = forms.TypedChoiceField(label=_("催收员"), coerce=int, required=False, empty_value=None, widget=QuickSelect)
    reason = forms.ChoiceField(label=_("欠费原因"), choices=BLANK + [(NOT_RECORDED, _("未记录原因"))] + Reason.choices,
                               required=False)
    intent = forms.ChoiceField(label=_("欠费性质"), choices=BLANK + [(NOT_RECORDED, _("未记录性质"))] + Intent.choices,
                               required=False)
    sort = forms.ChoiceField(label=_("排序"), required=False, choices=[(key, key) for key in SORTS])

    def __init__(self, *args, choices: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = BLANK + choices["communities"]
        self.fields["building"].choices = BLANK + choices["buildings"]
        self.fields["collector"].choices = BLANK + choices["collectors"]


class DeskForm(forms.Form):
    q = forms.CharField(label=_("房号、车牌、姓名或手机尾号"), max_length=50, required=False)


class ReminderForm(forms.Form):
    """One tap at the desk: where, and that it was the owner in person (the button says so)."""

    place = forms.ChoiceField(label=_("提醒地点"), choices=ReminderPlace.choices)
    owner_in_person = forms.BooleanField(label=_("业主本人"), required=False)
    q = forms.CharField(max_length=50, required=False)


class ComplianceForm(forms.Form):
    since = forms.DateField(label=_("联系日期自"), required=False)
    until = forms.DateField(label=_("至"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("起始日期晚于结束日期"))
        return data


class CardForm(OutcomeForm):
    """The card's log form: an outcome, or a satisfaction rating alone (then the owner answered),
    and optionally the call's recording or a photo."""

    outcome = forms.ChoiceField(label=_("结果"), choices=BLANK + LOGGED_OUTCOMES, required=False)
    satisfaction = forms.ChoiceField(label=_("满意度"), choices=BLANK + Satisfaction.choices, required=False)
    attachment_kind = forms.ChoiceField(label=_("附件类型"), choices=BLANK + list(AttachmentKind.choices), required=False)
    attachment = forms.FileField(label=_("附件"), required=False, allow_empty_file=True)

    def clean(self):
        data = super().clean()
        if not data.get("outcome") and not data.get("satisfaction"):
            self.add_error("outcome", _("请选择结果"))
        if data.get("attachment") is not None and not data.get("attachment_kind"):
            data["attachment_kind"] = AttachmentKind.RECORDING
        return data


class WaiverRequestForm(forms.Form):
    component = forms.ChoiceField(label=_("减免项"), choices=[(Component.LATE_FEE, _("违约金")), (Component.PRINCIPAL, _("本金"))])
    amount = forms.DecimalField(label=_("减免金额"), max_digits=14, decimal_places=2)
    reason = forms.CharField(label=_("减免原因"), max_length=300)


class PlanProposalForm(forms.Form):
    months = forms.IntegerField(label=_("分期月数"), min_value=2, max_value=12)
    first_due = forms.DateField(label=_("首期应缴日期"))
    include_late_fee = forms.BooleanField(label=_("含违约金"), required=False)
