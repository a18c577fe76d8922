from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    """The figures a company is judged by: read over every app; no app reads it (DESIGN.md §4)."""

    name = "arrears.insights"
    label = "insights"
    verbose_name = _("经营分析")

    def ready(self):
        from arrears.collection.signals import run_finished

        from .tasks import after_run

        # After each daily run: the dashboard's snapshots, and the owner-units rescored (both in the worker).
        run_finished.connect(after_run, dispatch_uid="insights.after_run")
