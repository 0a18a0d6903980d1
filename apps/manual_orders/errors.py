"""Manual orders' error codes: the label is the message, rendered in the reader's language."""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ErrorCode


class OrderError(ErrorCode):
    # Taking an order.
    CHANNEL_MISSING = ("channel_missing", _("Choose how the order came in."))
    ADDRESS_MISSING = ("address_missing", _("Enter the delivery address."))
    NO_LINES = ("no_lines", _("Add at least one line."))
    LINE_WITHOUT_PRODUCT = ("line_without_product", _("Every line needs a chosen product."))
    QUANTITY_NOT_WHOLE = ("quantity_not_whole", _("Quantities must be whole numbers."))
    QUANTITY_TOO_SMALL = ("quantity_too_small", _("Quantities must be at least 1."))
    QUANTITY_TOO_LARGE = ("quantity_too_large", _("A line cannot ask for more than %(max)s."))
    NOT_FOR_SALE = (
        "not_for_sale",
        _("This product cannot be sold (inactive or without a price)."),
    )
    STOCK_SHORT = ("stock_short", _("Not enough stock: %(lines)s"))
    DUPLICATE_SUSPECTED = (
        "duplicate_suspected",
        _(
            "Order %(number)s for this customer with the same items was taken "
            "%(minutes)s minutes ago. Tick “Not a duplicate” to take this one as well."
        ),
    )
    PRICE_CHANGE_FORBIDDEN = ("price_change_forbidden", _("You may not change the unit price."))
    PRICE_REASON_MISSING = (
        "price_reason_missing",
        _("Give a reason for the changed price of %(sku)s."),
    )
    NEGATIVE_PRICE = ("negative_price", _("A price cannot be negative."))
    # Moving an order along.
    INVALID_TRANSITION = (
        "invalid_transition",
        _("An order that is %(state)s cannot become %(to)s."),
    )
    CANCEL_REASON_MISSING = ("cancel_reason_missing", _("Give the reason for cancelling."))
    NO_MATCHING_RULE = (
        "no_matching_rule",
        _("No allocation rule matches this order: choose a warehouse."),
    )
    CARRIER_MISSING = ("carrier_missing", _("Choose a carrier."))
    TRACKING_MISSING = ("tracking_missing", _("Enter the tracking number."))
    # Reference data.
    REFERENCE_NOT_CHECKING = (
        "reference_not_checking",
        _("This file is not waiting to be checked."),
    )
    REFERENCE_NOT_CHECKED = (
        "reference_not_checked",
        _("Only a checked file without errors can be imported."),
    )
    REFERENCE_HAS_ERRORS = (
        "reference_has_errors",
        _("The file has errors now; nothing was imported."),
    )
    ORDER_SYSTEM_UNREADABLE = (
        "order_system_unreadable",
        _("The order system's database cannot be read: %(error)s"),
    )
    ORDER_SYSTEM_EMPTY = (
        "order_system_empty",
        _(
            "The order system's database has no products or customers yet (it is empty). "
            "Load the order system first, or load the reference data from its latest "
            "backups instead."
        ),
    )
    # Hand-back.
    UNKNOWN_EXPORT_FORMAT = ("unknown_export_format", _("Unknown export format."))
