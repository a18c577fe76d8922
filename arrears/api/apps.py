from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The platform: what other systems and the operator talk to (health, the server). Stands on every app;
    only the demo stands on it (DESIGN.md §4)."""

    name = "arrears.api"
    label = "api"
    verbose_name = _("平台")
