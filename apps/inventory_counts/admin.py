from django.contrib import admin
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin

from .models import ApprovedStock, CountSession, CountSheetImport, Location, Product, Warehouse


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


@admin.register(CountSession)
class CountSessionAdmin(SimpleHistoryAdmin):
    list_display = ("name", "warehouse", "state", "blind", "created_at", "approved_at")
    list_filter = ("state", "warehouse")
    readonly_fields = [f.name for f in CountSession._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(CountSheetImport)
class CountSheetImportAdmin(admin.ModelAdmin):
    list_display = ("original_name", "session", "state", "total_rows", "error_count", "created_at")
    list_filter = ("state",)
    exclude = ("content",)
    readonly_fields = ("original_name", "session", "state", "total_rows", "error_count", "errors")

    def has_add_permission(self, request):
        return False


@admin.register(ApprovedStock)
class ApprovedStockAdmin(admin.ModelAdmin):
    list_display = ("product", "warehouse", "location", "quantity", "is_current", "approved_at")
    list_filter = ("is_current", "warehouse")
    search_fields = ("product__sku",)
    readonly_fields = [f.name for f in ApprovedStock._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
