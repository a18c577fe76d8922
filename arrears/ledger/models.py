"""The ledger: append-only. A correction is a new row (reversal, waiver), never an edit.

Three caches exist, each with a test that proves it equals its derivation:
`Payment.unallocated` (amount − its allocations; 0 once reversed), `Charge.settled_on`
(the value date on which principal and late fee were both cleared; a pruning hint only) and
`Charge.on_hold` (the charge is under an open dispute, written by collection when a dispute opens
or closes: the ledger knows the hold, not the dispute, because collection depends on the ledger).
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from arrears.core.db import EvidenceQuerySet, refuse_delete
from arrears.core.fields import KeyField
from arrears.core.money import MoneyField
from arrears.estate.models import Community, Company, Owner, Unit
from arrears.ledger.append_only import EVIDENCE_COLUMNS


class ChargeType(models.Model):
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = KeyField(_("收费项目"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("收费项目")
        verbose_name_plural = _("收费项目")
        ordering = ["id"]

    def __str__(self):
        return self.name


class TariffBasis(models.TextChoices):
    PER_AREA = "per_area", _("按面积（元/㎡/月）")
    FIXED = "fixed", _("固定（元/户/月）")


class TariffScope(models.TextChoices):
    ALL_UNITS = "all_units", _("全部房屋")
    UNITS_WITH_VEHICLE = "units_with_vehicle", _("登记了车辆的房屋")


class Tariff(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="tariffs", verbose_name=_("小区"))
    charge_type = models.ForeignKey(ChargeType, on_delete=models.PROTECT, related_name="tariffs", verbose_name=_("收费项目"))
    basis = models.CharField(_("计费方式"), max_length=20, choices=TariffBasis.choices)
    scope = models.CharField(_("适用范围"), max_length=30, choices=TariffScope.choices, default=TariffScope.ALL_UNITS)
    price = models.DecimalField(_("单价"), max_digits=12, decimal_places=4)
    cycle_months = models.PositiveSmallIntegerField(_("计费周期（月）"), choices=[(1, "1"), (3, "3"), (6, "6"), (12, "12")], default=1)
    due_day = models.PositiveSmallIntegerField(_("缴费日"), default=1, help_text=_("账期首月的第几日到期（1–28）"))
    late_fee_daily_rate = models.DecimalField(_("违约金日率"), max_digits=8, decimal_places=6, default=Decimal("0"))
    grace_days = models.PositiveSmallIntegerField(_("宽限天数"), default=0)
    late_fee_cap = models.DecimalField(
        _("违约金上限比例"), max_digits=6, decimal_places=4, default=Decimal("1"),
        help_text=_("违约金最多为本笔费用的该比例（民法典第585条：过高的违约金可被法院调减）"),
    )
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("失效日期"), null=True, blank=True, help_text=_("含当日；空表示长期有效"))

    class Meta:
        verbose_name = _("收费标准")
        verbose_name_plural = _("收费标准")
        ordering = ["community_id", "charge_type_id", "effective_from"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="tariff_price_not_negative"),
            models.CheckConstraint(condition=Q(due_day__gte=1, due_day__lte=28), name="tariff_due_day_range"),
            models.CheckConstraint(condition=Q(cycle_months__in=[1, 3, 6, 12]), name="tariff_cycle_months"),
            models.CheckConstraint(condition=Q(late_fee_daily_rate__gte=0), name="tariff_rate_not_negative"),
            models.CheckConstraint(condition=Q(late_fee_cap__gte=0), name="tariff_cap_not_negative"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="tariff_to_after_from",
            ),
        ]

    def __str__(self):
        return f"{self.community} {self.charge_type} {self.price} ({self.effective_from}–{self.effective_to or ''})"


class ChargeOrigin(models.TextChoices):
    BILLED = "billed", _("系统计费")
    IMPORTED = "imported", _("导入")
    ADJUSTMENT = "adjustment", _("调整")


class Charge(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="charges", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="charges", verbose_name=_("应缴业主"))
    charge_type = models.ForeignKey(ChargeType, on_delete=models.PROTECT, related_name="+", verbose_name=_("收费项目"))
    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("收费标准"))
    period_start = models.DateField(_("账期起"))
    period_end = models.DateField(_("账期止"))
    amount = MoneyField(_("金额"))
    due_date = models.DateField(_("到期日"))
    origin = models.CharField(_("来源"), max_length=20, choices=ChargeOrigin.choices, default=ChargeOrigin.BILLED)
    # Late-fee terms are copied at creation: a tariff changed later must not rewrite past debts.
    late_fee_daily_rate = models.DecimalField(_("违约金日率"), max_digits=8, decimal_places=6, default=Decimal("0"))
    grace_days = models.PositiveSmallIntegerField(_("宽限天数"), default=0)
    late_fee_cap = models.DecimalField(_("违约金上限比例"), max_digits=6, decimal_places=4, default=Decimal("1"))
    settled_on = models.DateField(_("结清日"), null=True, blank=True, editable=False)
    # 民法典第560条: a held charge is paid only by a payment whose payer designates it, never by
    # the company's rule (new payments, prepaid credit, replays after a reversal, imports, billing).
    on_hold = models.BooleanField(_("异议暂停冲抵"), default=False, db_default=False, editable=False,
                                  help_text=_("有未处理的费用异议：只有缴款人指定时才冲抵"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("应收")
        verbose_name_plural = _("应收")
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="charge_amount_positive"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="charge_period_order"),
            models.UniqueConstraint(
                fields=["unit", "owner", "charge_type", "period_start"],
                condition=Q(origin="billed"),
                name="charge_billed_once",
            ),
        ]
        indexes = [
            # Billing asks "does a charge of this unit and type overlap the period?" (period_end ≥
            # start): led by period_end, the index reaches only the latest charges, not the history.
            models.Index(fields=["unit", "charge_type", "period_end"], name="charge_unit_type_period"),
            models.Index(fields=["community", "due_date"], name="charge_open_by_due", condition=Q(settled_on__isnull=True)),
            # The other half of "open on D" (settled_on IS NULL OR settled_on > D): settled after D. Partial,
            # so billing's new (unsettled) charges cost it nothing; settling a charge adds one entry.
            models.Index(fields=["settled_on"], name="charge_settled_on", condition=Q(settled_on__isnull=False)),
        ]

    def __str__(self):
        return f"{self.unit} {self.charge_type} {self.period_start:%Y-%m} ¥{self.amount}"


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("现金")
    BANK_TRANSFER = "bank_transfer", _("银行转账")
    WECHAT = "wechat", _("微信")
    ALIPAY = "alipay", _("支付宝")
    POS = "pos", _("POS")
    DIRECT_DEBIT = "direct_debit", _("代扣")
    ONLINE = "online", _("在线支付（其他）")


class Payment(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+", verbose_name=_("物业公司"))
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="payments", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="payments", verbose_name=_("业主"))
    amount = MoneyField(_("金额"))
    paid_on = models.DateField(_("缴费日期"))
    method = models.CharField(_("方式"), max_length=20, choices=PaymentMethod.choices)
    reference = KeyField(_("交易参考号"), max_length=100, blank=True)
    receipt_number = KeyField(_("票据号"), max_length=50, blank=True)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("经办人"))
    unallocated = MoneyField(_("未冲抵余额"), editable=False)
    # The payer's designation (民法典第560条), as given: the charge ids this money goes to first.
    designation = models.JSONField(_("缴款人指定冲抵的费用"), default=list, db_default=[], blank=True, editable=False)
    # A reference is taken once per company and method (one bank transfer, one payment). A payment
    # reversed for a typing mistake is entered again by naming its reversal here: each reversal is
    # re-entered at most once, so at most one payment of a reference is ever in force.
    corrects = models.OneToOneField("PaymentReversal", on_delete=models.PROTECT, null=True, blank=True, editable=False,
                                    related_name="correction", verbose_name=_("重新登记的冲正"))
    # Set only by the migration that made references unique: a payment that already repeated an
    # older payment's reference (the older keeps it). Listed when migrating; never set by new entries.
    repeats_reference = models.BooleanField(_("与更早的缴费交易参考号重复（历史数据）"), default=False, db_default=False,
                                            editable=False)
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    frozen_groups = EVIDENCE_COLUMNS["ledger_payment"]  # the proof as written: `arrears keys` never rewrites it

    class Meta:
        verbose_name = _("缴费")
        verbose_name_plural = _("缴费")
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(unallocated__gte=0) & Q(unallocated__lte=F("amount")), name="payment_unallocated_range"),
            models.UniqueConstraint(fields=["company", "receipt_number"], condition=~Q(receipt_number=""), name="payment_receipt_unique"),
            models.UniqueConstraint(
                fields=["company", "method", "reference"],
                condition=~Q(reference="") & Q(corrects__isnull=True) & Q(repeats_reference=False),
                name="payment_reference_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "owner"], name="payment_credit", condition=Q(unallocated__gt=0)),
            models.Index(fields=["unit", "paid_on"], name="payment_unit_date"),
        ]

    def __str__(self):
        return f"{self.receipt_number or self.pk} ¥{self.amount} {self.paid_on}"


class Component(models.TextChoices):
    PRINCIPAL = "principal", _("本金")
    LATE_FEE = "late_fee", _("违约金")


class PaymentReversal(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="reversal", verbose_name=_("缴费"))
    reversed_on = models.DateField(_("冲正日期"))
    reason = models.CharField(_("原因"), max_length=300)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("申请人"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("审批人"))
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("缴费冲正")
        verbose_name_plural = _("缴费冲正")
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_by__isnull=True) | Q(approved_by__isnull=True) | ~Q(requested_by=F("approved_by")),
                name="reversal_four_eyes",
            ),
        ]

    def __str__(self):
        return f"{self.payment} ↩ {self.reversed_on}"


class Allocation(models.Model):
    """Money of one payment put on one charge's principal or late fee.

    A reversal adds mirror rows with negative amounts, so sums over allocations are net.
    `value_date` is the later of the payment date and the charge's period start: credit cannot
    pay a charge before the charge exists, and reports as of D never look at write times.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("缴费"))
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("应收"))
    component = models.CharField(_("冲抵项"), max_length=20, choices=Component.choices)
    amount = MoneyField(_("金额"))
    value_date = models.DateField(_("起息日"))
    reversal = models.ForeignKey(PaymentReversal, on_delete=models.PROTECT, null=True, blank=True, related_name="allocations", verbose_name=_("冲正"))

    class Meta:
        verbose_name = _("冲抵")
        verbose_name_plural = _("冲抵")
        ordering = ["value_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(reversal__isnull=True) & Q(amount__gt=0)) | (Q(reversal__isnull=False) & Q(amount__lt=0)),
                name="allocation_sign_matches_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["charge", "component", "value_date"], name="allocation_charge"),
            # "allocated after D" (prepaid credit as of D) reads only recent rows.
            models.Index(fields=["value_date"], name="allocation_value_date"),
        ]

    def __str__(self):
        return f"{self.payment_id}→{self.charge_id} {self.get_component_display()} ¥{self.amount}"


class WaiverStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


class Waiver(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="waivers", verbose_name=_("应收"))
    component = models.CharField(_("减免项"), max_length=20, choices=Component.choices)
    amount = MoneyField(_("金额"))
    reason = models.CharField(_("原因"), max_length=300)
    status = models.CharField(_("状态"), max_length=20, choices=WaiverStatus.choices, default=WaiverStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("申请人"))
    requested_on = models.DateField(_("申请日期"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("审批人"))
    decided_on = models.DateField(_("审批日期"), null=True, blank=True, help_text=_("批准的减免自该日起生效"))

    frozen_groups = EVIDENCE_COLUMNS["ledger_waiver"]
    objects = EvidenceQuerySet.as_manager()
    delete = refuse_delete

    class Meta:
        verbose_name = _("减免")
        verbose_name_plural = _("减免")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="waiver_amount_positive"),
            models.CheckConstraint(condition=~Q(requested_by=F("approved_by")), name="waiver_four_eyes"),
            models.CheckConstraint(
                condition=Q(status="requested") | Q(decided_on__isnull=False, approved_by__isnull=False),
                name="waiver_decision_recorded",
            ),
        ]
        indexes = [models.Index(fields=["charge", "component"], name="waiver_charge", condition=Q(status="approved"))]

    def __str__(self):
        return f"{self.charge} −¥{self.amount} {self.get_status_display()}"


class ImportJobKind(models.TextChoices):
    CHECK = "check", _("校验")
    IMPORT = "import", _("导入")


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


ACTIVE_JOB_STATUSES = [ImportJobStatus.QUEUED, ImportJobStatus.RUNNING]


class ImportJob(models.Model):
    """One pass (check or import) of an uploaded workbook, run outside the request.

    At most one active job per user, file and kind (a partial unique index): a second click
    while it runs finds the first instead of starting another.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("员工"))
    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                                verbose_name=_("物业公司"))
    company_name = models.CharField(_("物业公司名称"), max_length=100, blank=True)
    token = models.CharField(_("文件标识"), max_length=32)
    file_name = models.CharField(_("文件名"), max_length=255, blank=True)
    digest = models.CharField(_("文件摘要"), max_length=64)
    kind = models.CharField(_("类型"), max_length=10, choices=ImportJobKind.choices)
    status = models.CharField(_("状态"), max_length=10, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED)
    stage = models.CharField(_("阶段"), max_length=10, blank=True)
    scope = models.JSONField(_("可写范围"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("已读行数"), default=0)
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    report = models.JSONField(_("结果"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "digest", "kind"], condition=Q(status__in=ACTIVE_JOB_STATUSES),
                name="import_job_one_active_per_file",
            ),
        ]

    def __str__(self):
        return f"{self.file_name} ({self.kind}, {self.status})"


# ----------------------------------------------------------------------------- incentives (seed 000)


class IncentiveKind(models.TextChoices):
    EARLY_PAYMENT = "early_payment", _("提前缴费优惠")
    PREPAY_YEAR = "prepay_year", _("预缴全年奖励")
    LATE_FEE_WAIVER = "late_fee_waiver", _("主动缴清免违约金")


class IncentiveProgramme(models.Model):
    """An offer of one community for a period: what it gives and on what condition.

    Configuration, not evidence: a manager ends it by setting `valid_to`; what it granted is in
    `IncentiveGrant`, which never changes.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    kind = models.CharField(_("类型"), max_length=20, choices=IncentiveKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True, help_text=_("含当日；空表示长期有效"))
    days = models.PositiveSmallIntegerField(
        _("天数"), default=0,
        help_text=_("提前缴费：到期日前几天缴清；主动缴清：首次提醒后几天内缴清本金"),
    )
    percent = models.DecimalField(_("优惠比例（%）"), max_digits=5, decimal_places=2, null=True, blank=True)
    amount = MoneyField(_("优惠金额"), null=True, blank=True)
    charge_types = models.ManyToManyField(ChargeType, blank=True, related_name="+", verbose_name=_("限收费项目"),
                                          help_text=_("空表示全部收费项目"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("优惠活动")
        verbose_name_plural = _("优惠活动")
        ordering = ["community_id", "-valid_from", "id"]
        constraints = [
            # A programme called off before it started ends the day before it starts: never in force.
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from") - timedelta(days=1)),
                name="incentive_to_after_from",
            ),
            # A discount is a percentage or an amount, never both; the late-fee waiver is neither.
            models.CheckConstraint(
                condition=(Q(kind="late_fee_waiver") & Q(percent__isnull=True) & Q(amount__isnull=True))
                | (~Q(kind="late_fee_waiver") & Q(percent__isnull=True) & Q(amount__gt=0))
                | (~Q(kind="late_fee_waiver") & Q(amount__isnull=True) & Q(percent__gt=0) & Q(percent__lt=100)),
                name="incentive_discount_shape",
            ),
            models.CheckConstraint(condition=Q(kind="prepay_year") | Q(days__gte=1), name="incentive_days_positive"),
        ]

    def __str__(self):
        return f"{self.community} {self.name}"

    @property
    def called_off(self) -> bool:
        """Ended before it started: never in force."""
        return self.valid_to is not None and self.valid_to < self.valid_from

    def in_force(self, on) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


class PrepayAward(models.Model):
    """A payment that prepaid a whole year: the year's charges get the programme's discount as they are billed.

    Void once its payment is reversed (derived, never written): no later charge is discounted.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    programme = models.ForeignKey(IncentiveProgramme, on_delete=models.PROTECT, related_name="awards", verbose_name=_("优惠活动"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="+", verbose_name=_("业主"))
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="prepay_award", verbose_name=_("缴费"))
    starts = models.DateField(_("预缴起"))
    ends = models.DateField(_("预缴止"))
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    frozen_groups = EVIDENCE_COLUMNS["ledger_prepayaward"]
    objects = EvidenceQuerySet.as_manager()
    delete = refuse_delete

    class Meta:
        verbose_name = _("预缴全年奖励")
        verbose_name_plural = _("预缴全年奖励")
        constraints = [models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="prepay_award_order")]

    def __str__(self):
        return f"{self.unit} {self.starts}–{self.ends}"


class IncentiveGrant(models.Model):
    """A discount or waiver an incentive gave one charge: an approved `Waiver` plus this link.

    Append-only. A grant is withdrawn by a new row (`withdraws`, a negative amount) that bills the
    amount again as a new charge (`restores`): the waiver itself stands, as every ledger entry does.
    One grant per charge and component, ever (`incentive_grant_once`): applying twice grants once.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    programme = models.ForeignKey(IncentiveProgramme, on_delete=models.PROTECT, related_name="grants", verbose_name=_("优惠活动"))
    kind = models.CharField(_("类型"), max_length=20, choices=IncentiveKind.choices)
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="incentive_grants", verbose_name=_("应收"))
    component = models.CharField(_("减免项"), max_length=20, choices=Component.choices)
    waiver = models.OneToOneField(Waiver, on_delete=models.PROTECT, null=True, blank=True, related_name="incentive_grant",
                                  verbose_name=_("减免"))
    amount = MoneyField(_("金额"))
    granted_on = models.DateField(_("生效日期"))
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="incentive_grants",
                                verbose_name=_("缴费"))
    award = models.ForeignKey(PrepayAward, on_delete=models.PROTECT, null=True, blank=True, related_name="grants",
                              verbose_name=_("预缴全年奖励"))
    withdraws = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="withdrawal",
                                     verbose_name=_("撤回的优惠"))
    restores = models.ForeignKey(Charge, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("重新计收的应收"))
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    frozen_groups = EVIDENCE_COLUMNS["ledger_incentivegrant"]
    objects = EvidenceQuerySet.as_manager()
    delete = refuse_delete

    class Meta:
        verbose_name = _("优惠发放")
        verbose_name_plural = _("优惠发放")
        ordering = ["granted_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(withdraws__isnull=True) & Q(amount__gt=0) & Q(waiver__isnull=False) & Q(restores__isnull=True))
                | (Q(withdraws__isnull=False) & Q(amount__lt=0) & Q(waiver__isnull=True) & Q(restores__isnull=False)),
                name="incentive_grant_shape",
            ),
            models.UniqueConstraint(fields=["charge", "component"], condition=Q(withdraws__isnull=True),
                                    name="incentive_grant_once"),
        ]
        indexes = [models.Index(fields=["programme", "granted_on"], name="incentive_grant_programme")]

    def __str__(self):
        return f"{self.programme.name} {self.charge_id} ¥{self.amount}"
