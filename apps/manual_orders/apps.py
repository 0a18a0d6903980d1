from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ManualOrdersConfig(AppConfig):
    name = "apps.manual_orders"
    label = "manual_orders"
    verbose_name = _("Manual orders")

    def ready(self) -> None:
        from . import events

        events.register()
