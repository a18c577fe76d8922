"""Forms of the cashier pages: parsing only; every rule lives in arrears.portal.cashier."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from arrears.core.money import format_yuan
from arrears.ledger.models import PaymentMethod
from arrears.portal.cashier import DESK_METHODS, REASON_MAX


class PaymentForm(forms.Form):
    owner = forms.TypedChoiceField(label=_("交款业主"), coerce=int, choices=())
    amount = forms.DecimalField(label=_("收款金额（元）"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"),
                                widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}))
    method = forms.ChoiceField(label=_("缴费方式"), choices=[(m.value, PaymentMethod(m).label) for m in DESK_METHODS])
    paid_on = forms.DateField(label=_("缴费日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reference = forms.CharField(label=_("交易参考号"), max_length=100, required=False,
                                help_text=_("转账流水号、POS凭证号或扫码订单号；现金可不填"))
    corrects = forms.CharField(label=_("更正的收据号"), max_length=50, required=False,
                               help_text=_("仅在重新登记一笔已冲正的缴费（如金额录错）时填写原收据号；同一交易参考号只能登记一次"))
    charges = forms.TypedMultipleChoiceField(
        label=_("业主指定缴纳的费用"), coerce=int, required=False, choices=(), widget=forms.CheckboxSelectMultiple,
        help_text=_("业主指定时勾选：款项先冲抵所选费用，余额再按本公司的冲抵规则；不勾选则全部按规则冲抵，异议处理中的费用不会被冲抵"),
    )

    def __init__(self, *args, owners=(), accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(owner.pk, owner.name) for owner in owners]
        if len(self.fields["owner"].choices) == 1:
            self.fields["owner"].widget = forms.HiddenInput()
        several = len(accounts) > 1
        self.fields["charges"].choices = [
            (line.charge_id, _charge_label(line, account.owner.name if several else "", line.charge_id in account.held))
            for account in accounts for line in account.lines
        ]


def _charge_label(line, owner: str, held: bool) -> str:
    """物业费 2026-03-01 – 2026-03-31 ¥206.60 (its owner when the unit has several; 异议处理中 when held)."""
    label = f"{_(line.charge_type)} {line.period_start:%Y-%m-%d} – {line.period_end:%Y-%m-%d} {format_yuan(line.outstanding + line.late_fee)}"
    if owner:
        label = f"{owner}：{label}"
    if held:
        label = f"{label}（{_('异议处理中')}）"
    return label


class ReversalRequestForm(forms.Form):
    payment = forms.IntegerField(widget=forms.HiddenInput())
    reason = forms.CharField(label=_("冲正原因"), max_length=REASON_MAX)


class DecisionForm(forms.Form):
    request = forms.IntegerField(widget=forms.HiddenInput())
    decision = forms.ChoiceField(choices=[("approve", _("同意冲正")), ("decline", _("拒绝"))])
    note = forms.CharField(label=_("审批意见"), max_length=REASON_MAX, required=False)
