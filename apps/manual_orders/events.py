"""Manual orders' event kinds: order history and timeline lines rendered in the reader's language."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.events import register_event_kind


class ChangedField(models.TextChoices):
    ADDRESS = "address", _("delivery address")
    CONTACT = "contact", _("contact details")
    LINES = "lines", _("quantities")


ALLOCATED = "order.allocated"
ALLOCATED_BY_HAND = "order.allocated_by_hand"
DISPATCHED = "order.dispatched"
ORDER_CHANGED = "order.changed"
HAND_BACK = "manual_orders.hand_back"
IMPORT_TITLE = "manual_orders.job.import"


def register() -> None:
    register_event_kind(IMPORT_TITLE, _("Import"), _("Import %(name)s"))
    register_event_kind(ALLOCATED, _("Allocated"), _("%(warehouse)s / %(carrier)s"), icon="🏭")
    register_event_kind(
        ALLOCATED_BY_HAND,
        _("Allocated"),
        _("%(warehouse)s / %(carrier)s. Allocation chosen by hand."),
        icon="🏭",
    )
    register_event_kind(
        DISPATCHED, _("Dispatched"), _("%(carrier)s, tracking number %(tracking)s"), icon="🚚"
    )
    register_event_kind(
        ORDER_CHANGED,
        _("Changed"),
        _("Changed at the customer's request: %(fields)s"),
        icon="✎",
        choices={"fields": ChangedField},
    )
    register_event_kind(
        HAND_BACK,
        _("Hand-back"),
        _("Manual orders handed back: %(pushed)s pushed, %(conflicts)s in conflict."),
        icon="↩",
    )
