"""Forms of the limitation-proof pages: parsing only; every rule lives in collection.limitation."""

from django import forms
from django.utils.translation import gettext_lazy as _

from arrears.collection.limitation import UPLOADABLE
from arrears.collection.models import AttachmentKind, ProofKind

UPLOADABLE_KINDS = [(value, label) for value, label in ProofKind.choices if value in UPLOADABLE]


class ProofForm(forms.Form):
    kind = forms.ChoiceField(label=_("证据类型"), choices=UPLOADABLE_KINDS)
    file = forms.FileField(label=_("文件"), required=False, allow_empty_file=True)


class AttachmentForm(forms.Form):
    attempt = forms.IntegerField(label=_("联系记录"), required=False)
    kind = forms.ChoiceField(label=_("附件类型"), choices=AttachmentKind.choices)
    file = forms.FileField(label=_("文件"), required=False, allow_empty_file=True)


class AcknowledgementForm(forms.Form):
    acknowledged_on = forms.DateField(label=_("确认日期"))
    note = forms.CharField(label=_("说明"), required=False, max_length=300)
    file = forms.FileField(label=_("业主书面确认（照片或扫描件）"), required=False, allow_empty_file=True)


class SuitForm(forms.Form):
    filed_on = forms.DateField(label=_("起诉日期"))
    court_case_number = forms.CharField(label=_("法院案号"), required=False, max_length=200)
    file = forms.FileField(label=_("法院受理凭证"), required=False, allow_empty_file=True)
