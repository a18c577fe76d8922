from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    name = "arrears.staff"
    label = "staff"
    verbose_name = _("员工工作台")
