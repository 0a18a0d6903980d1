from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    name = "apps.backups"
    label = "backups"
    verbose_name = _("Backups and restore")

    def ready(self) -> None:
        from . import events

        events.register()
        from . import full_backup

        full_backup.register_events()
        from .journal import health

        health.register_events()
        from datetime import timedelta

        from apps.core.schedules import register_schedule

        register_schedule(
            "backups.due",
            task="apps.backups.services.start_due_backups",
            every=timedelta(minutes=1),
            label=_("Backups due by policy"),
        )
        register_schedule(
            "backups.retention",
            task="apps.backups.retention.start_pruning",
            every=timedelta(hours=1),
            label=_("Delete old backup files (retention)"),
        )
        register_schedule(
            "backups.journal_health",
            task="apps.backups.journal.health.check_journal_health",
            every=timedelta(minutes=1),
            label=_("Change journal: slot lag, alarm, remote copies"),
        )
        from apps.core.dashboard import Widget, register_widget

        def context(user):
            from .models import BackupScope

            return {"scopes": list(BackupScope.objects.all())}

        register_widget(
            Widget("backups/_dashboard_card.html", "backups.view_backuprun", context, order=10)
        )
