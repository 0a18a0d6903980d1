"""The catalogue: products (with their unit of measure), warehouses and their bins.

One owner for these rows: stock counts, manual orders and customer care read them and write
them only through ``apps.catalog.services``.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .choices import UnitOfMeasure


class Warehouse(models.Model):
    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=120)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Location(models.Model):
    """A bin or shelf; its code (or barcode label) is what the clerk scans."""

    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="locations", verbose_name=_("warehouse")
    )
    code = models.CharField(_("code"), max_length=40)
    barcode = models.CharField(_("barcode"), max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=120, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["warehouse", "code"]
        constraints = [
            # Names kept from when bins lived in inventory_counts (the tables moved as they were).
            models.UniqueConstraint(fields=["warehouse", "code"], name="inv_location_code_unique"),
            models.UniqueConstraint(
                fields=["warehouse", "barcode"],
                condition=~Q(barcode=""),
                name="inv_location_barcode_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Product(models.Model):
    """A product as counts count it and manual orders sell it (the price is manual orders')."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    barcode = models.CharField(_("barcode"), max_length=64, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=80, blank=True, db_index=True)
    unit = models.CharField(_("unit"), max_length=20, default="pcs")
    unit_of_measure = models.CharField(
        _("unit of measure"),
        max_length=10,
        choices=UnitOfMeasure.choices,
        default=UnitOfMeasure.PIECE,
        help_text=_("Pieces are counted in whole numbers; weights and lengths may have decimals."),
    )
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def counted_in_pieces(self) -> bool:
        return self.unit_of_measure == UnitOfMeasure.PIECE
