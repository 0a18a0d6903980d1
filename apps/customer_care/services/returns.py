"""Returns and exchanges (RMAs): opened on a case, received with each item's condition; what
is re-sellable goes back into stock through the stock counts' service, once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import events
from ..choices import Condition, RmaKind, RmaState
from ..errors import CareError
from ..models import Case, Rma, RmaLine
from .common import lock_case, record, refuse, save_case

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.catalog.models import Product, Warehouse


@dataclass(frozen=True)
class ReturnedItem:
    product: Product
    quantity: int


def open_rma(
    *,
    case: Case,
    kind: str,
    warehouse: Warehouse,
    reason: str,
    items: list[ReturnedItem],
    by: User,
    idempotency_key: uuid.UUID | str,
    order_number: str = "",
) -> Rma:
    """Open a return (or exchange) on its case: what comes back and where it goes."""
    key = uuid.UUID(str(idempotency_key))
    existing = Rma.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    if kind not in RmaKind.values:
        raise refuse(CareError.RMA_NO_LINES, field="kind")
    items = [i for i in items if i.quantity]
    if not items:
        raise refuse(CareError.RMA_NO_LINES)
    if any(i.quantity < 0 for i in items):
        raise refuse(CareError.RMA_NO_LINES)
    if not reason.strip():
        raise refuse(CareError.REASON_REQUIRED, field="reason")
    try:
        with transaction.atomic():
            case = lock_case(case)
            rma = Rma.objects.create(
                case=case,
                kind=kind,
                warehouse=warehouse,
                reason=reason.strip()[:300],
                order_number=order_number.strip()[:40],
                idempotency_key=key,
                created_by=by,
            )
            RmaLine.objects.bulk_create(
                [RmaLine(rma=rma, product=i.product, quantity=i.quantity) for i in items]
            )
            record(case, events.RMA_OPENED, by=by, rma=rma.reference)
            save_case(case)
            return rma
    except IntegrityError:
        existing = Rma.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return existing


@transaction.atomic
def receive_rma(*, rma: Rma, conditions: dict[int, str], by: User) -> Rma:
    """Record each item's condition on receipt; re-sellable items go back into stock.

    The RMA row is locked and must still be open: a second receipt (a double click, a retry)
    is refused, so goods are returned to stock once.
    """
    from apps.inventory_counts.services import return_to_stock

    rma = Rma.objects.select_for_update().select_related("warehouse").get(pk=rma.pk)
    if rma.state != RmaState.OPEN:
        raise refuse(CareError.RMA_RECEIVED, rma=rma.reference)
    restocked = 0
    for line in rma.lines.select_related("product"):
        condition = conditions.get(line.pk, "")
        if condition not in Condition.values:
            raise refuse(CareError.RMA_CONDITION, field=f"condition_{line.pk}")
        line.condition = condition
        if condition == Condition.RESELLABLE:
            return_to_stock(
                warehouse=rma.warehouse,
                product=line.product,
                quantity=line.quantity,
                reason=f"{rma.reference} ({rma.case.reference})",
                by=by,
            )
            line.restocked = line.quantity
            restocked += line.quantity
        line.save(update_fields=["condition", "restocked"])
    rma.state = RmaState.RECEIVED
    rma.received_by, rma.received_at = by, timezone.now()
    rma.save()
    case = lock_case(rma.case_id)
    record(case, events.RMA_RECEIVED, by=by, rma=rma.reference, restocked=restocked)
    save_case(case)
    return rma
