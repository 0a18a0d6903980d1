"""Count sessions with their lines and entries, and the approved stock that manual orders sell
from. Warehouses, bins and products are the catalogue's (``apps.catalog``).

Entries are append-only: two clerks counting one bin each add rows, and the line's counted
quantity is the sum of its entries (kept on the line by the services, under a row lock).
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.catalog.models import Location, Product, Warehouse
from apps.core.models import JobRecord

from .choices import EntrySource, ImportState, SessionState, StockSource

QTY: dict[str, Any] = {"max_digits": 14, "decimal_places": 3}


class CountSession(models.Model):
    """One stock count: a warehouse, optionally narrowed to some bins or categories."""

    _change_reason: str  # read by django-simple-history

    name = models.CharField(_("name"), max_length=120)
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("warehouse")
    )
    locations = models.ManyToManyField(
        Location,
        blank=True,
        related_name="+",
        verbose_name=_("locations"),
        help_text=_("Empty: every location of the warehouse."),
    )
    categories = models.JSONField(
        _("product categories"),
        default=list,
        blank=True,
        help_text=_("Empty: every category."),
    )
    clerks = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="count_sessions",
        verbose_name=_("assigned clerks"),
    )
    blind = models.BooleanField(
        _("blind count"),
        default=True,
        help_text=_("Clerks do not see the expected quantities."),
    )
    recount_threshold_pct = models.DecimalField(
        _("recount threshold (%)"), max_digits=6, decimal_places=2, default=Decimal("5")
    )
    state = models.CharField(
        _("state"), max_length=16, choices=SessionState.choices, default=SessionState.DRAFT
    )
    has_baseline = models.BooleanField(
        _("has an approved baseline"),
        default=False,
        help_text=_("Set at start: an earlier approved count gave expected quantities."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("counting closed at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approval_note = models.TextField(
        _("approval note"),
        blank=True,
        help_text=_("Why lines beyond the recount threshold were approved as counted."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("count session")
        verbose_name_plural = _("count sessions")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("approve_countsession", _("Can approve count sessions")),
            ("review_countsession", _("Can see expected quantities and variances")),
            ("import_countsheet", _("Can import count sheets")),
        ]

    def __str__(self) -> str:
        return self.name

    def shows_expected_to(self, user) -> bool:
        """Blind counting: only reviewers see expected quantities of a blind session."""
        return not self.blind or user.has_perm("inventory_counts.review_countsession")


class CountLine(models.Model):
    """One product at one location in a session. ``expected_qty`` is frozen at start."""

    session = models.ForeignKey(
        CountSession, on_delete=models.CASCADE, related_name="lines", verbose_name=_("session")
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, verbose_name=_("location"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    expected_qty = models.DecimalField(_("expected quantity"), default=Decimal("0"), **QTY)
    counted_qty = models.DecimalField(_("counted quantity"), null=True, blank=True, **QTY)
    needs_recount = models.BooleanField(_("needs recount"), default=False)
    recount_qty = models.DecimalField(_("recounted quantity"), null=True, blank=True, **QTY)

    class Meta:
        verbose_name = _("count line")
        verbose_name_plural = _("count lines")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "location", "product"], name="inv_line_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.location_id}/{self.product_id}"

    @property
    def final_qty(self) -> Decimal | None:
        return self.recount_qty if self.recount_qty is not None else self.counted_qty


class CountSheetImport(models.Model):
    """An uploaded count sheet: checked in full (dry run), then imported all or nothing."""

    session = models.ForeignKey(
        CountSession, on_delete=models.CASCADE, related_name="imports", verbose_name=_("session")
    )
    # The sheet itself is kept in the database, so a worker on another host can read it.
    content = models.BinaryField(_("content"))
    original_name = models.CharField(_("file name"), max_length=255)
    input_format = models.CharField(_("format"), max_length=10)
    state = models.CharField(
        _("state"), max_length=16, choices=ImportState.choices, default=ImportState.VALIDATING
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    preview = models.JSONField(_("preview"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    job = models.ForeignKey(
        JobRecord, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("count sheet import")
        verbose_name_plural = _("count sheet imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name


class CountEntry(models.Model):
    """What one clerk counted once (a scan, or a sheet row): never updated, only added."""

    session = models.ForeignKey(
        CountSession, on_delete=models.CASCADE, related_name="entries", verbose_name=_("session")
    )
    line = models.ForeignKey(
        CountLine, on_delete=models.CASCADE, related_name="entries", verbose_name=_("line")
    )
    quantity = models.DecimalField(_("quantity"), **QTY)
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("clerk"),
    )
    is_recount = models.BooleanField(_("recount"), default=False)
    source = models.CharField(
        _("source"), max_length=10, choices=EntrySource.choices, default=EntrySource.SCAN
    )
    sheet = models.ForeignKey(
        CountSheetImport, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("count entry")
        verbose_name_plural = _("count entries")
        indexes = [models.Index(fields=["line", "clerk", "at"], name="inv_entry_line_clerk")]

    def __str__(self) -> str:
        return f"{self.line_id}: {self.quantity}"


class ApprovedStock(models.Model):
    """Stock set by an approved count (or raised by returned goods), per location. Rows are
    never deleted: an approval or a return marks the previous row of its (location, product)
    as no longer current, so the history of the stock is the table itself."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, verbose_name=_("warehouse"))
    location = models.ForeignKey(Location, on_delete=models.PROTECT, verbose_name=_("location"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="approved_stock", verbose_name=_("product")
    )
    quantity = models.DecimalField(_("quantity"), **QTY)
    source = models.CharField(
        _("source"), max_length=10, choices=StockSource.choices, default=StockSource.COUNT
    )
    session = models.ForeignKey(
        CountSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("session"),
        help_text=_("The approved count; empty for returned goods."),
    )
    reason = models.TextField(_("reason"), blank=True)
    approved_at = models.DateTimeField(_("approved at"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    is_current = models.BooleanField(_("current"), default=True)

    class Meta:
        verbose_name = _("approved stock")
        verbose_name_plural = _("approved stock")
        ordering = ["-approved_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "product"],
                condition=Q(is_current=True),
                name="inv_stock_one_current",
            ),
            models.CheckConstraint(
                condition=Q(source=StockSource.RETURN) | Q(session__isnull=False),
                name="inv_stock_count_has_session",
            ),
        ]
        indexes = [models.Index(fields=["product", "is_current"], name="inv_stock_product")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.quantity}"
