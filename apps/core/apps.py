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
