from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryCountsConfig(AppConfig):
    name = "apps.inventory_counts"
    label = "inventory_counts"
    verbose_name = _("Inventory counts")

    def ready(self) -> None:
        from . import events

        events.register()
