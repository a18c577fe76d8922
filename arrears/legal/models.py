"""The legal desk: matters (litigation, payment orders, mediation, arbitration, enforcement), their
costs and awards, the community's contract documents, templates of court documents, and the
public arrears notice (公示).

A matter is one case taken to a court or an arbitration body. Its stages, costs and awards are
evidence (append-only; a correction is a new row pointing at the original). An award reaches the
ledger only through the ledger's own services, after a second person approves it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arrears.collection.models import Case, Task
from arrears.core.db import EvidenceQuerySet, refuse_delete
from arrears.core.money import MoneyField
from arrears.estate.models import Building, Community, Company, Owner, Unit
from arrears.legal import rules
from arrears.legal.append_only import EVIDENCE_COLUMNS


class Route(models.TextChoices):
    MEDIATION = "mediation", _("诉前调解")
    PAYMENT_ORDER = "payment_order", _("支付令")
    SUIT = "suit", _("起诉")
    ARBITRATION = "arbitration", _("仲裁")
    ENFORCEMENT = "enforcement", _("强制执行")


class MatterStatus(models.TextChoices):
    OPEN = "open", _("进行中")
    CLOSED = "closed", _("已结案")


class MatterOutcome(models.TextChoices):
    RECOVERED = "recovered", _("已全部收回")
    SETTLED = "settled", _("和解或调解履行完毕")
    PARTLY_RECOVERED = "partly_recovered", _("部分收回，终结执行")
    WITHDRAWN = "withdrawn", _("撤回")
    DISMISSED = "dismissed", _("诉请被驳回")


class Matter(models.Model):
    """One case before a court or arbitration body: its route now, the claim as filed, the outcome."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="legal_matters", verbose_name=_("案件"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="+", verbose_name=_("业主"))
    route = models.CharField(_("程序"), max_length=20, choices=Route.choices)
    status = models.CharField(_("状态"), max_length=10, choices=MatterStatus.choices, default=MatterStatus.OPEN)
    opened_on = models.DateField(_("立项日期"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("立项人"))
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("承办人"))
    court = models.CharField(_("法院或仲裁机构"), max_length=200, blank=True)
    court_case_number = models.CharField(_("案号"), max_length=100, blank=True)
    # The claim as filed: the charges it covers and their amounts on the claim date (from the ledger).
    claim_as_of = models.DateField(_("诉请计算日"), null=True, blank=True)
    claim_charges = models.JSONField(_("诉请所含应收"), default=list, blank=True)
    claim_principal = MoneyField(_("诉请本金"), default=0)
    claim_late_fee = MoneyField(_("诉请违约金"), default=0)
    claim_costs = MoneyField(_("诉请费用"), default=0)
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=20, choices=MatterOutcome.choices, blank=True)
    close_note = models.CharField(_("结案说明"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("法务案件")
        verbose_name_plural = _("法务案件")
        ordering = ["-opened_on", "-id"]
        permissions = [("approve_award", _("可审批判决入账")), ("prepare_public_notice", _("可拟制欠费公示")),
                       ("approve_public_notice", _("可审批欠费公示"))]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(status="open"), name="matter_one_open_per_case"),
            models.CheckConstraint(condition=Q(status="open") | Q(closed_on__isnull=False) & ~Q(outcome=""),
                                   name="matter_closed_has_outcome"),
        ]
        indexes = [models.Index(fields=["community", "status"], name="matter_community_status")]

    def __str__(self):
        return f"{self.get_route_display()} {self.court_case_number or self.pk}"


class MatterStage(models.Model):
    """A dated stage of a matter (filed, accepted, hearing, judgment, …): evidence, with its document."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="stages", verbose_name=_("法务案件"))
    route = models.CharField(_("程序"), max_length=20, choices=Route.choices)
    stage = models.CharField(_("节点"), max_length=30)
    occurred_on = models.DateField(_("日期"))
    amount = MoneyField(_("金额"), null=True, blank=True)
    reference = models.CharField(_("文书编号或案号"), max_length=200, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    document = models.FileField(_("文书"), upload_to="legal/%Y/%m/", blank=True)
    sha256 = models.CharField(_("文书 SHA-256"), max_length=64, blank=True)
    task = models.ForeignKey(Task, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("待办"))
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections",
                                 verbose_name=_("更正"))
    correction_reason = models.CharField(_("更正原因"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("登记人"))
    recorded_at = models.DateTimeField(_("登记时间"))

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["legal_matterstage"]
    delete = refuse_delete

    class Meta:
        verbose_name = _("法务节点")
        verbose_name_plural = _("法务节点")
        ordering = ["occurred_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                                              name="stage_correction_has_reason")]

    def __str__(self):
        return f"{self.occurred_on} {self.stage}"

    @property
    def label(self) -> str:
        """The stage's name (a Chinese msgid, translated where shown)."""
        spec = rules.stage(self.route, self.stage)
        return spec.zh if spec else self.stage


class CostKind(models.TextChoices):
    COURT_FEE = "court_fee", _("案件受理费")
    PRESERVATION = "preservation", _("保全费")
    SERVICE = "service", _("公告送达费")
    ENFORCEMENT = "enforcement", _("执行费")
    LAWYER = "lawyer", _("律师费")
    OTHER = "other", _("其他费用")


class MatterCost(models.Model):
    """Money the company advanced for a matter (court fees, lawyer fees): recorded, not charged to the owner."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="costs", verbose_name=_("法务案件"))
    kind = models.CharField(_("类型"), max_length=20, choices=CostKind.choices)
    amount = MoneyField(_("金额"))
    paid_on = models.DateField(_("支付日期"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    document = models.FileField(_("票据"), upload_to="legal/%Y/%m/", blank=True)
    sha256 = models.CharField(_("票据 SHA-256"), max_length=64, blank=True)
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections",
                                 verbose_name=_("更正"))
    correction_reason = models.CharField(_("更正原因"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("登记人"))
    recorded_at = models.DateTimeField(_("登记时间"))

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["legal_mattercost"]
    delete = refuse_delete

    class Meta:
        verbose_name = _("法务费用")
        verbose_name_plural = _("法务费用")
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="matter_cost_positive"),
            models.CheckConstraint(condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                                   name="cost_correction_has_reason"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ¥{self.amount}"


class AwardKind(models.TextChoices):
    JUDGMENT = "judgment", _("判决书")
    MEDIATION = "mediation", _("调解书")
    PAYMENT_ORDER = "payment_order", _("支付令")
    ARBITRAL = "arbitral", _("仲裁裁决书")


class AwardStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批入账")
    POSTED = "posted", _("已入账")
    REJECTED = "rejected", _("已驳回")


class Award(models.Model):
    """What a judgment (or mediation, payment order, arbitral award) says the owner owes, with the document.

    Posting it makes the ledger match: the cut principal and late fee waived, awarded costs charged.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    matter = models.ForeignKey(Matter, on_delete=models.PROTECT, related_name="awards", verbose_name=_("法务案件"))
    kind = models.CharField(_("文书类型"), max_length=20, choices=AwardKind.choices)
    decided_on = models.DateField(_("文书日期"))
    effective_on = models.DateField(_("生效日期"), null=True, blank=True)
    late_fee_as_of = models.DateField(_("违约金计算至"))
    principal = MoneyField(_("判决本金"))
    late_fee = MoneyField(_("判决违约金"))
    costs = MoneyField(_("业主负担的诉讼费用"))
    reference = models.CharField(_("文书编号"), max_length=200)
    document = models.FileField(_("文书"), upload_to="legal/%Y/%m/")
    sha256 = models.CharField(_("文书 SHA-256"), max_length=64)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("登记人"))
    recorded_at = models.DateTimeField(_("登记时间"))
    status = models.CharField(_("状态"), max_length=20, choices=AwardStatus.choices, default=AwardStatus.REQUESTED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批说明"), max_length=300, blank=True)
    posted = models.JSONField(_("入账明细"), default=dict, blank=True)

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["legal_award"]
    delete = refuse_delete

    class Meta:
        verbose_name = _("裁判文书")
        verbose_name_plural = _("裁判文书")
        ordering = ["decided_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(principal__gte=0) & Q(late_fee__gte=0) & Q(costs__gte=0),
                                   name="award_amounts_not_negative"),
            models.CheckConstraint(condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("recorded_by")),
                                   name="award_four_eyes"),
            models.UniqueConstraint(fields=["matter"], condition=Q(status="requested"), name="award_one_pending"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.reference}"


class DocumentKind(models.TextChoices):
    CONTRACT = "contract", _("物业服务合同")
    TARIFF = "tariff", _("收费标准依据")
    OTHER = "other", _("其他依据")


class CommunityDocument(models.Model):
    """The community's contract and tariff basis, uploaded once and put in every evidence pack; a new
    upload of a kind replaces the older one from then on (both kept)."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    kind = models.CharField(_("类型"), max_length=20, choices=DocumentKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    file = models.FileField(_("文件"), upload_to="legal/community/%Y/")
    sha256 = models.CharField(_("文件 SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"))

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["legal_communitydocument"]
    delete = refuse_delete

    class Meta:
        verbose_name = _("小区合同文件")
        verbose_name_plural = _("小区合同文件")
        ordering = ["community", "kind", "-uploaded_at", "-id"]

    def __str__(self):
        return self.title


class TemplateKind(models.TextChoices):
    COMPLAINT = "complaint", _("民事起诉状")
    PAYMENT_ORDER = "payment_order", _("支付令申请书")
    EVIDENCE_LIST = "evidence_list", _("证据清单")


class DocumentTemplate(models.Model):
    """A court document's text with {placeholders}; a company's own replaces the built-in one."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                                verbose_name=_("物业公司"), help_text=_("留空为系统默认"))
    kind = models.CharField(_("类型"), max_length=20, choices=TemplateKind.choices)
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("正文"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("修改人"))
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("法律文书模板")
        verbose_name_plural = _("法律文书模板")
        constraints = [
            models.UniqueConstraint(fields=["company", "kind"], name="legal_template_once"),
            models.UniqueConstraint(fields=["kind"], condition=Q(company__isnull=True), name="legal_template_default_once"),
        ]

    def __str__(self):
        return self.title


class LegalPolicy(models.Model):
    """What the company allows of a public arrears notice (PIPL: the least that serves its purpose)."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="legal_policy", verbose_name=_("物业公司"))
    public_notice_enabled = models.BooleanField(_("允许张贴欠费公示"), default=False)
    public_notice_amounts = models.BooleanField(_("公示可列金额"), default=False)

    class Meta:
        verbose_name = _("法务设置")
        verbose_name_plural = _("法务设置")

    def __str__(self):
        return str(self.company)


class NoticeMode(models.TextChoices):
    MASKED_ROOMS = "masked_rooms", _("列出房号（部分隐去）")
    COUNTS = "counts", _("只列户数")


class NoticeStatus(models.TextChoices):
    PENDING = "pending", _("待批准")
    APPROVED = "approved", _("已批准张贴")
    REJECTED = "rejected", _("已驳回")
    WITHDRAWN = "withdrawn", _("已撤下")


class PublicNotice(models.Model):
    """A public arrears notice of a community or building: masked rooms or counts, never names or phones."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("楼栋"))
    mode = models.CharField(_("形式"), max_length=20, choices=NoticeMode.choices)
    show_amounts = models.BooleanField(_("列出金额"), default=False)
    as_of = models.DateField(_("数据日期"))
    legal_basis = models.TextField(_("依据"))
    office_phone = models.CharField(_("咨询电话"), max_length=50)
    body = models.TextField(_("正文"))
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("拟制人"))
    prepared_at = models.DateTimeField(_("拟制时间"))
    file = models.FileField(_("海报 PDF"), upload_to="legal/notices/%Y/", blank=True)
    sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=NoticeStatus.choices, default=NoticeStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("撤下人"))
    withdrawn_at = models.DateTimeField(_("撤下时间"), null=True, blank=True)
    withdraw_reason = models.CharField(_("撤下原因"), max_length=300, blank=True)

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["legal_publicnotice"]
    delete = refuse_delete

    class Meta:
        verbose_name = _("欠费公示")
        verbose_name_plural = _("欠费公示")
        ordering = ["-prepared_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("prepared_by")),
                                              name="notice_four_eyes")]

    def __str__(self):
        return f"{self.community} {self.as_of}"


class PublicNoticeEntry(models.Model):
    """One line of a notice: the unit it stands for (for the log) and what is shown (a masked room)."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    notice = models.ForeignKey(PublicNotice, on_delete=models.PROTECT, related_name="entries", verbose_name=_("公示"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("房屋"))
    label = models.CharField(_("公示房号"), max_length=50)
    amount = MoneyField(_("金额"), null=True, blank=True)

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["legal_publicnoticeentry"]
    delete = refuse_delete

    class Meta:
        verbose_name = _("公示明细")
        verbose_name_plural = _("公示明细")
        ordering = ["notice", "label", "id"]

    def __str__(self):
        return self.label

