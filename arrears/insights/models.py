"""What the insights app keeps: the early-warning risk models it trained, each with its report."""

import hashlib

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from arrears.estate.models import Company


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
