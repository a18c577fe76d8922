"""Forms of the legal desk's matter pages: parsing only; every rule lives in legal.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from arrears.legal import rules
from arrears.legal.models import AwardKind, CostKind, MatterOutcome, Route

DATE = forms.DateInput(attrs={"type": "date"})
STAGE_CHOICES = [(label, [(f"{route}:{stage.code}", _(stage.zh)) for stage in stages])
                 for (route, label), stages in ((r, rules.STAGES[r[0]]) for r in Route.choices)]


class OpenMatterForm(forms.Form):
    route = forms.ChoiceField(label=_("程序"), choices=Route.choices)
    responsible = forms.TypedChoiceField(label=_("承办人"), coerce=int, choices=())
    court = forms.CharField(label=_("法院或仲裁机构"), required=False, max_length=200)
    task = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = people


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=_("节点"), choices=STAGE_CHOICES)
    occurred_on = forms.DateField(label=_("日期"), widget=DATE)
    reference = forms.CharField(label=_("文书编号或案号"), required=False, max_length=200)
    amount = forms.DecimalField(label=_("金额"), required=False, max_digits=14, decimal_places=2)
    note = forms.CharField(label=_("说明"), required=False, max_length=300)
    document = forms.FileField(label=_("文书或法院收据"), required=False, allow_empty_file=True)


class CorrectStageForm(forms.Form):
    occurred_on = forms.DateField(label=_("日期"), widget=DATE)
    reference = forms.CharField(label=_("文书编号或案号"), required=False, max_length=200)
    amount = forms.DecimalField(label=_("金额"), required=False, max_digits=14, decimal_places=2)
    note = forms.CharField(label=_("说明"), required=False, max_length=300)
    reason = forms.CharField(label=_("更正原因"), max_length=300)
    document = forms.FileField(label=_("文书"), required=False, allow_empty_file=True)


class CostForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=CostKind.choices)
    amount = forms.DecimalField(label=_("金额"), max_digits=14, decimal_places=2)
    paid_on = forms.DateField(label=_("支付日期"), widget=DATE)
    note = forms.CharField(label=_("说明"), required=False, max_length=300)
    document = forms.FileField(label=_("票据"), required=False, allow_empty_file=True)


class AwardForm(forms.Form):
    kind = forms.ChoiceField(label=_("文书类型"), choices=AwardKind.choices)
    reference = forms.CharField(label=_("文书编号"), max_length=200)
    decided_on = forms.DateField(label=_("文书日期"), widget=DATE)
    effective_on = forms.DateField(label=_("生效日期"), required=False, widget=DATE)
    late_fee_as_of = forms.DateField(label=_("违约金计算至"), widget=DATE)
    principal = forms.DecimalField(label=_("判决本金"), max_digits=14, decimal_places=2)
    late_fee = forms.DecimalField(label=_("判决违约金"), max_digits=14, decimal_places=2)
    costs = forms.DecimalField(label=_("业主负担的诉讼费用"), max_digits=14, decimal_places=2)
    document = forms.FileField(label=_("裁判文书"), required=False, allow_empty_file=True)


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("审批说明"), required=False, max_length=300)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("结果"), choices=MatterOutcome.choices)
    closed_on = forms.DateField(label=_("结案日期"), widget=DATE)
    note = forms.CharField(label=_("结案说明"), required=False, max_length=300)
