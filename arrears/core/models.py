"""The audit trail: who exported or looked up personal data, and when (个人信息保护法)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from arrears.core.append_only import EVIDENCE_COLUMNS
from arrears.core.db import EvidenceQuerySet, refuse_delete


class AuditEvent(models.Model):
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("操作人"))
    action = models.CharField(_("操作"), max_length=60)
    community_id = models.BigIntegerField(_("小区"), null=True, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    objects = EvidenceQuerySet.as_manager()
    frozen_groups = EVIDENCE_COLUMNS["core_auditevent"]  # never changed, never deleted
    delete = refuse_delete

    class Meta:
        verbose_name = _("操作日志")
        verbose_name_plural = _("操作日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["action", "at"], name="audit_action_at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


def record(*, actor, action: str, community_id: int | None = None, **detail) -> AuditEvent:
    """Append an audit event; callers pass what was done and its filters, never the personal data itself."""
    return AuditEvent.objects.create(actor=actor if getattr(actor, "pk", None) else None, action=action,
                                     community_id=community_id, detail=detail)


class StaffProfile(models.Model):
    """How owners reach a staff member: scripts and letters name them and give this number, never a login name."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile",
                                verbose_name=_("用户"))
    title = models.CharField(_("职务"), max_length=30, blank=True, help_text=_("例如“管家”“客服主管”。"))
    office_phone = models.CharField(_("办公电话"), max_length=30, blank=True,
                                    help_text=_("留空则用物业公司的客服电话。"))
    extension = models.CharField(_("分机号"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("员工资料")
        verbose_name_plural = _("员工资料")

    def __str__(self):
        return str(self.user)
