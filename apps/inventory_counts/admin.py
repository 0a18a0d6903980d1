from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import ApprovedStock, CountSession, CountSheetImport


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
