from django.contrib import admin
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin

from .models import Location, Product, Warehouse


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0


@admin.register(Warehouse)
class WarehouseAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    inlines = [LocationInline]


@admin.register(Location)
class LocationAdmin(SimpleHistoryAdmin):
    list_display = ("code", "barcode", "name", "warehouse")
    list_filter = ("warehouse",)
    search_fields = ("code", "barcode", "name")


@admin.register(Product)
class ProductAdmin(ExportMixin, SimpleHistoryAdmin):
    """Export only: products come in through the reference page, whose check is a bounded job
    (an admin import would read the whole file inside the web request)."""

    list_display = (
        "sku",
        "barcode",
        "name",
        "category",
        "unit",
        "unit_of_measure",
        "unit_cost",
        "active",
    )
    list_filter = ("active", "unit_of_measure", "category")
    search_fields = ("sku", "barcode", "name")
