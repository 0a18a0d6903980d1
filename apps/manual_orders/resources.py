"""Reference data in (products with prices, customers, warehouses) and orders out, through
django-import-export: CSV, XLSX (with openpyxl) and, for the hand-back, JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.formats import base_formats

from apps.catalog import services as catalog
from apps.catalog.models import Product, Warehouse
from apps.core import tabular

from .choices import ReferenceKind
from .models import Customer, OrderLine, ProductPrice

if TYPE_CHECKING:
    from apps.accounts.models import User

# The house's safe formats: exported cells never carry a live formula.
EXPORT_FORMATS = (tabular.CSV, tabular.XLSX, tabular.JSON)
PROGRESS_EVERY_ROWS = 1000


def formats(candidates) -> dict[str, base_formats.Format]:
    return {f().get_title(): f() for f in candidates if f().is_available()}


class ReferenceResource(resources.ModelResource):
    """A reference file's rows; reports its progress to the job that checks or imports it."""

    class Meta:
        # No per-row diff (nobody sees it): it cost ~2.5 KB and much of the time of every row.
        skip_diff = True

    def __init__(self, *, progress=None, by: User | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.progress = progress
        self.by = by
        self.total = 0

    def before_import(self, dataset, **kwargs):
        self.total = len(dataset)
        return super().before_import(dataset, **kwargs)

    def after_import_row(self, row, row_result, **kwargs):
        number = kwargs.get("row_number") or 0
        if self.progress is not None and self.total and number % PROGRESS_EVERY_ROWS == 0:
            self.progress(
                10 + int(number * 85 / self.total),
                _("Row %(n)s of %(total)s") % {"n": number, "total": self.total},
            )


class ProductResource(ReferenceResource):
    """A product row: the catalogue's product (by SKU) and its selling price. The row is read
    and checked against ``catalog.Product``; the catalogue's service writes it."""

    price = fields.Field(
        attribute="import_price", column_name="price", widget=widgets.DecimalWidget()
    )

    class Meta:
        model = Product
        import_id_fields = ("sku",)
        fields = ("sku", "name", "category", "unit", "active", "price")
        skip_unchanged = False
        clean_model_instances = True

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        price = getattr(instance, "import_price", None)
        if "price" not in errors:
            if price is None:
                errors["price"] = [_("Enter the price.")]
            elif price < 0:
                errors["price"] = [_("A price cannot be negative.")]
        super().validate_instance(instance, errors, validate_unique)

    def do_instance_save(self, instance, is_create):
        instance.pk = catalog.upsert_products(
            products=[
                catalog.ProductData(
                    sku=instance.sku,
                    name=instance.name,
                    category=instance.category,
                    unit=instance.unit,
                    active=instance.active,
                )
            ],
            by=self.by,
            reason="reference file",
        ).ids[instance.sku]

    def after_save_instance(self, instance, row, **kwargs):
        ProductPrice.objects.update_or_create(
            product=instance, defaults={"price": Decimal(instance.import_price)}
        )


class CustomerResource(ReferenceResource):
    class Meta:
        model = Customer
        import_id_fields = ("phone",)
        fields = ("name", "phone", "email", "city", "address", "other_addresses", "vip", "language")
        clean_model_instances = True


class WarehouseResource(ReferenceResource):
    """A warehouse row, checked against ``catalog.Warehouse`` and written by the catalogue."""

    class Meta:
        model = Warehouse
        import_id_fields = ("code",)
        fields = ("code", "name")
        clean_model_instances = True

    def do_instance_save(self, instance, is_create):
        instance.pk = catalog.upsert_warehouses(
            warehouses=[catalog.WarehouseData(code=instance.code, name=instance.name)],
            by=self.by,
            reason="reference file",
        ).ids[instance.code]


REFERENCE_RESOURCES = {
    ReferenceKind.PRODUCTS: ProductResource,
    ReferenceKind.CUSTOMERS: CustomerResource,
    ReferenceKind.WAREHOUSES: WarehouseResource,
}


class OrderLineExportResource(resources.ModelResource):
    """One row per order line, keyed by the order's external reference, for re-entry."""

    external_reference = fields.Field(attribute="order__number", column_name="order_no")
    state = fields.Field(attribute="order__state", column_name="state")
    channel = fields.Field(attribute="order__channel", column_name="channel")
    received_at = fields.Field(
        attribute="order__received_at", column_name="received_at", widget=widgets.DateTimeWidget()
    )
    customer_name = fields.Field(attribute="order__customer__name", column_name="customer_name")
    customer_phone = fields.Field(attribute="order__customer__phone", column_name="customer_phone")
    customer_email = fields.Field(attribute="order__customer__email", column_name="customer_email")
    delivery_city = fields.Field(attribute="order__delivery_city", column_name="ship_city")
    delivery_address = fields.Field(attribute="order__delivery_address", column_name="ship_address")
    carrier = fields.Field(attribute="order__carrier", column_name="carrier")
    tracking_number = fields.Field(
        attribute="order__tracking_number", column_name="tracking_number"
    )
    order_total = fields.Field(
        attribute="order__total", column_name="order_total", widget=widgets.DecimalWidget()
    )

    class Meta:
        model = OrderLine
        fields = (
            "external_reference",
            "state",
            "channel",
            "received_at",
            "customer_name",
            "customer_phone",
            "customer_email",
            "delivery_city",
            "delivery_address",
            "carrier",
            "tracking_number",
            "sku",
            "name",
            "quantity",
            "unit_price",
            "line_total",
            "order_total",
        )
        export_order = fields
