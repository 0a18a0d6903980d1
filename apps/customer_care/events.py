"""Customer care's event kinds: case timelines and incident timeline lines, rendered when shown."""

from django.db.models import Choices
from django.utils.translation import gettext_lazy as _

from apps.core.events import register_event_kind

from .choices import CaseChannel, CaseState, CaseType, Priority, RefundMethod, RequestKind

OPENED = "care.opened"
STATE = "care.state"
REOPENED = "care.reopened"
ASSIGNED = "care.assigned"
PRIORITY = "care.priority"
ORDER_LINKED = "care.order_linked"
ORDER_CHANGED = "care.order_changed"
ORDER_CANCELLED = "care.order_cancelled"
REQUEST_RECORDED = "care.request_recorded"
REQUEST_APPLIED = "care.request_applied"
REQUEST_FAILED = "care.request_failed"
REPLIED = "care.replied"
FIRST_RESPONSE_MISSED = "care.first_response_missed"
RESOLUTION_MISSED = "care.resolution_missed"
LEAD_WARNED = "care.lead_warned"
REFUND = "care.refund"
RMA_OPENED = "care.rma_opened"
RMA_RECEIVED = "care.rma_received"
MAIL_REJECTED = "care.mail_rejected"
POLL_TITLE = "care.job.poll"
LOOKUP_TITLE = "care.job.lookup"
VIP_CASE = "care.vip_case"


def register() -> None:
    choices: dict[str, type[Choices]] = {
        "channel": CaseChannel,
        "type": CaseType,
        "state": CaseState,
        "to": CaseState,
        "priority": Priority,
        "method": RefundMethod,
        "kind": RequestKind,
    }
    add = register_event_kind
    add(
        OPENED,
        _("Opened"),
        _("Case opened from %(channel)s: %(type)s, %(priority)s."),
        icon="✉",
        choices=choices,
    )
    add(STATE, _("State"), _("Now %(to)s."), icon="→", choices=choices)
    add(REOPENED, _("Reopened"), _("Reopened."), icon="↺")
    add(ASSIGNED, _("Assigned"), _("Handed to %(owner)s."), icon="👤")
    add(PRIORITY, _("Priority"), _("Priority now %(priority)s."), icon="!", choices=choices)
    add(ORDER_LINKED, _("Order"), _("Order %(number)s added to the case."), icon="#")
    add(
        ORDER_CHANGED,
        _("Order changed"),
        _("Manual order %(number)s changed: %(fields)s."),
        icon="✎",
    )
    add(
        ORDER_CANCELLED,
        _("Order cancelled"),
        _("Manual order %(number)s cancelled."),
        icon="✖",
    )
    add(
        REQUEST_RECORDED,
        _("Request recorded"),
        _("%(kind)s of order-system order %(number)s recorded for the hand-back."),
        icon="⏳",
        choices=choices,
    )
    add(
        REQUEST_APPLIED,
        _("Request applied"),
        _("%(kind)s of order-system order %(number)s applied by the hand-back."),
        icon="✔",
        choices=choices,
    )
    add(
        REQUEST_FAILED,
        _("Request failed"),
        _("%(kind)s of order-system order %(number)s could not be applied: %(reason)s"),
        icon="⚠",
        choices=choices,
    )
    add(REPLIED, _("Replied"), _("Reply sent to %(address)s."), icon="↩")
    add(
        FIRST_RESPONSE_MISSED,
        _("Target missed"),
        _("First-response target missed at %(due)s."),
        icon="⏰",
    )
    add(RESOLUTION_MISSED, _("Target missed"), _("Resolution target missed at %(due)s."), icon="⏰")
    add(LEAD_WARNED, _("Lead warned"), _("%(lead)s told the case is close to its target."))
    add(
        REFUND,
        _("Refund"),
        _("Refund of %(amount)s by %(method)s recorded for finance."),
        icon="¥",
        choices=choices,
    )
    add(RMA_OPENED, _("Return"), _("Return %(rma)s opened."), icon="📦")
    add(
        RMA_RECEIVED,
        _("Return received"),
        _("Return %(rma)s received: %(restocked)s units back in stock."),
        icon="📦",
    )
    add(MAIL_REJECTED, _("Mail rejected"), _("Mail from %(sender)s rejected: %(reason)s"))
    add(POLL_TITLE, _("Care mailbox"), _("Take new mail from the care mailbox"))
    add(LOOKUP_TITLE, _("Order look-up"), _("Look up orders for %(query)s in the latest backup"))
    add(
        VIP_CASE,
        _("Care"),
        _("Care case %(reference)s opened for VIP customer %(customer)s."),
        icon="★",
    )
