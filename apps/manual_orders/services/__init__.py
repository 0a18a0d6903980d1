"""Use cases of manual orders: each one transaction, each state change attributed, timestamped
and told to the customer in the customer's language.

A package split by use case (Zulip's ``zerver/actions``); everything callers use is re-exported
here, so ``from apps.manual_orders import services`` keeps working."""

from apps.core.errors import DomainError

from .common import (
    CANCELLED_AFTER_PUSH,
    CENT,
    CHANGED_DURING_PUSH,
    DuplicateSuspected,
    StockShort,
    block_on_no_stock,
    duplicate_window,
)
from .customers import (
    create_customer,
)
from .entry import (
    LineInput,
    PlacedOrder,
    next_order_number,
    place_order,
    place_order_for_new_customer,
    take_order,
)
from .hand_back import (
    PUSH_STATUS,
    export_orders,
    push_to_order_system,
    record_hand_back,
    start_push,
)
from .lifecycle import (
    allocate_order,
    allowed_next_states,
    cancel_order,
    confirm_order,
    deliver_order,
    dispatch_order,
    save_allocation_rule,
)
from .notify import (
    MESSAGES,
    SUBJECT,
)
from .reference import (
    ERRORS_KEPT,
    PREVIEW_ROWS,
    ReferenceSource,
    check_reference,
    confirm_reference_import,
    load_reference_from_latest_backup,
    load_reference_from_order_system,
    mark_reference_failed,
    refresh_reference_import,
    start_reference_import,
    start_reference_load,
    upload_reference,
)

__all__ = [
    "DomainError",
    "CANCELLED_AFTER_PUSH",
    "CENT",
    "CHANGED_DURING_PUSH",
    "DuplicateSuspected",
    "ERRORS_KEPT",
    "LineInput",
    "MESSAGES",
    "PREVIEW_ROWS",
    "PUSH_STATUS",
    "PlacedOrder",
    "ReferenceSource",
    "SUBJECT",
    "StockShort",
    "allocate_order",
    "allowed_next_states",
    "block_on_no_stock",
    "cancel_order",
    "check_reference",
    "confirm_order",
    "confirm_reference_import",
    "create_customer",
    "deliver_order",
    "dispatch_order",
    "duplicate_window",
    "export_orders",
    "load_reference_from_latest_backup",
    "load_reference_from_order_system",
    "mark_reference_failed",
    "next_order_number",
    "place_order",
    "place_order_for_new_customer",
    "push_to_order_system",
    "record_hand_back",
    "refresh_reference_import",
    "save_allocation_rule",
    "start_push",
    "start_reference_import",
    "start_reference_load",
    "take_order",
    "upload_reference",
]
