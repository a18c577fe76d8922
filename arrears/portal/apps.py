from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "arrears.portal"
    label = "portal"
    verbose_name = _("业主端与收银")
