from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EstateConfig(AppConfig):
    name = "arrears.estate"
    label = "estate"
    verbose_name = _("房产与业主")

    def ready(self):
        # django.contrib.admin comes first in INSTALLED_APPS: every admin module is registered by now.
        # The scope is StaffScope's, so it lives here, not in core (core imports no app).
        from arrears.estate.admin_scope import scope_site

        scope_site()
