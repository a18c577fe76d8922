from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "arrears.notices"
    label = "notices"
    verbose_name = _("通知与函件")

    def ready(self):
        from arrears.collection.signals import run_finished

        from .tasks import after_run

        run_finished.connect(after_run, dispatch_uid="notices.dispatch_after_run")

        from django.core import checks

        from .outbox import check_lease

        checks.register(check_lease)
