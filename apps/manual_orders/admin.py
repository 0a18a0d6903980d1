from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import AllocationRule, Customer, ManualOrder, OrderEvent, OrderLine, ProductPrice


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ("name", "phone", "email", "city", "vip", "language")
    search_fields = ("name", "phone", "email")
    list_filter = ("vip", "language")


@admin.register(ProductPrice)
class ProductPriceAdmin(SimpleHistoryAdmin):
    list_display = ("product", "price", "currency", "updated_at")
    search_fields = ("product__sku", "product__name")
    raw_id_fields = ("product",)


@admin.register(AllocationRule)
class AllocationRuleAdmin(SimpleHistoryAdmin):
    list_display = (
        "priority",
        "name",
        "order_type",
        "destination",
        "warehouse",
        "carrier",
        "active",
    )


class LineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = (
        "product",
        "sku",
        "name",
        "quantity",
        "list_price",
        "unit_price",
        "line_total",
    )


class EventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ("from_state", "to_state", "at", "by", "message", "note")


@admin.register(ManualOrder)
class ManualOrderAdmin(admin.ModelAdmin):
    """Read-only here: orders change only through the services (the order pages)."""

    list_display = ("number", "customer", "state", "total", "push_state", "created_at")
    list_filter = ("state", "push_state", "channel")
    search_fields = ("number",)
    show_full_result_count = False
    raw_id_fields = ("customer", "possible_duplicate_of")
    inlines = [LineInline, EventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
