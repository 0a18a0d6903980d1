from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = _("Shared services")

    def ready(self) -> None:
        from .events import register_event_kind
        from .jobs import UNEXPECTED_ERROR

        register_event_kind(UNEXPECTED_ERROR, _("Job"), _("Unexpected error: %(error)s"))

        from datetime import timedelta

        from .schedules import register_schedule

        register_schedule(
            "core.outbox",
            task="apps.core.periodic.sweep_outbox",
            every=timedelta(minutes=1),
            label=_("Outbox: enqueue jobs and notifications waiting for the queue"),
        )
        register_schedule(
            "core.dead_jobs",
            task="apps.core.periodic.reconcile_dead_jobs",
            every=timedelta(minutes=1),
            label=_("Fail jobs whose worker died"),
        )
