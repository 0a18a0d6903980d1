"""Telling the customer about each state, in the customer's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from apps.core.choices import Channel
from apps.core.notifications import send_notification

from ..choices import (
    NotifyBy,
    OrderState,
)
from ..models import (
    ManualOrder,
)

if TYPE_CHECKING:
    from apps.accounts.models import User

# --- telling the customer ---------------------------------------------------------------------------
SUBJECT = _("Your order %(number)s: %(state)s")
MESSAGES = {
    OrderState.CAPTURED: _(
        "We have received your order %(number)s, total %(total)s. "
        "We will tell you when it is on its way."
    ),
    OrderState.CONFIRMED: _("Your order %(number)s is confirmed."),
    OrderState.ALLOCATED: _("Your order %(number)s is being prepared for dispatch."),
    OrderState.DISPATCHED: _(
        "Your order %(number)s has been dispatched with %(carrier)s, tracking number %(tracking)s."
    ),
    OrderState.DELIVERED: _("Your order %(number)s has been delivered. Thank you."),
    OrderState.CANCELLED: _("Your order %(number)s has been cancelled."),
}


def _notify_customer(order: ManualOrder, *, by: User) -> None:
    customer = order.customer
    channels = []
    if customer.notify_by in (NotifyBy.EMAIL, NotifyBy.BOTH) and customer.email:
        channels.append((Channel.EMAIL, customer.email))
    if customer.notify_by in (NotifyBy.SMS, NotifyBy.BOTH) and customer.phone:
        channels.append((Channel.SMS, customer.phone))
    params = {
        "number": order.number,
        "state": OrderState(order.state).label,
        "total": order.total,
        "carrier": order.carrier,
        "tracking": order.tracking_number,
    }
    for channel, address in channels:
        send_notification(
            channel=channel,
            address=address,
            language=customer.language,
            subject=SUBJECT,
            body=MESSAGES[OrderState(order.state)],
            params=params,
            by=by,
        )
