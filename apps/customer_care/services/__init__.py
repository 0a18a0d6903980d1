"""Customer care's use cases, split by concern; callers use ``from apps.customer_care import services``."""

from .aftersales import record_refund
from .cases import (
    OrderRef,
    add_message,
    assign_case,
    change_state,
    check_response_targets,
    link_order,
    open_case,
    reassign_cases,
    receive_message,
    set_priority,
)
from .common import business_hours, round_the_clock_now, target_minutes
from .mailbox import ingest_message, poll_mailbox, start_mailbox_poll
from .orders import (
    FoundOrder,
    LookupResult,
    apply_order_system_requests,
    cancel_manual_order,
    change_manual_order,
    find_orders,
    find_orders_in_backup,
    request_order_system_change,
)
from .returns import ReturnedItem, open_rma, receive_rma
from .targets import save_response_target, save_team

__all__ = [
    "FoundOrder",
    "LookupResult",
    "OrderRef",
    "ReturnedItem",
    "add_message",
    "apply_order_system_requests",
    "assign_case",
    "business_hours",
    "cancel_manual_order",
    "change_manual_order",
    "change_state",
    "check_response_targets",
    "find_orders",
    "find_orders_in_backup",
    "ingest_message",
    "link_order",
    "open_case",
    "open_rma",
    "poll_mailbox",
    "reassign_cases",
    "receive_rma",
    "receive_message",
    "record_refund",
    "request_order_system_change",
    "round_the_clock_now",
    "save_response_target",
    "save_team",
    "set_priority",
    "start_mailbox_poll",
    "target_minutes",
]
