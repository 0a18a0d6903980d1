"""Customer care's error codes: the message staff read is rendered from the code when shown."""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ErrorCode


class CareError(ErrorCode):
    BAD_TRANSITION = (
        "bad_transition",
        _("A case that is %(state)s cannot become %(to)s."),
    )
    STALE = (
        "stale",
        _("Someone else changed case %(reference)s in the meantime. Reload it and try again."),
    )
    EMPTY_MESSAGE = "empty_message", _("Write the message first.")
    NO_CUSTOMER = (
        "no_customer",
        _("Choose the customer, or enter a name and a phone number to add one."),
    )
    NO_REPLY_ADDRESS = (
        "no_reply_address",
        _("Case %(reference)s has no e-mail address to reply to."),
    )
    CASE_CLOSED = "case_closed", _("Case %(reference)s is closed: reopen it first.")
    ORDER_NOT_FOUND = "order_not_found", _("No order %(number)s was found.")
    ORDER_NOT_ON_CASE = (
        "order_not_on_case",
        _("Order %(number)s is not one of this case's orders: add it first."),
    )
    ORDER_DISPATCHED = (
        "order_dispatched",
        _(
            "Order %(number)s is already %(state)s and can no longer be changed: open a return "
            "or an exchange instead."
        ),
    )
    NOTHING_CHANGED = "nothing_changed", _("Nothing was changed.")
    REASON_REQUIRED = "reason_required", _("Give the reason.")
    LOOKUP_EMPTY = "lookup_empty", _("Enter an order number, a phone number or an e-mail address.")
    ORDER_SYSTEM_DOWN = (
        "order_system_down",
        _("The order system does not answer and no orders backup can be opened: %(reason)s"),
    )
    BAD_AMOUNT = "bad_amount", _("The amount must be more than zero.")
    BAD_TARGET = (
        "bad_target",
        _("The resolution target cannot be shorter than the first-response target."),
    )
    NOT_A_LEAD_ROLE = "not_an_agent", _("%(user)s is not a care agent or care lead.")
    MAILBOX_UNREACHABLE = (
        "mailbox_unreachable",
        _("The care mailbox cannot be read: %(reason)s"),
    )
    MAILBOX_NOT_CONFIGURED = (
        "mailbox_not_configured",
        _("No care mailbox is configured (CARE_IMAP_URL)."),
    )
    RMA_NO_LINES = "rma_no_lines", _("Add at least one returned item.")
    RMA_RECEIVED = "rma_received", _("Return %(rma)s has already been received.")
    RMA_CONDITION = "rma_condition", _("Give the condition of every returned item.")
    UNKNOWN_SKU = "unknown_sku", _("No product has the SKU %(sku)s.")
