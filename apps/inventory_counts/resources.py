"""Count sheets in and out through django-import-export (CSV, and XLSX when openpyxl is there).

Import: one row per location and product (``location``, ``sku`` — a SKU or a barcode —,
``quantity``). Every row is checked against lookup tables built once per file, so a
100,000-row sheet needs a handful of queries; entries are written with ``bulk_create`` and the
lines' totals are added in one UPDATE. The service runs the whole import in one transaction and
rolls it back when any row is wrong, so a sheet is imported entirely or not at all.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from apps.catalog.choices import UnitOfMeasure
from apps.catalog.models import Location, Product
from apps.core.tabular import (  # noqa: F401 - this app's views and forms import them here
    available_formats,
    format_by_name,
    read_dataset,
)

from .choices import EntrySource, SessionState
from .models import CountEntry, CountLine, CountSession

MAX_QTY = Decimal("99999999999")
LOOKUP_CHUNK = 10_000

# Header aliases accepted on import (lower-cased): English and the Chinese a clerk would type.
HEADER_ALIASES = {
    "location": "location",
    "location code": "location",
    "bin": "location",
    "库位": "location",
    "货位": "location",
    "sku": "sku",
    "barcode": "sku",
    "product": "sku",
    "商品编码": "sku",
    "条码": "sku",
    "quantity": "quantity",
    "qty": "quantity",
    "counted": "quantity",
    "数量": "quantity",
    "盘点数量": "quantity",
}


def _chunks(values: list[str], size: int = LOOKUP_CHUNK):
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _implausible(quantity: Decimal, *, sku: str, pieces: bool) -> dict[str, list[str]]:
    """The rules of the count page, for a sheet row (which cannot ask for a confirmation)."""
    if pieces and quantity != quantity.to_integral_value():
        return {
            "quantity": [
                _("%(sku)s is counted in whole pieces: enter a whole number, not %(qty)s.")
                % {"sku": sku, "qty": _text(quantity)}
            ]
        }
    bound = Decimal(str(settings.INVENTORY_PLAUSIBLE_MAX_PER_BIN))
    if quantity > bound:
        return {
            "quantity": [
                _(
                    "%(qty)s is more than the %(max)s units a bin plausibly holds: check the row, "
                    "or enter it on the count page, where it can be confirmed."
                )
                % {"qty": _text(quantity), "max": bound}
            ]
        }
    return {}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets turn numeric codes into floats
    return str(value).strip()


class CountSheetResource(resources.ModelResource):
    """Rows of a count sheet become ``CountEntry`` rows of one session, entered by one clerk."""

    location = fields.Field(attribute=None, column_name="location")
    sku = fields.Field(attribute=None, column_name="sku")
    quantity = fields.Field(attribute=None, column_name="quantity")

    class Meta:
        model = CountEntry
        fields = ("location", "sku", "quantity")
        import_id_fields: list[str] = []
        force_init_instance = True
        skip_diff = True
        use_bulk = True
        batch_size = 5000
        clean_model_instances = False
        report_skipped = False

    def __init__(self, *, session: CountSession, clerk, sheet=None, progress=None) -> None:
        super().__init__()
        self.session = session
        self.clerk = clerk
        self.sheet = sheet
        self.progress = progress
        self.recount = session.state == SessionState.RECOUNT
        self.now = timezone.now()
        self.seen: dict[tuple[int, int], int | None] = {}
        self.pending_lines: dict[tuple[int, int], list[CountEntry]] = {}
        self.failed = False
        self.total = 0

    # --- lookups, once per file -----------------------------------------------------------
    def before_import(self, dataset, **kwargs):
        headers = [HEADER_ALIASES.get(_text(h).lower(), _text(h).lower()) for h in dataset.headers]
        dataset.headers = headers
        missing = [c for c in ("location", "sku", "quantity") if c not in headers]
        if missing:
            raise ValueError(
                _("The sheet has no column %(columns)s (expected: location, sku, quantity).")
                % {"columns": ", ".join(missing)}
            )
        self.total = len(dataset)
        session = self.session
        scope = set(session.locations.values_list("pk", flat=True))
        self.locations: dict[str, int] = {}
        self.out_of_scope: set[int] = set()
        for pk, code, barcode in Location.objects.filter(warehouse=session.warehouse).values_list(
            "pk", "code", "barcode"
        ):
            self.locations[code] = pk
            if barcode:
                self.locations.setdefault(barcode, pk)
            if scope and pk not in scope:
                self.out_of_scope.add(pk)
        codes = sorted({_text(v) for v in dataset["sku"]} - {""})
        # code -> (pk, category, counted in whole pieces)
        self.products: dict[str, tuple[int, str, bool]] = {}
        for chunk in _chunks(codes):
            for pk, sku, category, measure in Product.objects.filter(sku__in=chunk).values_list(
                "pk", "sku", "category", "unit_of_measure"
            ):
                self.products[sku] = (pk, category, measure == UnitOfMeasure.PIECE)
        # Codes that are no SKU may be barcodes.
        for chunk in _chunks([c for c in codes if c not in self.products]):
            for pk, barcode, category, measure in Product.objects.filter(
                barcode__in=chunk
            ).values_list("pk", "barcode", "category", "unit_of_measure"):
                self.products.setdefault(barcode, (pk, category, measure == UnitOfMeasure.PIECE))
        self.categories = set(session.categories or [])
        self.lines: dict[tuple[int, int], tuple[int, bool]] = {
            (loc, prod): (pk, needs)
            for pk, loc, prod, needs in CountLine.objects.filter(session=session).values_list(
                "pk", "location_id", "product_id", "needs_recount"
            )
        }
        self.counted_by_clerk: set[int] = set()
        if self.recount:
            self.counted_by_clerk = set(
                CountEntry.objects.filter(
                    session=session, clerk=self.clerk, is_recount=False
                ).values_list("line_id", flat=True)
            )

    # --- one row ----------------------------------------------------------------------------
    def import_instance(self, instance, row, **kwargs):
        errors: dict[str, list[str]] = {}
        loc_code = _text(row.get("location"))
        code = _text(row.get("sku"))
        location_id = self.locations.get(loc_code)
        if not loc_code:
            errors["location"] = [_("The location is empty.")]
        elif location_id is None:
            errors["location"] = [_("Unknown location code “%(code)s”.") % {"code": loc_code}]
        elif location_id in self.out_of_scope:
            errors["location"] = [
                _("Location “%(code)s” is not part of this count.") % {"code": loc_code}
            ]
        product = self.products.get(code)
        if not code:
            errors["sku"] = [_("The SKU is empty.")]
        elif product is None:
            errors["sku"] = [_("Unknown SKU or barcode “%(code)s”.") % {"code": code}]
        elif self.categories and product[1] not in self.categories:
            errors["sku"] = [
                _("Product “%(code)s” is not in the categories of this count.") % {"code": code}
            ]
        quantity = None
        try:
            quantity = Decimal(_text(row.get("quantity")))
            if not quantity.is_finite() or quantity < 0 or quantity > MAX_QTY:
                raise InvalidOperation
            exponent = quantity.as_tuple().exponent
            if not isinstance(exponent, int) or exponent < -3:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["quantity"] = [
                _("“%(value)s” is not a quantity (a number, zero or more).")
                % {"value": _text(row.get("quantity"))}
            ]
        if "quantity" not in errors and quantity is not None and product is not None:
            errors.update(_implausible(quantity, sku=code, pieces=product[2]))
        if not errors:
            # Both resolved: an unknown location or product is a row error above.
            assert product is not None and location_id is not None
            pair = (location_id, product[0])
            number = kwargs.get("row_number")
            if pair in self.seen:
                errors[NON_FIELD_ERRORS] = [
                    _("This location and product already appear in row %(row)s.")
                    % {"row": self.seen[pair]}
                ]
            else:
                self.seen[pair] = number
            line = self.lines.get(pair)
            if self.recount and not errors:
                if line is None or not line[1]:
                    errors[NON_FIELD_ERRORS] = [
                        _("This product at this location does not need a recount.")
                    ]
                elif line[0] in self.counted_by_clerk:
                    errors[NON_FIELD_ERRORS] = [
                        _("You counted this line first; a different clerk must recount it.")
                    ]
        if errors:
            self.failed = True
            raise ValidationError(errors)
        instance.session_id = self.session.pk
        instance.clerk_id = self.clerk.pk
        instance.quantity = quantity
        instance.is_recount = self.recount
        instance.source = EntrySource.IMPORT
        instance.sheet_id = self.sheet.pk if self.sheet else None
        instance.at = self.now
        if line is not None:
            instance.line_id = line[0]
        else:
            self.pending_lines.setdefault(pair, []).append(instance)

    def after_import_row(self, row, row_result, **kwargs):
        number = kwargs.get("row_number") or 0
        if self.progress is not None and number % 5000 == 0 and self.total:
            self.progress(
                int(number * 90 / self.total),
                _("Row %(n)s of %(total)s") % {"n": number, "total": self.total},
            )

    # --- writing ----------------------------------------------------------------------------
    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if dry_run or self.failed:
            # Nothing is written once any row is wrong; a dry run writes nothing at all.
            self.create_instances.clear()
            self.pending_lines.clear()
            return
        if self.pending_lines:
            new_lines = [
                CountLine(session=self.session, location_id=loc, product_id=prod)
                for loc, prod in self.pending_lines
            ]
            CountLine.objects.bulk_create(new_lines, batch_size=batch_size)
            for line in new_lines:
                self.lines[(line.location_id, line.product_id)] = (line.pk, False)
                for entry in self.pending_lines[(line.location_id, line.product_id)]:
                    entry.line_id = line.pk
            self.pending_lines.clear()
        if connection.vendor == "postgresql":
            self._copy_entries()
        else:
            super().bulk_create(using_transactions, dry_run, raise_errors, batch_size, result)

    COPY_COLUMNS: tuple[str, ...] = (
        "session_id",
        "line_id",
        "quantity",
        "clerk_id",
        "is_recount",
        "source",
    )
    COPY_COLUMNS += ("sheet_id", "at")

    def _copy_entries(self) -> None:
        """PostgreSQL's COPY: several times faster than INSERT for 100,000 entries."""
        table = CountEntry._meta.db_table
        columns = ", ".join(self.COPY_COLUMNS)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for e in self.create_instances:
                copy.write_row(
                    (
                        e.session_id,
                        e.line_id,
                        e.quantity,
                        e.clerk_id,
                        e.is_recount,
                        e.source,
                        e.sheet_id,
                        e.at,
                    )
                )
        self.create_instances.clear()

    def after_import(self, dataset, result, **kwargs):
        """Add the sheet's entries to their lines' totals in one statement.

        (The model resource's default would reset the id sequence, which is unsafe while
        clerks keep scanning: it is deliberately not called.)
        """
        if kwargs.get("dry_run") or self.failed or self.sheet is None:
            return
        column = "recount_qty" if self.recount else "counted_qty"
        line_table = CountLine._meta.db_table
        entry_table = CountEntry._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {line_table} SET {column} = COALESCE({line_table}.{column}, 0) + agg.total "
                f"FROM (SELECT line_id, SUM(quantity) AS total FROM {entry_table} "
                f"WHERE sheet_id = %s GROUP BY line_id) AS agg "
                f"WHERE {line_table}.id = agg.line_id",
                [self.sheet.pk],
            )


class CountSheetExportResource(resources.Resource):
    """A blank count sheet for a session: what to count where (never the expected quantity)."""

    location = fields.Field(attribute="location__code", column_name="location")
    sku = fields.Field(attribute="product__sku", column_name="sku")
    barcode = fields.Field(attribute="product__barcode", column_name="barcode_info")
    name = fields.Field(attribute="product__name", column_name="name")
    unit = fields.Field(attribute="product__unit", column_name="unit")
    quantity = fields.Field(column_name="quantity")

    class Meta:
        fields = ("location", "sku", "barcode", "name", "unit", "quantity")

    def dehydrate_quantity(self, obj) -> str:
        return ""


class VarianceReportResource(resources.Resource):
    """The variance report as a spreadsheet: one row per line, quantities and values."""

    location = fields.Field(attribute="location__code", column_name="location")
    sku = fields.Field(attribute="product__sku", column_name="sku")
    name = fields.Field(attribute="product__name", column_name="name")
    category = fields.Field(attribute="product__category", column_name="category")
    # Quantities and values are numbers in an XLSX (a negative variance stays a number).
    unit_cost = fields.Field(
        attribute="product__unit_cost", column_name="unit_cost", widget=widgets.DecimalWidget()
    )
    expected = fields.Field(
        attribute="expected_qty", column_name="expected", widget=widgets.DecimalWidget()
    )
    counted = fields.Field(
        attribute="counted_qty", column_name="counted", widget=widgets.DecimalWidget()
    )
    recounted = fields.Field(
        attribute="recount_qty", column_name="recounted", widget=widgets.DecimalWidget()
    )
    final = fields.Field(attribute="final", column_name="final", widget=widgets.DecimalWidget())
    variance = fields.Field(
        attribute="variance_qty", column_name="variance_qty", widget=widgets.DecimalWidget()
    )
    value = fields.Field(
        attribute="variance_value", column_name="variance_value", widget=widgets.DecimalWidget()
    )
    recount = fields.Field(attribute="needs_recount", column_name="needs_recount")

    class Meta:
        fields = (
            "location",
            "sku",
            "name",
            "category",
            "unit_cost",
            "expected",
            "counted",
            "recounted",
            "final",
            "variance",
            "value",
            "recount",
        )
