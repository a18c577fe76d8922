from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "arrears.core"
    label = "core"
    verbose_name = _("基础")

    def ready(self):
        # django.contrib.admin comes first in INSTALLED_APPS: every admin module is registered by now.
        from arrears.core import checks  # noqa: F401  (registers the deployment checks)
        from arrears.core.admin_scope import scope_site

        scope_site()
