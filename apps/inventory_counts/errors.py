"""The stock counts' error codes: the label is the message, rendered in the reader's language.

The entry problems the count page reacts to keep the values of ``choices.EntryProblem``
(``not_whole``, ``duplicate``, ``implausible``, ``too_large``): the page reads them as codes.
"""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ErrorCode


class InventoryError(ErrorCode):
    # Sessions.
    INVALID_TRANSITION = (
        "invalid_transition",
        _("A session that is “%(state)s” cannot become “%(target)s”."),
    )
    LOCATION_OUTSIDE_WAREHOUSE = (
        "location_outside_warehouse",
        _("Every location must belong to the session's warehouse."),
    )
    RECOUNTS_PENDING = ("recounts_pending", _("%(n)s lines still wait for their recount."))
    NOT_BEING_COUNTED = ("not_being_counted", _("This session is not being counted."))
    APPROVE_NOT_IN_REVIEW = (
        "approve_not_in_review",
        _("Only a session in review can be approved."),
    )
    APPROVE_RECOUNTS_PENDING = (
        "approve_recounts_pending",
        _("%(n)s lines need a recount by a different clerk before approval."),
    )
    APPROVAL_NOTE_MISSING = (
        "approval_note_missing",
        _(
            "%(n)s lines differ from the expected quantity beyond the threshold (or have no "
            "earlier count to compare with): write a note saying why they may be approved."
        ),
    )
    # Entries.
    NOT_OPEN = ("not_open", _("This session is not open for counting."))
    NOT_ASSIGNED = ("not_assigned", _("You are not assigned to this count."))
    NEGATIVE_QUANTITY = ("negative_quantity", _("Enter a quantity of zero or more."))
    LOCATION_OUT_OF_SCOPE = (
        "location_out_of_scope",
        _("Location %(code)s is not part of this count."),
    )
    CATEGORY_OUT_OF_SCOPE = (
        "category_out_of_scope",
        _("%(sku)s is not in the categories of this count."),
    )
    NOT_WHOLE = (
        "not_whole",
        _("%(sku)s is counted in whole pieces: enter a whole number, not %(qty)s."),
    )
    TOO_LARGE = (
        "too_large",
        _("%(qty)s cannot be recorded: a bin cannot hold more than %(max)s units."),
    )
    DUPLICATE = (
        "duplicate",
        _("You already counted %(qty)s of %(sku)s at %(location)s a moment ago. Add %(new)s more?"),
    )
    IMPLAUSIBLE = (
        "implausible",
        _(
            "%(total)s × %(sku)s at %(location)s is more than the %(max)s units a bin "
            "plausibly holds. Check the number; add it only if it is right."
        ),
    )
    NO_RECOUNT_NEEDED = (
        "no_recount_needed",
        _("This product at this location does not need a recount."),
    )
    RECOUNT_BY_OTHER = (
        "recount_by_other",
        _("You counted this line first; a different clerk must recount it."),
    )
    # Count sheets.
    FORMAT_UNSUPPORTED = ("format_unsupported", _("This file format is not supported."))
    SHEET_NOT_CHECKED = (
        "sheet_not_checked",
        _("Only a sheet that was checked without errors can be imported."),
    )
    SHEET_NOT_FAILED = (
        "sheet_not_failed",
        _("Only a sheet whose job failed can be checked again."),
    )
    SHEET_NOT_IMPORTING = ("sheet_not_importing", _("This sheet is not waiting to be imported."))
    SHEET_HAS_ERRORS = (
        "sheet_has_errors",
        _("The sheet was not imported: %(n)s rows have errors. Nothing was written."),
    )
    # Returned goods.
    RETURN_REASON_MISSING = (
        "return_reason_missing",
        _("Say why the units come back to stock (the return or case they belong to)."),
    )
    RETURN_NOT_POSITIVE = (
        "return_not_positive",
        _("Only a positive quantity can be returned to stock."),
    )
    RETURN_NOT_WHOLE = (
        "return_not_whole",
        _("%(sku)s is counted in whole pieces: %(qty)s is not a whole number."),
    )
    RETURN_TOO_LARGE = (
        "return_too_large",
        _("%(qty)s units would take the stock beyond the most a bin can hold (%(max)s)."),
    )
    RETURN_LOCATION_ELSEWHERE = (
        "return_location_elsewhere",
        _("Location %(code)s is not in warehouse %(warehouse)s."),
    )
    RETURN_NEEDS_LOCATION = (
        "return_needs_location",
        _(
            "%(sku)s has no stock in warehouse %(warehouse)s yet: name the location the "
            "returned units go to."
        ),
    )
    STOCK_BUSY = (
        "stock_busy",
        _("The stock of %(sku)s is being changed by someone else; try again."),
    )
