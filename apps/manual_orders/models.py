"""Manual orders taken by phone and e-mail while the order system is down, with the reference
data they need that the stock counts do not already keep (customers, selling prices), the
allocation rules, and each order's history as rows.

Products and warehouses are the catalogue's (``catalog.Product`` and ``Warehouse``, written only
through ``apps.catalog.services``); a product is sold at the price kept in ``ProductPrice``.
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.catalog.models import Product, Warehouse
from apps.core.events import render_event

from .choices import (
    HOLDING_STATES,
    ImportState,
    NotifyBy,
    OrderChannel,
    OrderState,
    OrderType,
    PushState,
    ReferenceKind,
)

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
# The most one order line may ask for: more is a scanned barcode in the quantity, not an order.
MAX_LINE_QUANTITY = 1_000_000


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=120, db_index=True)
    phone = models.CharField(_("phone"), max_length=30, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    other_addresses = models.TextField(
        _("other addresses"), blank=True, help_text=_("One address a line.")
    )
    vip = models.BooleanField(_("VIP"), default=False)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    notify_by = models.CharField(
        _("notify by"), max_length=10, choices=NotifyBy.choices, default=NotifyBy.BOTH
    )
    external_id = models.BigIntegerField(
        _("ID in the order system"), null=True, blank=True, unique=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} {self.phone}"

    @property
    def addresses(self) -> list[str]:
        rest = [a.strip() for a in self.other_addresses.splitlines() if a.strip()]
        return [a for a in [self.address, *rest] if a]


class ProductPrice(models.Model):
    """The selling price of a stock-count product; its row is also the product's order lock."""

    product = models.OneToOneField(
        Product, on_delete=models.CASCADE, related_name="selling_price", verbose_name=_("product")
    )
    price = models.DecimalField(_("price"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("selling price")
        verbose_name_plural = _("selling prices")

    def __str__(self) -> str:
        return f"{self.product_id}: {self.price} {self.currency}"


class AllocationRule(models.Model):
    """Which warehouse and carrier serve an order: the first active rule that matches wins."""

    priority = models.PositiveIntegerField(_("priority"), default=100)
    name = models.CharField(_("name"), max_length=120)
    order_type = models.CharField(
        _("order type"),
        max_length=12,
        choices=OrderType.choices,
        blank=True,
        help_text=_("Empty: any type."),
    )
    destination = models.CharField(
        _("destination"),
        max_length=60,
        blank=True,
        help_text=_("A city or region found in the delivery address. Empty: anywhere."),
    )
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="+", verbose_name=_("warehouse")
    )
    carrier = models.CharField(_("carrier"), max_length=60)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("allocation rule")
        verbose_name_plural = _("allocation rules")
        ordering = ["priority", "pk"]

    def __str__(self) -> str:
        return self.name

    def matches(self, order: "ManualOrder") -> bool:
        if self.order_type and self.order_type != order.order_type:
            return False
        if self.destination:
            where = f"{order.delivery_city} {order.delivery_address}".casefold()
            return self.destination.casefold() in where
        return True


class ManualOrder(models.Model):
    number = models.CharField(_("order number"), max_length=24, unique=True)
    idempotency_key = models.UUIDField(_("idempotency key"), unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=OrderChannel.choices)
    order_type = models.CharField(
        _("order type"), max_length=12, choices=OrderType.choices, default=OrderType.STANDARD
    )
    received_at = models.DateTimeField(_("received at"))
    email_reference = models.TextField(_("e-mail text or reference"), blank=True)
    delivery_city = models.CharField(_("delivery city"), max_length=60, blank=True)
    delivery_address = models.CharField(_("delivery address"), max_length=300)
    notes = models.TextField(_("notes"), blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=OrderState.choices, default=OrderState.CAPTURED
    )
    total = models.DecimalField(_("total"), default=Decimal("0"), **MONEY)
    stock_short = models.BooleanField(
        _("short of stock"), default=False, help_text=_("Taken although stock was short.")
    )
    possible_duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("possible duplicate of"),
    )
    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    carrier = models.CharField(_("carrier"), max_length=60, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=60, blank=True)
    allocation_rule = models.ForeignKey(
        AllocationRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("allocation rule"),
    )
    allocation_overridden = models.BooleanField(_("allocation overridden"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("taken by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    state_changed_at = models.DateTimeField(_("state changed at"), default=timezone.now)
    push_state = models.CharField(
        _("hand-back"), max_length=10, choices=PushState.choices, default=PushState.PENDING
    )
    push_reason = models.CharField(_("hand-back note"), max_length=300, blank=True)
    pushed_at = models.DateTimeField(_("handed back at"), null=True, blank=True)

    class Meta:
        verbose_name = _("manual order")
        verbose_name_plural = _("manual orders")
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["state", "-id"], name="mo_order_state"),
            models.Index(fields=["push_state", "-id"], name="mo_order_push"),
            models.Index(fields=["customer", "-id"], name="mo_order_customer"),
            models.Index(fields=["channel", "-id"], name="mo_order_channel"),
            models.Index(fields=["warehouse", "state"], name="mo_order_warehouse"),
        ]
        permissions = [
            ("override_price", _("Can override a unit price")),
            ("fulfil_manualorder", _("Can allocate and dispatch manual orders")),
            ("hand_back_manualorder", _("Can export and push manual orders back")),
            ("import_reference", _("Can import reference data")),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def external_reference(self) -> str:
        """What the restored order system knows this order by (its ``order_no``)."""
        return self.number

    @property
    def holds_stock(self) -> bool:
        return self.state in HOLDING_STATES


class OrderLine(models.Model):
    order = models.ForeignKey(
        ManualOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"))
    list_price = models.DecimalField(_("list price"), **MONEY)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    price_override_reason = models.CharField(_("reason for the price"), max_length=200, blank=True)
    line_total = models.DecimalField(_("line total"), **MONEY)
    # Kept in step with the order's state by the services, so holds are summed from a small index.
    holds_stock = models.BooleanField(_("holds stock"), default=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["product"], condition=Q(holds_stock=True), name="mo_line_holding")
        ]

    def __str__(self) -> str:
        return f"{self.sku} × {self.quantity}"


class OrderEvent(models.Model):
    """One change of an order: who, when, from which state to which, and why."""

    order = models.ForeignKey(
        ManualOrder, on_delete=models.CASCADE, related_name="events", verbose_name=_("order")
    )
    from_state = models.CharField(_("from"), max_length=12, choices=OrderState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=12, choices=OrderState.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    # What code says about the change is data (kind + parameters, apps.core.events), rendered in
    # the reader's language; ``note`` is only what staff typed (a cancellation reason, …).
    kind = models.CharField(_("kind"), max_length=60, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_state} → {self.to_state}"

    @property
    def message(self) -> str:
        """The generated detail in the reader's language, then the note staff typed."""
        parts = [render_event(self.kind, self.params) if self.kind else "", self.note]
        return " · ".join(p for p in parts if p)


class OrderNumberCounter(models.Model):
    """Order numbers on databases without sequences (SQLite); PostgreSQL uses a sequence."""

    last = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.last)


class ReferenceImport(models.Model):
    """An uploaded reference file: checked in full (dry run) and shown, then imported."""

    kind = models.CharField(_("kind"), max_length=12, choices=ReferenceKind.choices)
    content = models.BinaryField(_("content"))
    original_name = models.CharField(_("file name"), max_length=255)
    input_format = models.CharField(_("format"), max_length=10)
    state = models.CharField(
        _("state"), max_length=12, choices=ImportState.choices, default=ImportState.CHECKING
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    preview = models.JSONField(_("preview"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    # The check runs on a worker (a file is never read inside the web request).
    job = models.ForeignKey(
        "core.JobRecord", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("reference import")
        verbose_name_plural = _("reference imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name
