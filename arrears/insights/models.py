"""What the insights app keeps: snapshots of the KPIs' sums, and the risk models it trained."""

import hashlib

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arrears.core.money import MoneyField
from arrears.estate.models import Building, Community, Company


class KpiSnapshot(models.Model):
    """One building's ledger sums (kpis.Figures) as of a month end or the last complete day.

    A cache of the ledger, not a record: `insights.snapshots` writes it after the daily run and
    reads it only where nothing in the ledger moved since (`SnapshotState`), so a chart of 24
    months reads 24 small rows per building instead of a year of charges per point.
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("小区"))
    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="+", verbose_name=_("楼栋"))
    as_of = models.DateField(_("数据日期"))
    computed_at = models.DateTimeField(_("统计时间"))
    period_due = MoneyField(_("本期应收"), max_digits=20)
    period_paid = MoneyField(_("本期已缴"), max_digits=20)
    year_due = MoneyField(_("12个月应收"), max_digits=20)
    year_outstanding = MoneyField(_("12个月未缴"), max_digits=20)
    recovery_base = MoneyField(_("到期未缴"), max_digits=20)
    recovered_7d = MoneyField(_("7天内回收"), max_digits=20)
    recovered_15d = MoneyField(_("15天内回收"), max_digits=20)
    recovered = MoneyField(_("本月回款"), max_digits=20)
    paid_for_days = MoneyField(_("90天内缴纳本金"), max_digits=20)
    paid_day_weight = MoneyField(_("缴费天数权重"), max_digits=24)
    households_billed = models.PositiveIntegerField(_("计费户数"))
    households_owing = models.PositiveIntegerField(_("欠费户数"))

    class Meta:
        verbose_name = _("指标快照")
        verbose_name_plural = _("指标快照")
        ordering = ["as_of", "building_id"]
        constraints = [models.UniqueConstraint(fields=["building", "as_of"], name="kpi_snapshot_unique")]
        indexes = [models.Index(fields=["community", "as_of"], name="kpi_snapshot_community")]

    def __str__(self):
        return f"{self.building_id} · {self.as_of}"


class SnapshotState(models.Model):
    """What the ledger held when a community's snapshots were last written.

    Rows past these marks (an allocation, a charge, a waiver that may have been approved since)
    say from which date the stored figures may be stale; those dates are read live instead.
    """

    community = models.OneToOneField(Community, on_delete=models.CASCADE, related_name="+", verbose_name=_("小区"))
    allocation_mark = models.BigIntegerField(_("冲抵水位"), default=0)
    charge_mark = models.BigIntegerField(_("应收水位"), default=0)
    waiver_mark = models.BigIntegerField(_("减免水位"), default=0)
    through = models.DateField(_("最新快照日期"))
    refreshed_at = models.DateTimeField(_("刷新时间"))

    class Meta:
        verbose_name = _("快照状态")
        verbose_name_plural = _("快照状态")

    def __str__(self):
        return f"{self.community_id} · {self.through}"


class RiskModel(models.Model):
    """One fit of the early-warning model on a company's own history, with its hold-out report.

    The fitted estimator is stored as bytes (joblib) beside its SHA-256, checked before it is
    loaded: bytes that do not match are refused, never unpickled. One model per company is active:
    the last one trained; scoring reads it.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+", verbose_name=_("物业公司"))
    trained_at = models.DateTimeField(_("训练时间"))
    trained_on = models.DateField(_("数据截至"))
    cut_off = models.DateField(_("训练/检验分界日"))
    algorithm = models.CharField(_("算法"), max_length=40)
    features = models.JSONField(_("特征"), default=list)
    report = models.JSONField(_("检验报告"), default=dict)
    fitted = models.BinaryField(_("模型"))
    sha256 = models.CharField(_("模型 SHA-256"), max_length=64)
    active = models.BooleanField(_("使用中"), default=True)

    class Meta:
        verbose_name = _("逾期风险模型")
        verbose_name_plural = _("逾期风险模型")
        ordering = ["-trained_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company"], condition=Q(active=True), name="risk_model_one_active"),
        ]

    def __str__(self):
        return f"{self.company} {self.algorithm} {self.trained_at:%Y-%m-%d}"

    @staticmethod
    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()
