"""Forms of the outbox and template pages: parsing only; the rules live in arrears.notices."""

from django import forms
from django.utils.translation import gettext_lazy as _

from arrears.collection.models import Channel, MessageStatus

BLANK = [("", "—")]


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=BLANK + MessageStatus.choices, required=False)
    channel = forms.ChoiceField(label=_("渠道"), choices=BLANK + Channel.choices, required=False)
    community = forms.TypedChoiceField(label=_("小区"), coerce=int, required=False, empty_value=None)
    date_from = forms.DateField(label=_("计划日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("计划日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(label=_("房号、业主或模板"), max_length=50, required=False)

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = BLANK + list(communities)


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    subject = forms.CharField(label=_("标题"), max_length=200, required=False)
    body = forms.CharField(label=_("正文"), widget=forms.Textarea(attrs={"rows": 8}), strip=False)
    neutral = forms.BooleanField(label=_("中性（可发给第三方）"), required=False)
    active = forms.BooleanField(label=_("启用"), required=False)
    aliyun = forms.CharField(label=_("阿里云模板编号"), max_length=60, required=False)
    tencent = forms.CharField(label=_("腾讯云模板编号"), max_length=60, required=False)
    payment_methods = forms.CharField(label=_("缴费方式（每行一种）"), widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args, letter: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not letter:
            del self.fields["payment_methods"]

    @classmethod
    def initial_for(cls, template) -> dict:
        codes = template.provider_codes or {}
        return {"name": template.name, "subject": template.subject, "body": template.body, "neutral": template.neutral,
                "active": template.active, "aliyun": codes.get("aliyun", ""), "tencent": codes.get("tencent", ""),
                "payment_methods": template.payment_methods}

    def provider_codes(self) -> dict[str, str]:
        return {name: self.cleaned_data[name].strip() for name in ("aliyun", "tencent") if self.cleaned_data[name].strip()}


class OverrideForm(forms.Form):
    community = forms.TypedChoiceField(label=_("小区"), coerce=int)

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = list(communities)
