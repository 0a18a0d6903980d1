"""The catalogue's error codes: the label is the message, rendered in the reader's language."""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ErrorCode


class CatalogError(ErrorCode):
    INVALID_PRODUCT = (
        "invalid_product",
        _("Product %(sku)s: %(field)s: %(error)s"),
    )
    INVALID_WAREHOUSE = (
        "invalid_warehouse",
        _("Warehouse %(code)s: %(field)s: %(error)s"),
    )
    INVALID_LOCATION = (
        "invalid_location",
        _("Location %(code)s: %(field)s: %(error)s"),
    )
    BARCODE_TAKEN = (
        "barcode_taken",
        _("Another location of warehouse %(warehouse)s already has one of these barcodes."),
    )
