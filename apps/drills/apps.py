from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrillsConfig(AppConfig):
    name = "apps.drills"
    label = "drills"
    verbose_name = _("Drills and training")

    def ready(self) -> None:
        from apps.core.schedules import register_schedule

        from . import events

        events.register()
        register_schedule(
            "drills.rehearse_restore",
            task="apps.drills.services.rehearse_if_due",
            every=timedelta(hours=1),  # asks hourly; rehearses every DRILLS_REHEARSAL_EVERY_HOURS
            label=_("Restore rehearsal"),
        )
        register_schedule(
            "drills.certificate_reminders",
            task="apps.drills.services.run_expiry_reminders",
            every=timedelta(hours=24),
            label=_("Certificate expiry reminders"),
        )
