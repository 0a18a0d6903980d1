"""Resources an incident needs: request, allocate, release, cancel."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import DomainError, full_clean_or_refuse

from .. import events
from ..choices import RESOURCE_TRANSITIONS, ResourceState
from ..errors import IncidentsError
from ..models import Incident, ResourceAllocation
from .common import _not_before_declaration, _not_in_future, _require_open
from .timeline import post_event

if TYPE_CHECKING:
    from apps.accounts.models import User


@transaction.atomic
def request_resource(
    *,
    incident: Incident,
    kind: str,
    description: str,
    quantity: Decimal,
    by: User,
    unit: str = "",
    at: datetime | None = None,
) -> ResourceAllocation:

    _require_open(incident)
    at = at or timezone.now()
    _not_in_future(at, field="at")
    _not_before_declaration(at, incident, field="at")
    if quantity <= 0:
        raise DomainError(IncidentsError.QUANTITY_NOT_POSITIVE, field="quantity")
    resource = ResourceAllocation(
        incident=incident,
        kind=kind,
        description=description,
        quantity=quantity,
        unit=unit,
        requested_at=at,
        requested_by=by,
    )
    full_clean_or_refuse(resource)
    resource.save()
    post_event(
        incident=incident,
        kind=events.RESOURCE_REQUESTED,
        params=_resource_params(resource),
        by=by,
        data={"resource": resource.pk},
    )
    return resource


_RESOURCE_EVENT: dict[str, str] = {
    ResourceState.ALLOCATED: events.RESOURCE_ALLOCATED,
    ResourceState.RELEASED: events.RESOURCE_RELEASED,
    ResourceState.CANCELLED: events.RESOURCE_CANCELLED,
}


def _resource_params(resource: ResourceAllocation) -> dict[str, Any]:
    return {
        "kind": resource.kind,
        "description": resource.description,
        "quantity": str(resource.quantity),
    }


@transaction.atomic
def move_resource(
    *, resource: ResourceAllocation, to: str, by: User, at: datetime | None = None
) -> ResourceAllocation:
    """Allocate, release or cancel a resource request, recording when and by whom."""
    resource = ResourceAllocation.objects.select_for_update().get(pk=resource.pk)
    _require_open(resource.incident)
    if to not in ResourceState.values:
        raise DomainError(IncidentsError.UNKNOWN_STATE)
    if to not in RESOURCE_TRANSITIONS.get(resource.state, set()):
        raise DomainError(
            IncidentsError.RESOURCE_TRANSITION,
            params={"from": ResourceState(resource.state).label, "to": ResourceState(to).label},
        )
    at = at or timezone.now()
    _not_in_future(at, field="at")
    if at < resource.requested_at or (resource.allocated_at and at < resource.allocated_at):
        raise DomainError(IncidentsError.BEFORE_PREVIOUS_STEP, field="at")
    resource.state = to
    if to == ResourceState.ALLOCATED:
        resource.allocated_at, resource.allocated_by = at, by
    elif to == ResourceState.RELEASED:
        resource.released_at, resource.released_by = at, by
    resource.save()
    post_event(
        incident=resource.incident,
        kind=_RESOURCE_EVENT[to],
        params=_resource_params(resource),
        by=by,
        at=at,
        data={"resource": resource.pk, "state": to},
    )
    return resource
