from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EstateConfig(AppConfig):
    name = "arrears.estate"
    label = "estate"
    verbose_name = _("房产与业主")
