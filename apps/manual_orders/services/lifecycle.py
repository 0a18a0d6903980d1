"""An order after entry: the declared transitions (confirm, allocate, dispatch, deliver, cancel)
and the allocation rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from apps.catalog.models import Warehouse
from apps.core.errors import DomainError
from apps.core.events import json_safe

from .. import events, selectors
from ..choices import (
    HOLDING_STATES,
    TRANSITIONS,
    OrderState,
    PushState,
)
from ..errors import OrderError
from ..models import (
    AllocationRule,
    ManualOrder,
    OrderEvent,
)
from .common import CANCELLED_AFTER_PUSH
from .notify import _notify_customer

if TYPE_CHECKING:
    from apps.accounts.models import User


# --- after entry --------------------------------------------------------------------------------------
def allowed_next_states(order: ManualOrder) -> list[str]:
    return [s for s in OrderState.values if s in TRANSITIONS[order.state]]


def _locked(order: ManualOrder) -> ManualOrder:
    return ManualOrder.objects.select_for_update().select_related("customer").get(pk=order.pk)


def _move(
    order: ManualOrder,
    to: str,
    *,
    by: User,
    note: str = "",
    event_kind: str = "",
    event_params: dict[str, Any] | None = None,
) -> ManualOrder:
    if to not in TRANSITIONS[order.state]:
        raise DomainError(
            OrderError.INVALID_TRANSITION,
            params={"state": OrderState(order.state).label, "to": OrderState(to).label},
        )
    now = timezone.now()
    from_state = order.state
    order.state = to
    order.state_changed_at = now
    if to == OrderState.CANCELLED:
        if order.push_state == PushState.PUSHED or order.pushed_at is not None:
            # Already in the order system: it must be cancelled there too, so it goes back on the
            # reconciliation page instead of silently disappearing as "not handed back".
            order.push_state = PushState.PENDING
            order.push_reason = str(CANCELLED_AFTER_PUSH)[:300]
        else:
            order.push_state = PushState.SKIPPED
    order.save()
    holds = to in HOLDING_STATES
    if holds != (from_state in HOLDING_STATES):
        order.lines.update(holds_stock=holds)
    OrderEvent.objects.create(
        order=order,
        from_state=from_state,
        to_state=to,
        at=now,
        by=by,
        note=note,
        kind=event_kind,
        params=json_safe(event_params or {}),
    )
    _notify_customer(order, by=by)
    return order


@transaction.atomic
def confirm_order(*, order: ManualOrder, by: User) -> ManualOrder:
    return _move(_locked(order), OrderState.CONFIRMED, by=by)


@transaction.atomic
def cancel_order(*, order: ManualOrder, reason: str, by: User) -> ManualOrder:
    if not reason.strip():
        raise DomainError(OrderError.CANCEL_REASON_MISSING, field="reason")
    return _move(_locked(order), OrderState.CANCELLED, by=by, note=reason.strip()[:300])


@transaction.atomic
def allocate_order(
    *,
    order: ManualOrder,
    by: User,
    warehouse: Warehouse | None = None,
    carrier: str = "",
    note: str = "",
) -> ManualOrder:
    """Choose the warehouse and carrier by the first matching rule, or as staff override."""
    order = _locked(order)
    rule = selectors.matching_rule(order)
    if warehouse is None:
        if rule is None:
            raise DomainError(OrderError.NO_MATCHING_RULE, field="warehouse")
        warehouse = rule.warehouse
    order.warehouse = warehouse
    order.carrier = carrier.strip() or (rule.carrier if rule else "")
    if not order.carrier:
        raise DomainError(OrderError.CARRIER_MISSING, field="carrier")
    order.allocation_rule = rule
    order.allocation_overridden = rule is None or (
        order.warehouse_id != rule.warehouse_id or order.carrier != rule.carrier
    )
    return _move(
        order,
        OrderState.ALLOCATED,
        by=by,
        note=note.strip()[:300],
        event_kind=events.ALLOCATED_BY_HAND if order.allocation_overridden else events.ALLOCATED,
        event_params={"warehouse": order.warehouse.code, "carrier": order.carrier},
    )


@transaction.atomic
def dispatch_order(
    *, order: ManualOrder, tracking_number: str, carrier: str = "", by: User
) -> ManualOrder:
    order = _locked(order)
    if not tracking_number.strip():
        raise DomainError(OrderError.TRACKING_MISSING, field="tracking_number")
    order.tracking_number = tracking_number.strip()
    if carrier.strip():
        order.carrier = carrier.strip()
    return _move(
        order,
        OrderState.DISPATCHED,
        by=by,
        event_kind=events.DISPATCHED,
        event_params={"carrier": order.carrier, "tracking": order.tracking_number},
    )


@transaction.atomic
def deliver_order(*, order: ManualOrder, by: User) -> ManualOrder:
    return _move(_locked(order), OrderState.DELIVERED, by=by)


@transaction.atomic
def save_allocation_rule(
    *,
    name: str,
    warehouse: Warehouse,
    carrier: str,
    priority: int = 100,
    order_type: str = "",
    destination: str = "",
    active: bool = True,
    rule: AllocationRule | None = None,
    by: User,
) -> AllocationRule:
    rule = rule or AllocationRule()
    rule.name, rule.warehouse, rule.carrier = name, warehouse, carrier
    rule.priority, rule.order_type, rule.destination, rule.active = (
        priority,
        order_type,
        destination,
        active,
    )
    rule.full_clean()
    rule.save()
    return rule
