"""The portfolio: companies, communities (小区), buildings, units, owners and how to reach them."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arrears.core.fields import KeyField, SortKeyField


class AllocationRule(models.TextChoices):
    PRINCIPAL_FIRST = "principal-first", _("先本金后违约金")
    CIVIL_CODE = "civil-code", _("民法典第560/561条（逐笔先违约金后本金）")


class Company(models.Model):
    name = KeyField(_("公司名称"), max_length=200, unique=True)
    phone = models.CharField(_("客服电话"), max_length=50, blank=True)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    allocation_rule = models.CharField(
        _("缴费冲抵规则"),
        max_length=20,
        choices=AllocationRule.choices,
        default=AllocationRule.PRINCIPAL_FIRST,
        help_text=_("合同未约定时，按民法典第560/561条：先违约金后本金、先到期先冲抵。"),
    )

    class Meta:
        verbose_name = _("物业公司")
        verbose_name_plural = _("物业公司")

    def __str__(self):
        return self.name


class Community(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="communities", verbose_name=_("物业公司"))
    name = KeyField(_("小区名称"), max_length=200)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    # Where and when owners pay in person: shown on the owner's statement page, above all when no
    # online payment is configured.
    service_centre = models.CharField(_("服务中心地点"), max_length=200, blank=True,
                                      help_text=_("业主到场缴费的地点，例如“5栋架空层物业服务中心”。"))
    service_hours = models.CharField(_("服务中心办公时间"), max_length=100, blank=True,
                                     help_text=_("例如“每天 8:30–18:00”。"))
    contract_number = models.CharField(_("物业服务合同编号"), max_length=100, blank=True)
    contract_start = models.DateField(_("合同起始日"), null=True, blank=True)
    contract_end = models.DateField(_("合同终止日"), null=True, blank=True)
    contract_terms = models.TextField(_("合同收费及违约金条款"), blank=True)

    class Meta:
        verbose_name = _("小区")
        verbose_name_plural = _("小区")
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="community_unique_name")]

    def __str__(self):
        return self.name


class Building(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("小区"))
    name = KeyField(_("楼栋"), max_length=50)
    # 2栋 before 10栋: the name with its numbers padded, sorted by the database (indexed, any size)
    sort_key = SortKeyField(_("排序键"), sources=("name",))

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["community_id", "sort_key", "pk"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="building_unique_name")]
        indexes = [models.Index(fields=["community", "sort_key"], name="building_sort")]

    def __str__(self):
        return f"{self.community.name} {self.name}"


class UnitStatus(models.TextChoices):
    OCCUPIED = "occupied", _("自住")
    LET = "let", _("出租")
    VACANT = "vacant", _("空置")
    RENOVATING = "renovating", _("装修")


class Unit(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="units", verbose_name=_("小区"))
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="units", verbose_name=_("楼栋"))
    entrance = KeyField(_("单元"), max_length=20, blank=True, default="")
    room = KeyField(_("房号"), max_length=20)
    floor_area = models.DecimalField(_("建筑面积（㎡）"), max_digits=10, decimal_places=2)
    status = models.CharField(_("状态"), max_length=20, choices=UnitStatus.choices, default=UnitStatus.OCCUPIED)
    status_since = models.DateField(_("状态起始日"), null=True, blank=True)
    # 2单元 before 10单元, 902 before 1001: within a building, units sort by this (the building by its own)
    sort_key = SortKeyField(_("排序键"), sources=("entrance", "room"))

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["community_id", "building__sort_key", "sort_key", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["building", "entrance", "room"], name="unit_unique_address"),
            models.CheckConstraint(condition=Q(floor_area__gt=0), name="unit_floor_area_positive"),
        ]
        # The desk types a room alone ("2504"): found by index within the community, not by a scan.
        indexes = [models.Index(fields=["building", "sort_key"], name="unit_sort"),
                   models.Index(fields=["community", "room"], name="unit_community_room")]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """Address as staff say it: 3栋2单元1201 (单元 left out when blank)."""
        entrance = f"{self.entrance}单元" if self.entrance and not self.entrance.endswith("单元") else self.entrance
        return f"{self.building.name}{entrance}{self.room}"


class OwnerKind(models.TextChoices):
    PERSON = "person", _("个人")
    ORGANISATION = "organisation", _("单位")


def mask_id_number(value: str) -> str:
    """Keep the first 3 and last 4 characters (个人信息保护法: minimum disclosure)."""
    if not value:
        return ""
    if len(value) <= 7:
        return value[0] + "*" * (len(value) - 1)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "****" + value[-4:]


def mask_name(value: str) -> str:
    """张三丰 → 张**: the surname is enough for a front desk to greet the owner."""
    if not value:
        return ""
    return value[0] + "*" * max(1, len(value) - 1)


class Owner(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="owners", verbose_name=_("小区"))
    kind = models.CharField(_("类型"), max_length=20, choices=OwnerKind.choices, default=OwnerKind.PERSON)
    name = KeyField(_("姓名/名称"), max_length=200)
    id_number = KeyField(_("证件号"), max_length=40, blank=True)
    do_not_contact = models.BooleanField(_("禁止联系"), default=False)
    # Part of every statement link; raising it revokes all the owner's earlier links at once.
    link_generation = models.PositiveIntegerField(_("账单链接版本"), default=0, db_default=0, editable=False)

    class Meta:
        verbose_name = _("业主")
        verbose_name_plural = _("业主")

    def __str__(self):
        return self.name

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)


class Ownership(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="ownerships", verbose_name=_("房屋"))
    owner = models.ForeignKey(Owner, on_delete=models.PROTECT, related_name="ownerships", verbose_name=_("业主"))
    start = models.DateField(_("起始日期"))
    end = models.DateField(_("终止日期"), null=True, blank=True, help_text=_("含当日；空表示至今"))

    class Meta:
        verbose_name = _("产权关系")
        verbose_name_plural = _("产权关系")
        ordering = ["unit_id", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=models.F("start")), name="ownership_end_after_start"),
            models.UniqueConstraint(fields=["unit", "owner", "start"], name="ownership_unique_start"),
        ]

    def __str__(self):
        return f"{self.unit} · {self.owner} · {self.start}–{self.end or ''}"


class ContactKind(models.TextChoices):
    MOBILE = "mobile", _("手机")
    LANDLINE = "landline", _("座机")
    WECHAT = "wechat", _("微信")
    EMAIL = "email", _("邮箱")
    ADDRESS = "address", _("地址")


class ContactRelation(models.TextChoices):
    SELF = "self", _("本人")
    SPOUSE = "spouse", _("配偶")
    RELATIVE = "relative", _("亲属")
    FRIEND = "friend", _("朋友")
    EMPLOYER = "employer", _("工作单位")
    AGENT = "agent", _("中介")
    DEVELOPER_RECORD = "developer_record", _("开发商登记")
    TENANT = "tenant", _("租户")


class Contact(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("业主"))
    kind = models.CharField(_("方式"), max_length=20, choices=ContactKind.choices)
    value = KeyField(_("号码/地址"), max_length=300)
    relation = models.CharField(_("关系"), max_length=20, choices=ContactRelation.choices, default=ContactRelation.SELF)
    name = KeyField(_("联系人"), max_length=100, blank=True)
    disclosure_authorised = models.BooleanField(
        _("业主授权可告知欠费"),
        default=False,
        help_text=_("个人信息保护法：除业主本人外，只有业主书面授权的联系人可被告知欠费。"),
    )

    class Meta:
        verbose_name = _("联系方式")
        verbose_name_plural = _("联系方式")
        constraints = [models.UniqueConstraint(fields=["owner", "kind", "value"], name="contact_unique_value")]
        # Who may be told of the debt is the owner's written authorisation (个人信息保护法): recorded by
        # a manager or legal, not by the collector who would then be allowed to tell them.
        permissions = [("authorise_disclosure", _("可登记本人关系及业主授权告知欠费"))]

    def __str__(self):
        return f"{self.get_kind_display()} {self.masked_value}"

    @property
    def may_disclose_debt(self) -> bool:
        """Only the owner and contacts the owner authorised may hear of the debt."""
        return self.relation == ContactRelation.SELF or self.disclosure_authorised

    @property
    def masked_value(self) -> str:
        if self.kind in (ContactKind.MOBILE, ContactKind.LANDLINE):
            return mask_phone(self.value)
        return self.value


class Vehicle(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="vehicles", verbose_name=_("房屋"))
    plate = KeyField(_("车牌号"), max_length=20)

    class Meta:
        verbose_name = _("车辆")
        verbose_name_plural = _("车辆")
        constraints = [models.UniqueConstraint(fields=["community", "plate"], name="vehicle_unique_plate")]

    def __str__(self):
        return self.plate


class StaffScope(models.Model):
    """Which communities (or single buildings) a staff member may see: everything is scoped by it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scopes", verbose_name=_("员工"))
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("小区"))
    building = models.ForeignKey(
        Building, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("楼栋"),
        help_text=_("留空表示整个小区"),
    )

    class Meta:
        verbose_name = _("管辖范围")
        verbose_name_plural = _("管辖范围")
        constraints = [models.UniqueConstraint(fields=["user", "community", "building"], name="scope_unique")]

    def __str__(self):
        return f"{self.user} → {self.building or self.community}"


class TicketKind(models.TextChoices):
    REPAIR = "repair", _("报修")
    COMPLAINT = "complaint", _("投诉")
    RECTIFICATION = "rectification", _("整改")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    NEUTRAL = "neutral", _("一般")
    UNSATISFIED = "unsatisfied", _("不满意")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    IN_PROGRESS = "in_progress", _("处理中")
    RESOLVED = "resolved", _("已办结")


DEFAULT_TICKET_DUE_DAYS = {TicketKind.REPAIR: 3, TicketKind.COMPLAINT: 7, TicketKind.RECTIFICATION: 30}


def ticket_due_days(kind: str) -> int:
    """A kind's service level in days: settings.ARREARS_TICKET_DUE_DAYS, else the built-in default."""
    configured = getattr(settings, "ARREARS_TICKET_DUE_DAYS", {}) or {}
    return int(configured.get(kind, DEFAULT_TICKET_DUE_DAYS.get(kind, 7)))


class ServiceTicket(models.Model):
    """A repair, complaint or rectification of a unit: an open one is often why an owner won't pay.

    `closed_on` is what the collection run reads (open = no closed_on): resolving sets both it and
    `status`. Every field after `satisfaction` has a default, so `objects.create(community, unit,
    kind, summary, opened_on)` still makes a valid open ticket.
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="+", verbose_name=_("小区"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("房屋"))
    kind = models.CharField(_("类型"), max_length=20, choices=TicketKind.choices)
    summary = models.CharField(_("内容"), max_length=300)
    opened_on = models.DateField(_("受理日期"))
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)
    satisfaction = models.CharField(_("业主评价"), max_length=20, choices=Satisfaction.choices, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("处理人"))
    due_on = models.DateField(_("办理期限"), null=True, blank=True)
    resolution = models.TextField(_("处理结果"), blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("登记人"))

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-opened_on", "-id"]
        permissions = [("assign_serviceticket", _("可指派工单处理人"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")), name="ticket_closed_after_opened",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "kind"], name="ticket_unit_kind"),
            models.Index(fields=["community", "due_on"], name="ticket_open_due", condition=Q(closed_on__isnull=True)),
        ]

    def __str__(self):
        return f"{self.unit} {self.get_kind_display()} {self.summary[:20]}"

    def save(self, *args, **kwargs):
        # A ticket opened by other code (the portal's complaint, a 不满意 rating) is due by its kind too.
        if self._state.adding and self.due_on is None and self.opened_on and self.kind:
            self.due_on = self.opened_on + timedelta(days=ticket_due_days(self.kind))
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    def overdue_on(self, today) -> bool:
        return self.closed_on is None and self.due_on is not None and self.due_on < today
