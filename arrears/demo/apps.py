from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo company and its logins: the top floor of the house, nothing imports it."""

    name = "arrears.demo"
    label = "demo"
    verbose_name = _("演示")
