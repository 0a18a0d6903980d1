from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    name = "apps.backups"
    label = "backups"
    verbose_name = _("Backups and restore")

    def ready(self) -> None:
        from . import events

        events.register()
        from apps.core.dashboard import Widget, register_widget

        def context(user):
            from .models import BackupScope

            return {"scopes": list(BackupScope.objects.all())}

        register_widget(
            Widget("backups/_dashboard_card.html", "backups.view_backuprun", context, order=10)
        )
