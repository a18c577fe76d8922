"""Collection: policies (escalation ladders), cases, owner profiles, tasks, the evidence log.

A case is one owner's arrears on one unit, from the day they appear until they are cleared; a
recurrence opens a new case, so history is kept. The daily run (`run.py`) keeps the case
snapshot (amounts, bucket, tier, situations, techniques, limitation deadline) and fires ladder
steps; everything staff do is recorded in `ContactAttempt`, the evidence log.
"""

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from arrears.collection.append_only import EVIDENCE_COLUMNS
from arrears.core import roles
from arrears.core.db import EvidenceQuerySet, refuse_delete
from arrears.core.money import MoneyField
from arrears.estate.models import (
    Building,
    Community,
    Contact,
    Owner,
    Satisfaction,
    ServiceTicket,
    Unit,
)
from arrears.ledger.models import Charge


class Channel(models.TextChoices):
    SMS = "sms", _("短信")
    CALL = "call", _("电话")
    VISIT = "visit", _("上门")
    WECHAT = "wechat", _("微信")
    EMAIL = "email", _("邮件")
    LETTER = "letter", _("催费函")
    LAWYER_LETTER = "lawyer_letter", _("律师函")
    FRONT_DESK_FLAG = "front_desk_flag", _("前台提醒")
    LEGAL_REVIEW = "legal_review", _("法务审查")


# Steps on these channels reach the owner and pass the compliance guard; the other two are internal.
CONTACT_CHANNELS = frozenset({
    Channel.SMS, Channel.CALL, Channel.VISIT, Channel.WECHAT, Channel.EMAIL, Channel.LETTER, Channel.LAWYER_LETTER,
})
# Sent by the notices app from the outbox; calls, visits and letters are tasks for people.
MESSAGE_CHANNELS = frozenset({Channel.SMS, Channel.WECHAT, Channel.EMAIL})


class Persona(models.TextChoices):
    UNDERSTANDING = "understanding", _("理解型")
    RESISTANT = "resistant", _("抗拒型")
    NEGLECTFUL = "neglectful", _("忽视型")
    EVASIVE = "evasive", _("逃避型")


class Reason(models.TextChoices):
    ECONOMIC = "economic", _("经济压力")
    COGNITION = "cognition", _("认知不足")
    SERVICE = "service", _("服务不满")
    COMMUNICATION = "communication", _("沟通障碍")


class Intent(models.TextChoices):
    UNAWARE = "unaware", _("不知情")
    EXCUSE = "excuse", _("理由借口")
    DELIBERATE = "deliberate", _("恶意")


class Tier(models.TextChoices):
    A = "A", _("A 类（重点）")
    B = "B", _("B 类")
    C = "C", _("C 类")


class CollectionPolicy(models.Model):
    """One per community: thresholds, contact windows and caps; its ladder is `steps`."""

    community = models.OneToOneField(Community, on_delete=models.CASCADE, related_name="collection_policy", verbose_name=_("小区"))
    tier_a_months = models.PositiveSmallIntegerField(_("A 类：欠费月数 ≥"), default=12)
    tier_a_amount = MoneyField(_("A 类：欠费金额 ≥"), default=Decimal("5000.00"))
    tier_b_months = models.PositiveSmallIntegerField(_("B 类：欠费月数 ≥"), default=3)
    tier_b_amount = MoneyField(_("B 类：欠费金额 ≥"), default=Decimal("1000.00"))
    call_morning_start = models.TimeField(_("电话/上门 上午起"), default=time(8, 0))
    call_morning_end = models.TimeField(_("电话/上门 上午止"), default=time(12, 0))
    call_afternoon_start = models.TimeField(_("电话/上门 下午起"), default=time(14, 0))
    call_afternoon_end = models.TimeField(_("电话/上门 下午止"), default=time(21, 0))
    sms_start = models.TimeField(_("短信 起"), default=time(9, 0))
    sms_end = models.TimeField(_("短信 止"), default=time(20, 0))
    contact_on_weekends = models.BooleanField(
        _("周末可联系"), default=True, help_text=_("法定节假日一律不联系；调休上班日视为工作日。"),
    )
    sms_per_7_days = models.PositiveSmallIntegerField(_("短信 7 日上限"), default=2)
    calls_per_day = models.PositiveSmallIntegerField(_("电话 每日上限"), default=2)
    calls_per_7_days = models.PositiveSmallIntegerField(_("电话 7 日上限"), default=7)
    visits_per_7_days = models.PositiveSmallIntegerField(_("上门 7 日上限"), default=1)
    unreachable_after = models.PositiveSmallIntegerField(_("连续联系失败几次视为失联"), default=3)
    vacant_months = models.PositiveSmallIntegerField(_("空置几个月视为空置户"), default=6)
    plan_months = models.PositiveSmallIntegerField(_("分期默认月数"), default=6)
    plan_breach_days = models.PositiveSmallIntegerField(_("分期逾期几天视为违约"), default=15)
    plan_waives_late_fee = models.BooleanField(_("分期完成后减免违约金"), default=True)
    lawyer_letters_at_once = models.PositiveSmallIntegerField(
        _("同时在办的律师函上限"), default=1, help_text=_("律师函不可群发：先从一户开始（带头户或最谨慎的一户）。"),
    )
    lawyer_letter_building_days = models.PositiveSmallIntegerField(
        _("同一楼栋律师函间隔天数"), default=7,
        help_text=_("同一楼栋在此天数内只向一户发律师函；经理可注明理由后例外。"),
    )
    letter_repeat_days = models.PositiveSmallIntegerField(
        _("同一户催费函间隔天数"), default=30,
        help_text=_("在此天数内已出过同类函件的业主不再列入出函候选，也不能再次出函。"),
    )
    # Once the national holidays for years the calendar package lacked: now only extra days of the
    # community; it never makes a day a working day (guard.community_days_off).
    fallback_holidays = models.TextField(
        _("本小区额外不联系日"), blank=True,
        help_text=_("每行一个日期（YYYY-MM-DD），当日不联系业主。法定节假日与放假安排由系统按年确定，此处无需填写。"),
    )
    # Only a reminder comes earlier, never a sanction. 0.50: an owner the model finds more likely than
    # not to be unpaid 30 days after the due date; the cost of a wrong guess is one SMS a week early,
    # and until a model is trained there are no scores, so the default changes nothing by itself.
    early_reminder_score = models.DecimalField(
        _("提前提醒风险阈值"), max_digits=5, decimal_places=4, null=True, blank=True, default=Decimal("0.5000"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("风险评分（0–1）不低于此值的业主，到期前提醒短信提前 7 天发送（到期前 14 天）；空表示不提前。只提前提醒，不作任何处罚。"),
    )

    class Meta:
        verbose_name = _("催收策略")
        verbose_name_plural = _("催收策略")
        constraints = [
            models.CheckConstraint(
                condition=Q(early_reminder_score__isnull=True) | Q(early_reminder_score__gte=0, early_reminder_score__lte=1),
                name="policy_early_reminder_score_range",
            ),
        ]

    def __str__(self):
        return f"{self.community} · {_('催收策略')}"


class CreditCondition(models.TextChoices):
    ANY = "any", _("不限")
    EXHAUSTED = "exhausted", _("预存刚用完")
    NOT_EXHAUSTED = "not_exhausted", _("非预存用完")


class LadderStep(models.Model):
    """A step of the escalation ladder, `day_offset` days from the oldest unpaid charge's due date."""

    policy = models.ForeignKey(CollectionPolicy, on_delete=models.CASCADE, related_name="steps", verbose_name=_("催收策略"))
    code = models.SlugField(_("代码"), max_length=40)
    name = models.CharField(_("名称"), max_length=100)
    day_offset = models.SmallIntegerField(_("天数"), help_text=_("自最早欠费到期日起；负数表示到期前"))
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    technique = models.PositiveSmallIntegerField(_("招式"), null=True, blank=True, help_text=_("九招之一：1–9"))
    template_code = models.CharField(_("模板代码"), max_length=60, blank=True)
    script_code = models.CharField(_("话术代码"), max_length=60, blank=True)
    tiers = models.CharField(_("适用分类"), max_length=3, default="ABC")
    personas = models.CharField(_("适用类型"), max_length=100, blank=True, help_text=_("逗号分隔；空表示不限"))
    credit = models.CharField(_("预存条件"), max_length=20, choices=CreditCondition.choices, default=CreditCondition.ANY)
    min_amount = MoneyField(_("最低欠费金额"), default=Decimal("0.00"))
    min_months = models.PositiveSmallIntegerField(_("最少欠费月数"), default=0)
    requires_steps = models.CharField(_("前置步骤"), max_length=200, blank=True, help_text=_("逗号分隔的步骤代码"))
    days_after_required = models.PositiveSmallIntegerField(_("前置步骤后至少间隔天数"), default=0)
    no_payment_since_required = models.BooleanField(_("前置步骤后未缴费"), default=False)
    lawyer_letter_eligibility = models.BooleanField(_("需符合律师函条件"), default=False)
    quiet_days = models.PositiveSmallIntegerField(_("之后静默天数"), default=0)
    after_delivery = models.BooleanField(
        _("自函件送达起算"), default=False,
        help_text=_("间隔天数自前置步骤的函件登记送达之日起算；函件未送达的不触发"),
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("催收阶梯步骤")
        verbose_name_plural = _("催收阶梯步骤")
        ordering = ["policy_id", "day_offset", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "code"], name="ladder_step_unique_code"),
            models.CheckConstraint(condition=Q(technique__isnull=True) | Q(technique__gte=1, technique__lte=9), name="ladder_step_technique"),
        ]

    def __str__(self):
        return f"{self.day_offset:+d} {self.name}"

    @property
    def required_codes(self) -> list[str]:
        return [code.strip() for code in self.requires_steps.split(",") if code.strip()]

    @property
    def persona_list(self) -> list[str]:
        return [code.strip() for code in self.personas.split(",") if code.strip()]


class CollectorAssignment(models.Model):
    """Which collectors work a building; cases are spread evenly among them."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("小区"))
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="collectors", verbose_name=_("楼栋"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("催收员"))

    class Meta:
        verbose_name = _("楼栋催收员")
        verbose_name_plural = _("楼栋催收员")
        constraints = [models.UniqueConstraint(fields=["building", "user"], name="collector_assignment_unique")]

    def __str__(self):
        return f"{self.building} → {self.user}"


class OwnerProfile(models.Model):
    """The collector's judgement of an owner: persona, flags, why they don't pay. Changes are kept."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    owner = models.OneToOneField(Owner, on_delete=models.CASCADE, related_name="collection_profile", verbose_name=_("业主"))
    persona = models.CharField(_("业主类型"), max_length=20, choices=Persona.choices, blank=True)
    irritable = models.BooleanField(_("易激动"), default=False, help_text=_("易激动的业主不用苦肉计（第③招）"))
    reason = models.CharField(_("欠费原因"), max_length=20, choices=Reason.choices, blank=True)
    intent = models.CharField(_("欠费性质"), max_length=20, choices=Intent.choices, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("修改人"))
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("业主画像")
        verbose_name_plural = _("业主画像")

    def __str__(self):
        return f"{self.owner} · {self.get_persona_display() or '—'}"


class ProfileChange(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    profile = models.ForeignKey(OwnerProfile, on_delete=models.CASCADE, related_name="changes", verbose_name=_("业主画像"))
    persona = models.CharField(_("业主类型"), max_length=20, choices=Persona.choices, blank=True)
    irritable = models.BooleanField(_("易激动"), default=False)
    reason = models.CharField(_("欠费原因"), max_length=20, choices=Reason.choices, blank=True)
    intent = models.CharField(_("欠费性质"), max_length=20, choices=Intent.choices, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("修改人"))
    changed_at = models.DateTimeField(_("修改时间"))

    class Meta:
        verbose_name = _("画像变更")
        verbose_name_plural = _("画像变更")
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return f"{self.changed_at:%Y-%m-%d} {self.get_persona_display() or '—'}"


class CaseStatus(models.TextChoices):
    OPEN = "open", _("进行中")
    CLOSED = "closed", _("已结案")


class CloseReason(models.TextChoices):
    PAID = "paid", _("已缴清")
    WAIVED = "waived", _("已减免")
    WRITTEN_OFF = "written_off", _("已核销")
    PLAN_COMPLETED = "plan_completed", _("分期已完成")


class Bucket(models.TextChoices):
    D1_5 = "1-5", _("1–5 天")
    D6_10 = "6-10", _("6–10 天")
    D11_30 = "11-30", _("11–30 天")
    D31_90 = "31-90", _("31–90 天")
    D91_180 = "91-180", _("91–180 天")
    D181_365 = "181-365", _("181–365 天")
    D366_730 = "366-730", _("366–730 天")
    D730_PLUS = "730+", _("730 天以上")


class Case(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="collection_cases", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="collection_cases", verbose_name=_("业主"))
    status = models.CharField(_("状态"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_on = models.DateField(_("立案日期"))
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    close_reason = models.CharField(_("结案原因"), max_length=20, choices=CloseReason.choices, blank=True)
    previous = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("上一案件"))
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("催收员"))
    # Snapshot of the last daily run (as_of): what lists sort and filter on.
    as_of = models.DateField(_("数据日期"))
    principal = MoneyField(_("欠费本金"))
    late_fee = MoneyField(_("违约金"))
    oldest_due = models.DateField(_("最早到期日"))
    days_overdue = models.PositiveIntegerField(_("逾期天数"))
    months_overdue = models.PositiveSmallIntegerField(_("欠费月数"))
    bucket = models.CharField(_("账龄"), max_length=10, choices=Bucket.choices)
    tier = models.CharField(_("分类"), max_length=1, choices=Tier.choices)
    situations = models.CharField(_("情形"), max_length=40, blank=True, help_text=_("逗号分隔的情形编号 1–8"))
    techniques = models.CharField(_("建议招式"), max_length=40, blank=True, help_text=_("按推荐顺序，逗号分隔 1–9"))
    suggested_persona = models.CharField(_("建议业主类型"), max_length=20, choices=Persona.choices, blank=True)
    limitation_deadline = models.DateField(_("最早诉讼时效届满日"), null=True, blank=True)
    quiet_until = models.DateField(_("静默至"), null=True, blank=True, help_text=_("含当日，期间不联系业主"))
    front_desk_flag = models.BooleanField(_("前台提醒"), default=False)
    # A legal matter is open: the ladder's contact steps wait; the court, not the collector, speaks now.
    legal_hold = models.BooleanField(_("法务处理中"), default=False, db_default=False)
    last_step = models.ForeignKey(LadderStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("最近步骤"))
    last_step_on = models.DateField(_("最近步骤日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("催收案件")
        verbose_name_plural = _("催收案件")
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "owner"], condition=Q(status="open"), name="case_one_open_per_owner_unit"),
            models.CheckConstraint(
                condition=Q(status="open", closed_on__isnull=True) | Q(status="closed", closed_on__isnull=False),
                name="case_closed_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "tier"], name="case_open_tier", condition=Q(status="open")),
            models.Index(fields=["collector"], name="case_open_collector", condition=Q(status="open")),
            # The arrears list's default order (largest principal first) reads a page off this index.
            models.Index(fields=["principal", "id"], name="case_open_principal", condition=Q(status="open")),
        ]

    def __str__(self):
        return f"{self.unit} · {self.owner} · {self.opened_on}"

    @property
    def situation_list(self) -> list[int]:
        return [int(item) for item in self.situations.split(",") if item]

    @property
    def technique_list(self) -> list[int]:
        return [int(item) for item in self.techniques.split(",") if item]


class CaseStep(models.Model):
    """A ladder step fired for a case: the run fires each step at most once per case."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps", verbose_name=_("案件"))
    step = models.ForeignKey(LadderStep, on_delete=models.PROTECT, related_name="+", verbose_name=_("步骤"))
    fired_on = models.DateField(_("触发日期"))

    class Meta:
        verbose_name = _("已执行步骤")
        verbose_name_plural = _("已执行步骤")
        ordering = ["fired_on", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "step"], name="case_step_once")]

    def __str__(self):
        return f"{self.fired_on} {self.step}"


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("接通")
    NO_ANSWER = "no_answer", _("未接")
    REJECTED = "rejected", _("拒接")
    DEAD_NUMBER = "dead_number", _("空号")
    PROMISED = "promised", _("承诺")
    PAID = "paid", _("已缴")
    REFUSED = "refused", _("拒缴")
    COMPLAINT = "complaint", _("投诉")
    DELIVERED = "delivered", _("已送达")
    # A contact with someone who may not hear of the debt ends in one of these (with NO_ANSWER).
    CALLBACK_REQUESTED = "callback_requested", _("已请转告回电")
    WRONG_NUMBER = "wrong_number", _("号码有误")
    DECLINED_TO_PASS_ON = "declined_to_pass_on", _("不愿转告")
    # Historic only: before issue 12 a logged contact the guard disliked was stored as "blocked"
    # and its outcome lost. A logged contact is now recorded as made, with the broken rule.
    BLOCKED = "blocked", _("已拦截")
    # ⑦ 全民总动员: the front desk, gate or parking reminded the owner in person (`ContactAttempt.place`).
    REMINDED = "reminded", _("已当面提醒")


class ReminderPlace(models.TextChoices):
    """Where the owner was reminded in person (⑦): the places a front desk, gate or car park staffs."""

    GATE = "gate", _("门岗")
    PARKING = "parking", _("车场")
    DESK = "desk", _("前台")


# Outcomes that mean the owner was not reached: a streak of them is the 'unreachable' signal.
FAILED_OUTCOMES = frozenset({Outcome.NO_ANSWER, Outcome.REJECTED, Outcome.DEAD_NUMBER, Outcome.WRONG_NUMBER})
# The only outcomes of a contact with a person not authorised to hear of the debt (个人信息保护法,
# DESIGN.md §3): such a person can promise, refuse or dispute nothing for the owner.
THIRD_PARTY_OUTCOMES = frozenset({
    Outcome.CALLBACK_REQUESTED, Outcome.WRONG_NUMBER, Outcome.NO_ANSWER, Outcome.DECLINED_TO_PASS_ON,
})


class ExcuseReason(models.TextChoices):
    BUSY = "busy", _("忙，没时间")
    AWAY = "away", _("人在外地")
    ECONOMIC = "economic", _("经济困难")
    SERVICE = "service", _("对服务不满")
    DISPUTE = "dispute", _("对费用有异议")
    VACANT = "vacant", _("房屋空置未住")
    OTHER = "other", _("其他")


class TaskKind(models.TextChoices):
    LADDER = "ladder", _("阶梯步骤")
    PROMISE_FOLLOW_UP = "promise_follow_up", _("承诺到期跟进")
    PLAN_FOLLOW_UP = "plan_follow_up", _("分期违约跟进")
    LIMITATION_WARNING = "limitation_warning", _("诉讼时效预警")
    SATISFACTION = "satisfaction", _("缴费后回访")
    COMPLAINT_FOLLOW_UP = "complaint_follow_up", _("不满意跟进")
    LEGAL = "legal", _("法务节点")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("待办")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class Task(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("案件"))
    key = models.CharField(_("唯一键"), max_length=80, help_text=_("同一案件同一事项只生成一次"))
    kind = models.CharField(_("类型"), max_length=30, choices=TaskKind.choices)
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    step = models.ForeignKey(LadderStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("步骤"))
    technique = models.PositiveSmallIntegerField(_("招式"), null=True, blank=True)
    script_code = models.CharField(_("话术代码"), max_length=60, blank=True)
    title = models.CharField(_("事项"), max_length=200)
    due_on = models.DateField(_("应办日期"))
    priority = models.PositiveIntegerField(_("优先级"), default=0)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("负责人"))
    status = models.CharField(_("状态"), max_length=20, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    created_on = models.DateField(_("生成日期"))

    class Meta:
        verbose_name = _("催收任务")
        verbose_name_plural = _("催收任务")
        ordering = ["due_on", "-priority", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "key"], name="task_unique_key")]
        indexes = [models.Index(fields=["assignee", "due_on"], name="task_open_assignee", condition=Q(status="open"))]

    def __str__(self):
        return f"{self.due_on} {self.title}"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENDING = "sending", _("发送中")
    BLOCKED = "blocked", _("已拦截")
    SENT = "sent", _("已发送")
    DELIVERED = "delivered", _("已送达")
    UNDELIVERED = "undelivered", _("未送达")
    FAILED = "failed", _("发送失败")
    CANCELLED = "cancelled", _("已取消")


# A message in these states reached, or may have reached, the provider: it counts against the caps.
COUNTED_MESSAGE_STATUSES = frozenset({
    MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.UNDELIVERED,
})


class OutgoingMessage(models.Model):
    """The outbox: one row per message, keyed (case, step, date); the notices app sends it.

    States: queued → sending (claimed under a lease) → sent → delivered / undelivered, or back to
    queued with a later `next_try_at` after a provider error, or failed after the last try;
    blocked when the guard refuses at send time; cancelled when the case closed first. The text
    is rendered once, before the first hand-over to the provider, and never changes after.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, blank=True, related_name="messages", verbose_name=_("案件"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="+", verbose_name=_("业主"))
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("联系方式"))
    key = models.CharField(_("唯一键"), max_length=100, unique=True)
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    step = models.ForeignKey(LadderStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("步骤"))
    template_code = models.CharField(_("模板代码"), max_length=60)
    scheduled_on = models.DateField(_("计划日期"))
    not_before = models.DateTimeField(_("最早发送时间"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    blocked_rule = models.CharField(_("拦截规则"), max_length=40, blank=True)
    blocked_reason = models.CharField(_("拦截原因"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    # Dispatch (the notices app): the claim, the frozen text, the provider's answer, the receipt.
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    next_try_at = models.DateTimeField(_("下次重试时间"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    claim_token = models.CharField(_("领取标记"), max_length=32, blank=True)
    handed_at = models.DateTimeField(_("交给服务商时间"), null=True, blank=True,
                                     help_text=_("最近一次交给短信服务商的时间；中断后据此向服务商核实，避免重发"))
    recipient = models.CharField(_("收件人"), max_length=200, blank=True)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("内容"), blank=True)
    body_sha256 = models.CharField(_("内容 SHA-256"), max_length=64, blank=True)
    params = models.JSONField(_("模板变量"), default=dict, blank=True, help_text=_("短信服务商模板的变量值，随内容一起冻结"))
    provider = models.CharField(_("服务商"), max_length=20, blank=True)
    provider_message_id = models.CharField(_("服务商消息编号"), max_length=100, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    receipt_code = models.CharField(_("回执代码"), max_length=60, blank=True)
    receipt_description = models.CharField(_("回执说明"), max_length=200, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["collection_outgoingmessage"]  # who, what, when; the text once frozen
    delete = refuse_delete

    class Meta:
        verbose_name = _("待发消息")
        verbose_name_plural = _("待发消息")
        ordering = ["scheduled_on", "id"]
        indexes = [
            models.Index(fields=["owner", "channel", "scheduled_on"], name="message_owner_channel"),
            models.Index(fields=["status", "next_try_at"], name="message_dispatch",
                         condition=Q(status__in=["queued", "sending"])),
            models.Index(fields=["provider", "provider_message_id"], name="message_provider_id"),
        ]

    def __str__(self):
        return f"{self.scheduled_on} {self.get_channel_display()} {self.template_code}"


class ContactAttemptQuerySet(EvidenceQuerySet):
    """Which versions of the evidence log count: a correction supersedes what it corrects.

    A correction points at the original attempt (`corrects`); the latest correction of an
    original is its current version. Rows written before corrections pointed at the original
    may chain (a correction of a correction): a row with a correction of its own is superseded
    too, so both shapes give one current version per contact.
    """

    def _later(self):
        corrected = self.model.objects.filter(corrects_id=OuterRef("pk"))
        newer_sibling = self.model.objects.filter(corrects_id=OuterRef("corrects_id"), pk__gt=OuterRef("pk"))
        return Exists(corrected) | (Q(corrects__isnull=False) & Exists(newer_sibling))

    def current(self):
        """One row per contact: the original if never corrected, else its latest correction."""
        return self.exclude(self._later())

    def superseded(self):
        """Originals that were corrected and corrections that a later one replaced."""
        return self.filter(self._later())

    def with_versions(self):
        """Annotate `is_superseded` and `latest_correction_id` (the newest correction of the original)."""
        original = Coalesce(OuterRef("corrects_id"), OuterRef("pk"))
        latest = self.model.objects.filter(corrects_id=original).order_by("-pk").values("pk")[:1]
        return self.annotate(
            is_superseded=ExpressionWrapper(self._later(), output_field=models.BooleanField()),
            latest_correction_id=Subquery(latest),
        )


class ContactAttempt(models.Model):
    """催收记录: the evidence log. Never edited: a correction is a new row pointing at the original.

    `at` is when the contact happened, `created_at` when it was logged. A logged contact that
    broke a contact rule at `at` is kept as made, with the outcome entered, and carries the
    rule and the reason in `violation_rule` / `violation_reason` (the compliance page lists it).
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="attempts", verbose_name=_("案件"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="+", verbose_name=_("业主"))
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("联系方式"))
    relation = models.CharField(_("与业主关系"), max_length=20, blank=True)
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    at = models.DateTimeField(_("时间"))
    outcome = models.CharField(_("结果"), max_length=20, choices=Outcome.choices)
    reason = models.CharField(_("原因"), max_length=20, choices=ExcuseReason.choices, blank=True)
    notes = models.TextField(_("记录"), blank=True)
    script_code = models.CharField(_("话术代码"), max_length=60, blank=True)
    blocked_rule = models.CharField(_("拦截规则"), max_length=40, blank=True)
    blocked_reason = models.CharField(_("拦截原因"), max_length=300, blank=True)
    violation_rule = models.CharField(_("违反规则"), max_length=40, blank=True,
                                      help_text=_("联系时间违反的合规规则；联系照常记录"))
    violation_reason = models.CharField(_("违规说明"), max_length=300, blank=True)
    third_party = models.BooleanField(_("第三方"), default=False,
                                      help_text=_("联系对象非业主本人且未获授权：只能记录中性结果"))
    task = models.ForeignKey(Task, on_delete=models.PROTECT, null=True, blank=True, related_name="attempts", verbose_name=_("任务"))
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections", verbose_name=_("更正"))
    correction_reason = models.CharField(_("更正原因"), max_length=300, blank=True)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("经办人"))
    place = models.CharField(_("提醒地点"), max_length=20, choices=ReminderPlace.choices, blank=True, default="",
                             help_text=_("当面提醒的地点（前台、门岗、车场）"))
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    objects = ContactAttemptQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["collection_contactattempt"]  # a correction is a new row that `corrects` it
    delete = refuse_delete

    class Meta:
        verbose_name = _("催收记录")
        verbose_name_plural = _("催收记录")
        ordering = ["-at", "-id"]
        permissions = [("view_compliance", _("可查看合规报告")), ("record_reminder", _("可登记当面提醒"))]
        constraints = [
            models.CheckConstraint(condition=~Q(outcome="blocked") | ~Q(blocked_rule=""), name="attempt_blocked_has_rule"),
            models.CheckConstraint(condition=Q(violation_rule="") | ~Q(violation_reason=""), name="attempt_violation_has_reason"),
            models.CheckConstraint(condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                                   name="attempt_correction_has_reason"),
        ]
        indexes = [
            models.Index(fields=["owner", "channel", "at"], name="attempt_owner_channel"),
            models.Index(fields=["case", "at"], name="attempt_case"),
            models.Index(fields=["community", "at"], name="attempt_violation", condition=~Q(violation_rule="")),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_channel_display()} {self.get_outcome_display()}"

    @property
    def staff_name(self) -> str:
        """Who logged it; "" for rows with no staff member (imported, demo or system rows)."""
        return roles.staff_label(self.staff, nobody="") if self.staff_id else ""


class SatisfactionRating(models.Model):
    """满意/一般/不满意 said on the follow-up call after payment (seed 002, 策略三).

    Evidence, written once with its contact attempt: 不满意 opens a complaint ticket and a
    follow-up task in the same transaction, and the row points at both.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="ratings", verbose_name=_("案件"))
    attempt = models.OneToOneField(ContactAttempt, on_delete=models.PROTECT, related_name="rating", verbose_name=_("催收记录"))
    rating = models.CharField(_("满意度"), max_length=20, choices=Satisfaction.choices)
    ticket = models.ForeignKey(ServiceTicket, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("投诉工单"))
    follow_up = models.ForeignKey(Task, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("跟进任务"))
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("经办人"))
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["collection_satisfactionrating"]
    delete = refuse_delete

    class Meta:
        verbose_name = _("回访满意度")
        verbose_name_plural = _("回访满意度")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_rating_display()}"


class AttachmentKind(models.TextChoices):
    RECORDING = "recording", _("录音")
    PHOTO = "photo", _("照片")
    RECEIPT = "receipt", _("签收回执")
    OTHER = "other", _("其他")


class AttemptAttachment(models.Model):
    """A recording, photo or scan of a contact attempt, with the SHA-256 of the file as uploaded."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    attempt = models.ForeignKey(ContactAttempt, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("催收记录"))
    kind = models.CharField(_("类型"), max_length=20, choices=AttachmentKind.choices)
    file = models.FileField(_("文件"), upload_to="evidence/%Y/%m/")
    sha256 = models.CharField(_("文件 SHA-256"), max_length=64, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["collection_attemptattachment"]
    delete = refuse_delete

    class Meta:
        verbose_name = _("证据附件")
        verbose_name_plural = _("证据附件")

    def __str__(self):
        return f"{self.get_kind_display()} {self.file.name}"


class PromiseStatus(models.TextChoices):
    OPEN = "open", _("待兑现")
    KEPT = "kept", _("已兑现")
    BROKEN = "broken", _("已违约")
    CANCELLED = "cancelled", _("已取消")


class Promise(models.Model):
    """断其后路: a firm date and amount; the run follows it up on the day and marks it kept or broken."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="promises", verbose_name=_("案件"))
    attempt = models.ForeignKey(ContactAttempt, on_delete=models.PROTECT, null=True, blank=True, related_name="promises", verbose_name=_("催收记录"))
    amount = MoneyField(_("承诺金额"))
    due_on = models.DateField(_("承诺日期"))
    made_on = models.DateField(_("承诺于"))
    status = models.CharField(_("状态"), max_length=20, choices=PromiseStatus.choices, default=PromiseStatus.OPEN)
    resolved_on = models.DateField(_("结果日期"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("记录人"))

    class Meta:
        verbose_name = _("缴费承诺")
        verbose_name_plural = _("缴费承诺")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_positive"),
            models.CheckConstraint(condition=Q(due_on__gte=F("made_on")), name="promise_due_after_made"),
        ]
        indexes = [models.Index(fields=["due_on"], name="promise_open_due", condition=Q(status="open"))]

    def __str__(self):
        return f"{self.due_on} ¥{self.amount} {self.get_status_display()}"


class PlanStatus(models.TextChoices):
    PROPOSED = "proposed", _("待业主确认")
    ACCEPTED = "accepted", _("执行中")
    BREACHED = "breached", _("已违约")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class InstalmentPlan(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="plans", verbose_name=_("案件"))
    total = MoneyField(_("分期总额"))
    status = models.CharField(_("状态"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.PROPOSED)
    proposed_on = models.DateField(_("提出日期"))
    accepted_on = models.DateField(_("业主确认日期"), null=True, blank=True)
    resolved_on = models.DateField(_("结束日期"), null=True, blank=True)
    breach_days = models.PositiveSmallIntegerField(_("逾期几天视为违约"), default=15)
    waive_late_fee_on_completion = models.BooleanField(_("完成后减免违约金"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("经办人"))

    class Meta:
        verbose_name = _("分期计划")
        verbose_name_plural = _("分期计划")
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0), name="plan_total_positive"),
            models.CheckConstraint(condition=~Q(status="accepted") | Q(accepted_on__isnull=False), name="plan_accepted_has_date"),
        ]

    def __str__(self):
        return f"{self.case} ¥{self.total} {self.get_status_display()}"


class Instalment(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    plan = models.ForeignKey(InstalmentPlan, on_delete=models.CASCADE, related_name="instalments", verbose_name=_("分期计划"))
    number = models.PositiveSmallIntegerField(_("期数"))
    due_on = models.DateField(_("应缴日期"))
    amount = MoneyField(_("金额"))

    class Meta:
        verbose_name = _("分期明细")
        verbose_name_plural = _("分期明细")
        ordering = ["plan_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="instalment_unique_number"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.number}: {self.due_on} ¥{self.amount}"


class ChargeDispute(models.Model):
    """An owner disputes a charge: collection of that charge pauses until the dispute is closed."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="+", verbose_name=_("应收"))
    reason = models.CharField(_("异议内容"), max_length=300)
    opened_on = models.DateField(_("提出日期"))
    closed_on = models.DateField(_("处理完毕日期"), null=True, blank=True)
    resolution = models.CharField(_("处理结果"), max_length=300, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("登记人"))
    # The service ticket the owner's complaint opened with it: resolving the ticket closes the dispute.
    ticket = models.ForeignKey("estate.ServiceTicket", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="disputes", verbose_name=_("工单"))

    class Meta:
        verbose_name = _("费用异议")
        verbose_name_plural = _("费用异议")
        indexes = [models.Index(fields=["charge"], name="dispute_open", condition=Q(closed_on__isnull=True))]

    def __str__(self):
        return f"{self.charge} · {self.reason[:20]}"


class LimitationEventKind(models.TextChoices):
    WRITTEN_DEMAND = "written_demand", _("书面催告送达")
    PROMISE = "promise", _("业主承诺缴费")
    PLAN = "plan", _("业主确认分期")
    ACKNOWLEDGEMENT = "acknowledgement", _("业主书面确认欠款")
    SUIT = "suit", _("起诉")


class LimitationEvent(models.Model):
    """An event that restarts the 3-year limitation (民法典第195条) of an owner's debts on a unit.

    It moves a deadline only once proven: a `LimitationProof` row points at it (see
    `collection/limitation.py`). Part payments restart it too; they are read from the ledger's
    allocations, which are their own proof, not copied here. Append-only: proof is a new row.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="+", verbose_name=_("业主"))
    kind = models.CharField(_("类型"), max_length=20, choices=LimitationEventKind.choices)
    occurred_on = models.DateField(_("日期"))
    attempt = models.ForeignKey(ContactAttempt, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("证据"))
    plan = models.ForeignKey("InstalmentPlan", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("分期计划"))
    note = models.CharField(_("说明"), max_length=300, blank=True)

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["collection_limitationevent"]
    delete = refuse_delete

    class Meta:
        verbose_name = _("时效中断事件")
        verbose_name_plural = _("时效中断事件")
        indexes = [models.Index(fields=["unit", "owner", "occurred_on"], name="limitation_event_lookup")]

    def __str__(self):
        return f"{self.occurred_on} {self.get_kind_display()}"


class ProofKind(models.TextChoices):
    LETTER_DELIVERY = "letter_delivery", _("函件送达凭证")
    RECORDING = "recording", _("通话录音")
    SIGNED_PLAN = "signed_plan", _("业主签字的分期协议")
    PORTAL = "portal", _("业主线上操作")
    WRITTEN_ACKNOWLEDGEMENT = "written_acknowledgement", _("业主书面确认")
    COURT_RECEIPT = "court_receipt", _("法院受理凭证")


class LimitationProof(models.Model):
    """The proof that makes a limitation event count: a file (with its SHA-256), an attempt's
    attachment, or a pointer (letter number and tracking number, the owner's portal request).

    Append-only: an event is proven from the day its first proof row was added.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    event = models.ForeignKey(LimitationEvent, on_delete=models.PROTECT, related_name="proofs", verbose_name=_("时效中断事件"))
    kind = models.CharField(_("证据类型"), max_length=30, choices=ProofKind.choices)
    file = models.FileField(_("文件"), upload_to="limitation/%Y/%m/", blank=True)
    sha256 = models.CharField(_("文件 SHA-256"), max_length=64, blank=True)
    attachment = models.ForeignKey(AttemptAttachment, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("证据附件"))
    reference = models.CharField(_("凭证编号"), max_length=200, blank=True, help_text=_("函件编号与邮件单号、业主线上申请编号、法院案号等"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("登记人"))
    added_at = models.DateTimeField(_("登记时间"))

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["collection_limitationproof"]
    delete = refuse_delete

    class Meta:
        verbose_name = _("时效中断证据")
        verbose_name_plural = _("时效中断证据")
        ordering = ["added_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(sha256="") | Q(attachment__isnull=False) | ~Q(reference=""), name="limitation_proof_has_proof",
            ),
        ]
        indexes = [models.Index(fields=["event", "added_at"], name="limitation_proof_event")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.reference or self.sha256[:12]}"


class Script(models.Model):
    """话术: words for a technique and step, with {placeholders}. Neutral scripts may go to third parties."""

    code = models.SlugField(_("代码"), max_length=60, unique=True)
    title = models.CharField(_("标题"), max_length=100)
    technique = models.PositiveSmallIntegerField(_("招式"), null=True, blank=True)
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices, blank=True)
    neutral = models.BooleanField(_("中性（可对第三方使用）"), default=False, help_text=_("中性话术不得含金额或欠费字样"))
    body = models.TextField(_("内容"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("话术")
        verbose_name_plural = _("话术")
        ordering = ["technique", "code"]

    def __str__(self):
        return self.title


class CollectionRun(models.Model):
    """One daily run per date: a rerun for the same date changes nothing."""

    as_of = models.DateField(_("运行日期"), unique=True)
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    summary = models.JSONField(_("结果"), default=dict)
    # What the run read, per community (collection/marks.py): a rerun skips communities that did not move.
    marks = models.JSONField(_("数据标记"), default=dict, blank=True)

    class Meta:
        verbose_name = _("每日催收运行")
        verbose_name_plural = _("每日催收运行")
        ordering = ["-as_of"]

    def __str__(self):
        return str(self.as_of)


class CollectionRunStart(models.Model):
    """One start of a date's run (beat, an operator, a rerun): its plan, read once, and when it finished.

    The parts (`CollectionRunPart`) run the communities, on any worker; the start's last step merges
    them into the `CollectionRun`. Two starts of a date may overlap: each finishes on its own.
    """

    run = models.ForeignKey(CollectionRun, on_delete=models.CASCADE, related_name="starts", verbose_name=_("运行"))
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # The communities asked for (null: all) and what was read once before any part: marks, digests.
    scope = models.JSONField(_("范围"), null=True, blank=True)
    plan = models.JSONField(_("计划"), default=dict, blank=True)

    class Meta:
        verbose_name = _("催收运行批次")
        verbose_name_plural = _("催收运行批次")
        ordering = ["-started_at", "-pk"]

    def __str__(self):
        return f"{self.run.as_of} #{self.pk}"


class PartStatus(models.TextChoices):
    PENDING = "pending", _("待运行")
    RUNNING = "running", _("运行中")
    DONE = "done", _("完成")
    FAILED = "failed", _("失败")


class CollectionRunPart(models.Model):
    """A slice of communities of one start, run on one worker in one transaction; what operators read."""

    start = models.ForeignKey(CollectionRunStart, on_delete=models.CASCADE, related_name="parts", verbose_name=_("批次"))
    index = models.PositiveIntegerField(_("序号"))
    communities = models.JSONField(_("小区"), null=True, blank=True)  # null: every community
    before = models.JSONField(_("运行前标记"), default=dict, blank=True)  # digests read before the run (marks.py)
    status = models.CharField(_("状态"), max_length=10, choices=PartStatus.choices, default=PartStatus.PENDING)
    worker = models.CharField(_("执行节点"), max_length=200, blank=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    summary = models.JSONField(_("结果"), default=dict, blank=True)
    digests = models.JSONField(_("运行后标记"), default=dict, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("催收运行分片")
        verbose_name_plural = _("催收运行分片")
        ordering = ["start", "index"]
        constraints = [models.UniqueConstraint(fields=["start", "index"], name="collection_run_part_once")]

    def __str__(self):
        return f"{self.start} / {self.index}"


class HolidayArrangement(models.Model):
    """One year's official holiday arrangement (国务院办公厅关于某年部分节假日安排的通知), as staff entered it.

    Until it is confirmed the guard keeps the year's fail-closed presumption (holidays.py); once
    confirmed its days off and 调休 working days decide, the statutory days always being off.
    """

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    notice_date = models.DateField(_("通知日期"), null=True, blank=True, help_text=_("国务院办公厅通知的发布日期"))
    notice_reference = models.CharField(_("通知文号"), max_length=100, blank=True, help_text=_("如：国办发明电〔2025〕7号"))
    days_off = models.TextField(
        _("放假日期"), help_text=_("每行一个日期或日期段，如 2027-02-05 至 2027-02-11；须包含当年全部法定节假日。"),
    )
    working_days = models.TextField(_("调休上班日"), blank=True, help_text=_("每行一个日期；须为周六或周日。"))
    confirmed = models.BooleanField(_("已确认"), default=False, help_text=_("核对通知原文后勾选：确认后才生效。"))
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("录入人"))
    entered_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("确认人"))
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("放假安排")
        verbose_name_plural = _("放假安排")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=Q(confirmed=False) | Q(notice_date__isnull=False),
                                   name="holiday_arrangement_confirmed_has_notice"),
        ]

    def __str__(self):
        return f"{self.year} · {_('放假安排')}"


class ArrearsSummary(models.Model):
    """One building's figures behind the arrears list's rates, as of the daily run's date.

    Written at the end of each daily run (summary.refresh_arrears_summary) so the list reads a
    row per building instead of walking the ledger's history on every view; a test proves the
    rows add up to the live read (selectors.live_arrears_rates). The marks say what the run had
    seen: ledger rows after them are what may have cleared a case since (selectors.open_cases).
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("小区"))
    building = models.OneToOneField(Building, on_delete=models.CASCADE, related_name="+", verbose_name=_("楼栋"))
    as_of = models.DateField(_("数据日期"))
    computed_at = models.DateTimeField(_("统计时间"))
    overdue_principal = MoneyField(_("逾期本金"), max_digits=20)
    earlier_overdue = MoneyField(_("往年逾期本金"), max_digits=20)
    this_year_due = MoneyField(_("今年到期应收"), max_digits=20)
    month_due = MoneyField(_("本月应收"), max_digits=20)
    month_paid = MoneyField(_("本月已缴"), max_digits=20)
    units_owing = models.PositiveIntegerField(_("欠费户数"))
    units_owned = models.PositiveIntegerField(_("有业主户数"))
    allocation_mark = models.BigIntegerField(_("冲抵水位"), default=0)
    waiver_mark = models.BigIntegerField(_("减免水位"), default=0)
    fingerprint = models.CharField(_("数据指纹"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("欠费统计")
        verbose_name_plural = _("欠费统计")

    def __str__(self):
        return f"{self.building} · {self.as_of}"


class RiskScore(models.Model):
    """The early-warning score of one open owner-unit: the chance its next charge is unpaid 30 days after due.

    Written by `collection.risk.record_risk_scores` (the insights app computes it; collection reads
    it in the pre-due reminders without importing insights, DESIGN.md §4). `model_id` is the insights
    model that scored it, as a plain number; `scored_on` is the date this value was first written.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("小区"))
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="+", verbose_name=_("业主"))
    score = models.DecimalField(_("风险评分"), max_digits=5, decimal_places=4)
    factors = models.JSONField(_("主要因素"), default=list, blank=True)
    model_id = models.PositiveIntegerField(_("模型编号"))
    scored_on = models.DateField(_("评分日期"))

    class Meta:
        verbose_name = _("逾期风险评分")
        verbose_name_plural = _("逾期风险评分")
        constraints = [
            models.UniqueConstraint(fields=["unit", "owner"], name="risk_score_one_per_owner_unit"),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=1), name="risk_score_range"),
        ]
        indexes = [models.Index(fields=["community"], name="risk_score_community")]

    def __str__(self):
        return f"{self.unit_id}/{self.owner_id} {self.score}"
