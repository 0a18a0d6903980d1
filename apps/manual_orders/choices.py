"""States, channels and types of manual orders, with the allowed transitions declared once."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderState(models.TextChoices):
    CAPTURED = "captured", _("Captured")
    CONFIRMED = "confirmed", _("Confirmed")
    ALLOCATED = "allocated", _("Allocated")
    DISPATCHED = "dispatched", _("Dispatched")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


# Where each state may go next; the services refuse anything else.
TRANSITIONS: dict[str, set[str]] = {
    OrderState.CAPTURED: {OrderState.CONFIRMED, OrderState.ALLOCATED, OrderState.CANCELLED},
    OrderState.CONFIRMED: {OrderState.ALLOCATED, OrderState.CANCELLED},
    OrderState.ALLOCATED: {OrderState.DISPATCHED, OrderState.CANCELLED},
    OrderState.DISPATCHED: {OrderState.DELIVERED},
    OrderState.DELIVERED: set(),
    OrderState.CANCELLED: set(),
}

# Orders in these states hold stock: it is promised but has not left the warehouse.
HOLDING_STATES = (OrderState.CAPTURED, OrderState.CONFIRMED, OrderState.ALLOCATED)


class OrderChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    OTHER = "other", _("Other")


class OrderType(models.TextChoices):
    STANDARD = "standard", _("Standard")
    EXPRESS = "express", _("Express")
    BULKY = "bulky", _("Bulky goods")


class NotifyBy(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    BOTH = "both", _("E-mail and SMS")
    NONE = "none", _("Do not notify")


class PushState(models.TextChoices):
    PENDING = "pending", _("Pending")
    PUSHED = "pushed", _("Pushed")
    CONFLICT = "conflict", _("Conflict")
    SKIPPED = "skipped", _("Not handed back (cancelled)")


class ReferenceKind(models.TextChoices):
    PRODUCTS = "products", _("Products")
    CUSTOMERS = "customers", _("Customers")
    WAREHOUSES = "warehouses", _("Warehouses")


class ImportState(models.TextChoices):
    CHECKING = "checking", _("Being checked")
    FAILED = "failed", _("Could not be checked")
    CHECKED = "checked", _("Checked")
    HAS_ERRORS = "has_errors", _("Has errors")
    IMPORTED = "imported", _("Imported")
