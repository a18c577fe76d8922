"""The owner portal and the cashier: payment orders, provider notifications, receipts, the owner's
requests (instalments, complaints), satisfaction answers and the published fee composition.

Money enters the ledger only through `ledger.services.record_payment`; an order is the promise of a
payment, a notification is evidence of one, a receipt is the paper for one.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from arrears.collection.models import ChargeDispute, InstalmentPlan
from arrears.core.money import MoneyField
from arrears.estate.models import Community, Company, Owner, Satisfaction, ServiceTicket, Unit
from arrears.ledger.models import Charge, ChargeType, Payment, PaymentReversal


class Provider(models.TextChoices):
    SANDBOX = "sandbox", _("模拟支付（演示）")
    WECHAT = "wechat", _("微信支付")
    ALIPAY = "alipay", _("支付宝")


class OrderStatus(models.TextChoices):
    CREATED = "created", _("待支付")
    PAID = "paid", _("已支付")
    CLOSED = "closed", _("已关闭")


class PaymentOrder(models.Model):
    """An online payment the owner started: the chosen charges and the amount the provider must confirm."""

    number = models.CharField(_("商户订单号"), max_length=32, unique=True)
    provider = models.CharField(_("支付渠道"), max_length=20, choices=Provider.choices)
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", verbose_name=_("物业公司"))
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="+", verbose_name=_("业主"))
    amount = MoneyField(_("金额"))
    charge_ids = models.JSONField(_("所选费用"), default=list)
    status = models.CharField(_("状态"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.CREATED)
    created_at = models.DateTimeField(_("下单时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    provider_trade_no = models.CharField(_("渠道交易号"), max_length=64, blank=True)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="order",
                                   verbose_name=_("缴费"))
    checkout_url = models.TextField(_("支付地址"), blank=True)

    class Meta:
        verbose_name = _("支付订单")
        verbose_name_plural = _("支付订单")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="order_amount_positive"),
            models.CheckConstraint(condition=~Q(status="paid") | Q(payment__isnull=False, paid_at__isnull=False),
                                   name="order_paid_has_payment"),
            models.UniqueConstraint(fields=["provider", "provider_trade_no"], condition=~Q(provider_trade_no=""),
                                    name="order_trade_no_once"),
        ]
        indexes = [models.Index(fields=["owner", "created_at"], name="order_owner")]
        permissions = [("revoke_statement_link", _("可作废业主的账单链接"))]

    def __str__(self):
        return f"{self.number} ¥{self.amount} {self.get_status_display()}"


class NotificationOutcome(models.TextChoices):
    CREDITED = "credited", _("已入账")
    DUPLICATE = "duplicate", _("重复通知（已入账，未重复入账）")
    REFUSED = "refused", _("拒绝")
    IGNORED = "ignored", _("非成功状态，未入账")


class PaymentNotification(models.Model):
    """Every notification a provider sent, kept as received: evidence of what was credited and why not."""

    provider = models.CharField(_("支付渠道"), max_length=20, choices=Provider.choices)
    received_at = models.DateTimeField(_("接收时间"))
    order = models.ForeignKey(PaymentOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="notifications",
                              verbose_name=_("支付订单"))
    order_number = models.CharField(_("商户订单号"), max_length=64, blank=True)
    outcome = models.CharField(_("处理结果"), max_length=20, choices=NotificationOutcome.choices)
    reason = models.CharField(_("说明"), max_length=300, blank=True)
    body = models.TextField(_("通知原文"), blank=True)
    body_sha256 = models.CharField(_("原文SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("支付通知")
        verbose_name_plural = _("支付通知")
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.provider} {self.order_number} {self.get_outcome_display()}"


class ReceiptCounter(models.Model):
    """The last receipt number given per company and year: numbers never repeat or skip."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", verbose_name=_("物业公司"))
    year = models.PositiveSmallIntegerField(_("年度"))
    last = models.PositiveIntegerField(_("最后编号"), default=0)

    class Meta:
        verbose_name = _("票据号计数")
        verbose_name_plural = _("票据号计数")
        constraints = [models.UniqueConstraint(fields=["company", "year"], name="receipt_counter_unique")]

    def __str__(self):
        return f"{self.company_id} {self.year}: {self.last}"


class Receipt(models.Model):
    """The paper for one payment: its content frozen when taken, the PDF rendered from it once."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", verbose_name=_("物业公司"))
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="receipt", verbose_name=_("缴费"))
    number = models.CharField(_("收据号"), max_length=50)
    issued_at = models.DateTimeField(_("开具时间"))
    content = models.JSONField(_("内容"), default=dict)
    pdf = models.FileField(_("PDF"), upload_to="receipts/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    voided_at = models.DateTimeField(_("作废时间"), null=True, blank=True, help_text=_("缴费冲正后收据作废"))

    class Meta:
        verbose_name = _("收据")
        verbose_name_plural = _("收据")
        ordering = ["-issued_at"]
        constraints = [models.UniqueConstraint(fields=["company", "number"], name="receipt_number_unique")]

    def __str__(self):
        return self.number


class RequestStatus(models.TextChoices):
    REQUESTED = "requested", _("待处理")
    ACCEPTED = "accepted", _("已同意")
    DECLINED = "declined", _("已拒绝")


class ReversalRequest(models.Model):
    """A cashier asks to reverse a payment; a second person decides (four eyes)."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="reversal_requests", verbose_name=_("缴费"))
    reason = models.CharField(_("原因"), max_length=300)
    status = models.CharField(_("状态"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请人"))
    requested_at = models.DateTimeField(_("申请时间"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)
    reversal = models.OneToOneField(PaymentReversal, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("冲正"))

    class Meta:
        verbose_name = _("冲正申请")
        verbose_name_plural = _("冲正申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["payment"], condition=Q(status="requested"), name="reversal_request_one_open"),
            models.CheckConstraint(condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                                   name="reversal_request_four_eyes"),
        ]

    def __str__(self):
        return f"{self.payment} {self.get_status_display()}"


class InstalmentRequest(models.Model):
    """The owner asks to pay in instalments; staff accepting it makes an accepted plan (民法典第195条)."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="+", verbose_name=_("业主"))
    months = models.PositiveSmallIntegerField(_("分期月数"))
    total = MoneyField(_("申请时欠费本金"))
    note = models.CharField(_("业主留言"), max_length=300, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=RequestStatus.choices, default=RequestStatus.REQUESTED)
    requested_at = models.DateTimeField(_("申请时间"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("处理人"))
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decision_note = models.CharField(_("处理意见"), max_length=300, blank=True)
    plan = models.OneToOneField(InstalmentPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("分期计划"))

    class Meta:
        verbose_name = _("分期申请")
        verbose_name_plural = _("分期申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "owner"], condition=Q(status="requested"), name="instalment_request_one_open"),
            models.CheckConstraint(condition=Q(months__gte=3, months__lte=6), name="instalment_request_months"),
        ]

    def __str__(self):
        return f"{self.owner} {self.months}期 {self.get_status_display()}"


class Complaint(models.Model):
    """What the owner is unhappy about, from the portal: a service ticket, and a dispute when a charge is named."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="+", verbose_name=_("业主"))
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("有异议的费用"))
    text = models.CharField(_("内容"), max_length=300)
    created_at = models.DateTimeField(_("提交时间"))
    ticket = models.OneToOneField(ServiceTicket, on_delete=models.PROTECT, related_name="+", verbose_name=_("工单"))
    dispute = models.OneToOneField(ChargeDispute, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("费用异议"))

    class Meta:
        verbose_name = _("业主投诉/异议")
        verbose_name_plural = _("业主投诉/异议")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.owner} {self.text[:20]}"


class SurveyResponse(models.Model):
    """Two questions after a payment: how paying went, and how the service is."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="survey", verbose_name=_("缴费"))
    payment_experience = models.CharField(_("缴费过程"), max_length=20, choices=Satisfaction.choices)
    service = models.CharField(_("物业服务"), max_length=20, choices=Satisfaction.choices)
    comment = models.CharField(_("意见"), max_length=300, blank=True)
    answered_at = models.DateTimeField(_("回答时间"))

    class Meta:
        verbose_name = _("满意度回访")
        verbose_name_plural = _("满意度回访")
        ordering = ["-answered_at"]

    def __str__(self):
        return f"{self.payment_id} {self.get_payment_experience_display()}/{self.get_service_display()}"


class FeeCategory(models.TextChoices):
    """The cost items of 《物业服务收费管理办法》第十一条 as a community publishes its fee."""

    STAFF = "staff", _("管理服务人员的工资、社会保险和福利费")
    FACILITIES = "facilities", _("共用部位、共用设施设备的日常运行和维护费用")
    CLEANING = "cleaning", _("物业管理区域清洁卫生费用")
    GREENING = "greening", _("物业管理区域绿化养护费用")
    ORDER = "order", _("物业管理区域秩序维护费用")
    OFFICE = "office", _("办公费用")
    DEPRECIATION = "depreciation", _("物业管理企业固定资产折旧")
    INSURANCE = "insurance", _("共用部位、共用设施设备及公众责任保险费用")
    OTHER = "other", _("经业主同意的其它费用")


class FeeComposition(models.Model):
    """How a community's fee is made up, as published (公示) from a date."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="fee_compositions", verbose_name=_("小区"))
    charge_type = models.ForeignKey(ChargeType, on_delete=models.PROTECT, related_name="+", verbose_name=_("收费项目"))
    published_on = models.DateField(_("公示日期"))
    note = models.CharField(_("说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("收费构成公示")
        verbose_name_plural = _("收费构成公示")
        ordering = ["community_id", "charge_type_id", "-published_on"]
        constraints = [models.UniqueConstraint(fields=["community", "charge_type", "published_on"], name="fee_composition_once")]

    def __str__(self):
        return f"{self.community} {self.charge_type} {self.published_on}"


class FeeCompositionItem(models.Model):
    composition = models.ForeignKey(FeeComposition, on_delete=models.CASCADE, related_name="items", verbose_name=_("收费构成"))
    category = models.CharField(_("项目"), max_length=20, choices=FeeCategory.choices)
    percent = models.DecimalField(_("占比（%）"), max_digits=5, decimal_places=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("收费构成项")
        verbose_name_plural = _("收费构成项")
        ordering = ["composition_id", "-percent", "id"]
        constraints = [
            models.UniqueConstraint(fields=["composition", "category"], name="fee_item_once"),
            models.CheckConstraint(condition=Q(percent__gt=0, percent__lte=100), name="fee_item_percent_range"),
        ]

    def __str__(self):
        return f"{self.get_category_display()} {self.percent}%"
