"""Notices: the words we send (templates), the outbox's event log, and letters with their proof.

The outbox rows themselves are collection's `OutgoingMessage` (the daily run writes them); this
app renders, sends and tracks them. Letters (催费函, 律师函) are numbered, rendered once to PDF
with a SHA-256, and count as a written demand only when their delivery is recorded.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arrears.collection.models import Case, Channel, ContactAttempt, OutgoingMessage, Task
from arrears.core.db import EvidenceQuerySet, refuse_delete
from arrears.core.money import MoneyField
from arrears.estate.models import Community, Owner, Unit

from .append_only import EVIDENCE_COLUMNS

TEMPLATE_CHANNELS = [
    (Channel.SMS.value, Channel.SMS.label), (Channel.WECHAT.value, Channel.WECHAT.label),
    (Channel.EMAIL.value, Channel.EMAIL.label), (Channel.LETTER.value, Channel.LETTER.label),
    (Channel.LAWYER_LETTER.value, Channel.LAWYER_LETTER.label),
]


class NoticeTemplate(models.Model):
    """A message or letter text with whitelisted {placeholders}; a community's own overrides the default."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                                  verbose_name=_("小区"), help_text=_("空表示公司默认模板，各小区可另设自己的"))
    code = models.SlugField(_("模板代码"), max_length=60)
    channel = models.CharField(_("渠道"), max_length=20, choices=TEMPLATE_CHANNELS)
    name = models.CharField(_("名称"), max_length=100)
    subject = models.CharField(_("标题"), max_length=200, blank=True, help_text=_("邮件主题；函件标题"))
    body = models.TextField(_("内容"))
    neutral = models.BooleanField(_("中性（可发给第三方）"), default=False, help_text=_("不得含金额、欠费字样或金额类占位符"))
    provider_codes = models.JSONField(_("服务商模板编号"), default=dict, blank=True,
                                      help_text=_('短信服务商审核通过的模板编号，如 {"aliyun": "SMS_1234", "tencent": "123456"}'))
    payment_methods = models.TextField(_("缴费方式"), blank=True, help_text=_("函件用：每行一种缴费方式"))
    active = models.BooleanField(_("启用"), default=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("修改人"))
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("通知模板")
        verbose_name_plural = _("通知模板")
        ordering = ["code", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["community", "code", "channel"], name="template_unique_community",
                                    condition=Q(community__isnull=False)),
            models.UniqueConstraint(fields=["code", "channel"], name="template_unique_default",
                                    condition=Q(community__isnull=True)),
        ]

    def __str__(self):
        return f"{self.name}（{self.get_channel_display()}）"


class EventKind(models.TextChoices):
    RENDERED = "rendered", _("生成内容")
    SENT = "sent", _("服务商已受理")
    RETRY = "retry", _("稍后重试")
    FAILED = "failed", _("发送失败")
    RESCHEDULED = "rescheduled", _("改期")
    BLOCKED = "blocked", _("合规拦截")
    CANCELLED = "cancelled", _("取消")
    RECOVERED = "recovered", _("中断后核实")
    DELIVERED = "delivered", _("已送达")
    UNDELIVERED = "undelivered", _("未送达")
    RESEND = "resend", _("人工重发")
    FALLBACK = "fallback", _("改发短信")


class MessageEvent(models.Model):
    """What happened to an outbox message, in order: the message's own audit trail."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    message = models.ForeignKey(OutgoingMessage, on_delete=models.CASCADE, related_name="events", verbose_name=_("消息"))
    at = models.DateTimeField(_("时间"))
    kind = models.CharField(_("事件"), max_length=20, choices=EventKind.choices)
    detail = models.CharField(_("说明"), max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("操作人"))

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["notices_messageevent"]
    delete = refuse_delete

    class Meta:
        verbose_name = _("消息事件")
        verbose_name_plural = _("消息事件")
        ordering = ["message", "at", "id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class LetterKind(models.TextChoices):
    COLLECTION = "collection", _("催费函")
    LAWYER = "lawyer", _("律师函")


class LetterStatus(models.TextChoices):
    ISSUED = "issued", _("已出函")
    DELIVERED = "delivered", _("已送达")
    RETURNED = "returned", _("退回/未送达")
    CANCELLED = "cancelled", _("已作废")


class DeliveryMethod(models.TextChoices):
    HAND = "hand", _("当面送达签收")
    REGISTERED_MAIL = "registered_mail", _("挂号信")
    EMS = "ems", _("EMS")
    SMS_LINK = "sms_link", _("短信链接")
    WECHAT = "wechat", _("微信")


# Posted letters carry a tracking number; a hand delivery carries the owner's signature (the proof).
TRACKED_METHODS = frozenset({DeliveryMethod.REGISTERED_MAIL, DeliveryMethod.EMS})


class LetterBatch(models.Model):
    """One printing: the merged PDF and a ZIP of the single letters, with their hashes."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    kind = models.CharField(_("类型"), max_length=20, choices=LetterKind.choices)
    issued_on = models.DateField(_("出函日期"))
    deadline = models.DateField(_("缴费期限"))
    count = models.PositiveIntegerField(_("份数"), default=0)
    merged_pdf = models.FileField(_("合并 PDF"), upload_to="letters/%Y/%m/", blank=True)
    merged_sha256 = models.CharField(_("合并 PDF SHA-256"), max_length=64, blank=True)
    zip_file = models.FileField(_("单份 ZIP"), upload_to="letters/%Y/%m/", blank=True)
    zip_sha256 = models.CharField(_("ZIP SHA-256"), max_length=64, blank=True)
    override_reason = models.CharField(_("例外理由"), max_length=300, blank=True,
                                       help_text=_("经理批准同一楼栋一周内多户发律师函的理由"))
    override_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("批准人"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("经办人"))
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["notices_letterbatch"]
    delete = refuse_delete

    class Meta:
        verbose_name = _("函件批次")
        verbose_name_plural = _("函件批次")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("issue_lawyer_letter", _("出具律师函")),
            ("override_lawyer_limit", _("批准同一楼栋一周内多户律师函")),
        ]

    def __str__(self):
        return f"{self.issued_on} {self.get_kind_display()} × {self.count}"


class LetterJobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


ACTIVE_LETTER_JOBS = [LetterJobStatus.QUEUED, LetterJobStatus.RUNNING]


class LetterJob(models.Model):
    """One batch being rendered outside the request (a batch of 200 takes half a minute).

    The same selection posted twice while it runs finds this job (a partial unique index on the
    user and the selection's digest); the page polls `done` of `total` and links the batch at the end.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("员工"))
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("小区"))
    kind = models.CharField(_("类型"), max_length=20, choices=LetterKind.choices)
    issued_on = models.DateField(_("出函日期"))
    case_ids = models.JSONField(_("案件"), default=list)
    override_reason = models.CharField(_("例外理由"), max_length=300, blank=True)
    digest = models.CharField(_("选择摘要"), max_length=64)
    status = models.CharField(_("状态"), max_length=10, choices=LetterJobStatus.choices, default=LetterJobStatus.QUEUED)
    done = models.PositiveIntegerField(_("已生成"), default=0)
    total = models.PositiveIntegerField(_("总份数"), default=0)
    batch = models.ForeignKey(LetterBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("函件批次"))
    error_zh = models.TextField(_("失败原因"), blank=True)
    error_en = models.TextField(_("失败原因（英文）"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("出函任务")
        verbose_name_plural = _("出函任务")
        constraints = [
            models.UniqueConstraint(fields=["user", "digest"], condition=Q(status__in=ACTIVE_LETTER_JOBS),
                                    name="letter_job_one_active_per_selection"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} × {self.total} ({self.status})"


class Letter(models.Model):
    """A numbered letter to one owner about one unit; its content and PDF are frozen at issue."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    batch = models.ForeignKey(LetterBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="letters",
                              verbose_name=_("批次"))
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+", verbose_name=_("案件"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="+", verbose_name=_("业主"))
    task = models.ForeignKey(Task, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("任务"))
    kind = models.CharField(_("类型"), max_length=20, choices=LetterKind.choices)
    template_code = models.CharField(_("模板代码"), max_length=60)
    number = models.CharField(_("函号"), max_length=40, unique=True)
    issued_on = models.DateField(_("出函日期"))
    deadline = models.DateField(_("缴费期限"))
    as_of = models.DateField(_("金额截至"))
    principal = MoneyField(_("欠费本金"))
    late_fee = MoneyField(_("违约金"))
    content = models.JSONField(_("函件内容"), default=dict, help_text=_("出函时冻结的内容：费用明细、正文、缴费方式"))
    pdf = models.FileField(_("PDF"), upload_to="letters/%Y/%m/")
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64)
    status = models.CharField(_("状态"), max_length=20, choices=LetterStatus.choices, default=LetterStatus.ISSUED)
    delivery_method = models.CharField(_("送达方式"), max_length=20, choices=DeliveryMethod.choices, blank=True)
    tracking_no = models.CharField(_("邮件单号"), max_length=60, blank=True)
    delivered_on = models.DateField(_("送达日期"), null=True, blank=True)
    proof = models.FileField(_("送达凭证"), upload_to="letters/proof/%Y/%m/", blank=True)
    proof_sha256 = models.CharField(_("凭证 SHA-256"), max_length=64, blank=True)
    delivery_note = models.CharField(_("送达说明"), max_length=300, blank=True)
    attempt = models.ForeignKey(ContactAttempt, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("催收记录"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("登记人"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("出函人"))
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["notices_letter"]  # content at issue; delivery once recorded
    delete = refuse_delete

    class Meta:
        verbose_name = _("函件")
        verbose_name_plural = _("函件")
        ordering = ["-issued_on", "-id"]
        indexes = [
            models.Index(fields=["community", "kind", "issued_on"], name="letter_kind_issued"),
            models.Index(fields=["case", "kind"], name="letter_case_kind"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"

    @property
    def total(self):
        return self.principal + self.late_fee

    @property
    def delivery(self) -> "Delivery | None":
        """The delivery record that counts: the latest correction, else the one recorded at delivery."""
        if not self.delivered_on:
            return None
        corrections = sorted(self.delivery_corrections.all(), key=lambda row: row.pk)
        latest = corrections[-1] if corrections else None
        source = latest or self
        return Delivery(
            delivered_on=self.delivered_on, method=source.delivery_method, tracking_no=source.tracking_no,
            proof=source.proof, proof_sha256=source.proof_sha256, note=source.delivery_note,
            recorded_by_id=latest.corrected_by_id if latest else self.recorded_by_id, correction=latest,
        )


@dataclass(frozen=True)
class Delivery:
    """How a letter reached its owner, as it stands after every correction."""

    delivered_on: date
    method: str
    tracking_no: str
    proof: models.fields.files.FieldFile
    proof_sha256: str
    note: str
    recorded_by_id: int | None
    correction: "DeliveryCorrection | None"

    @property
    def method_label(self) -> str:
        return DeliveryMethod(self.method).label if self.method in DeliveryMethod.values else self.method

    @property
    def corrected_at(self) -> datetime | None:
        return self.correction.corrected_at if self.correction else None


class DeliveryCorrection(models.Model):
    """A correction of a letter's delivery record: a new row, with who, when and why.

    The letter keeps the record made at delivery, and every earlier correction stays; the latest
    correction is what counts. `corrects` is the correction this one supersedes (empty: the
    record on the letter). The delivery date and the outcome are not corrected here: they are
    the written demand itself (民法典第195条), recorded with its contact attempt.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="delivery_corrections", verbose_name=_("函件"))
    corrects = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrected_by_row",
                                    verbose_name=_("更正的记录"))
    delivery_method = models.CharField(_("送达方式"), max_length=20, choices=DeliveryMethod.choices)
    tracking_no = models.CharField(_("邮件单号"), max_length=60, blank=True)
    proof = models.FileField(_("送达凭证"), upload_to="letters/proof/%Y/%m/", blank=True)
    proof_sha256 = models.CharField(_("凭证 SHA-256"), max_length=64, blank=True)
    delivery_note = models.CharField(_("送达说明"), max_length=300, blank=True)
    reason = models.CharField(_("更正原因"), max_length=300)
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("更正人"))
    corrected_at = models.DateTimeField(_("更正时间"), auto_now_add=True)

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["notices_deliverycorrection"]
    delete = refuse_delete

    class Meta:
        verbose_name = _("送达更正")
        verbose_name_plural = _("送达更正")
        ordering = ["letter", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="delivery_correction_has_reason"),
            # One chain per letter: only one correction may take the letter's own record as its original.
            models.UniqueConstraint(fields=["letter"], condition=Q(corrects__isnull=True), name="delivery_correction_one_chain"),
        ]

    def __str__(self):
        return f"{self.letter} · {self.corrected_at:%Y-%m-%d %H:%M}"


class LetterCounter(models.Model):
    """The last letter number given per community, kind and year: numbers never repeat or skip."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("小区"))
    kind = models.CharField(_("类型"), max_length=20, choices=LetterKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    last = models.PositiveIntegerField(_("最后编号"), default=0)

    class Meta:
        verbose_name = _("函号计数")
        verbose_name_plural = _("函号计数")
        constraints = [models.UniqueConstraint(fields=["community", "kind", "year"], name="letter_counter_unique")]

    def __str__(self):
        return f"{self.community_id} {self.kind} {self.year}: {self.last}"
