"""Returned goods back into the approved stock manual orders sell from."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.catalog.models import Location, Product, Warehouse
from apps.core.errors import DomainError
from apps.core.timeline import post_to_timeline

from ..choices import (
    StockSource,
)
from ..errors import InventoryError
from ..models import (
    ApprovedStock,
)
from ..resources import MAX_QTY
from .common import ZERO
from .entry import _qty

if TYPE_CHECKING:
    from apps.accounts.models import User

# --- returned goods ------------------------------------------------------------------------------
RETURN_ATTEMPTS = 3


@transaction.atomic
def return_to_stock(
    *,
    warehouse: Warehouse,
    product: Product,
    quantity: Decimal | int | str,
    reason: str,
    by: User,
    location: Location | None = None,
) -> ApprovedStock:
    """Add re-sellable returned units to the approved stock manual orders sell from.

    The units go to ``location`` or, when none is named, to the bin of ``warehouse`` that holds
    the most of the product now. As with an approval, the current row is kept (no longer
    current) and a new current row holds the sum, with who, when and why. The current rows are
    locked ``FOR UPDATE``; two returns at once add up, and a return racing the first stock row
    of a bin is retried.
    """
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(InventoryError.RETURN_REASON_MISSING, field="reason")
    try:
        qty = Decimal(str(quantity))
    except ArithmeticError:
        raise DomainError(InventoryError.RETURN_NOT_POSITIVE, field="quantity") from None
    if not qty.is_finite() or qty <= 0:
        raise DomainError(InventoryError.RETURN_NOT_POSITIVE, field="quantity")
    if product.counted_in_pieces and qty != qty.to_integral_value():
        raise DomainError(
            InventoryError.RETURN_NOT_WHOLE,
            params={"sku": product.sku, "qty": _qty(qty)},
            field="quantity",
        )
    if location is not None and location.warehouse_id != warehouse.pk:
        raise DomainError(
            InventoryError.RETURN_LOCATION_ELSEWHERE,
            params={"code": location.code, "warehouse": warehouse.code},
            field="location",
        )
    for attempt in range(RETURN_ATTEMPTS):
        try:
            with transaction.atomic():
                row = _add_returned(
                    warehouse=warehouse,
                    product=product,
                    quantity=qty,
                    reason=reason,
                    by=by,
                    location=location,
                )
            break
        except IntegrityError:
            # Another return (or an approval) made the bin's first current row meanwhile.
            if attempt == RETURN_ATTEMPTS - 1:
                raise DomainError(InventoryError.STOCK_BUSY, params={"sku": product.sku}) from None
    post_to_timeline(
        kind="inventory.returned_to_stock",
        sku=product.sku,
        quantity=_qty(qty),
        warehouse=warehouse.code,
        location=row.location.code,
        reason=reason,
        by=by,
        stock_id=row.pk,
    )
    return row


def _add_returned(
    *,
    warehouse: Warehouse,
    product: Product,
    quantity: Decimal,
    reason: str,
    by: User,
    location: Location | None,
) -> ApprovedStock:
    current_rows = ApprovedStock.objects.select_for_update().filter(
        is_current=True, warehouse=warehouse, product=product
    )
    list(current_rows.order_by("location_id").values_list("pk", flat=True))
    # A row superseded while this waited for its lock is skipped by that statement; read again
    # now that the rows are held, so a current row committed meanwhile is seen (and locked).
    current = list(current_rows.select_related("location").order_by("location_id"))
    if location is not None:
        previous = next((r for r in current if r.location_id == location.pk), None)
        target = location
    elif current:
        previous = min(current, key=lambda r: (-r.quantity, r.location.code))
        target = previous.location
    else:
        raise DomainError(
            InventoryError.RETURN_NEEDS_LOCATION,
            params={"sku": product.sku, "warehouse": warehouse.code},
            field="location",
        )
    total = (previous.quantity if previous is not None else ZERO) + quantity
    if total > MAX_QTY:
        raise DomainError(
            InventoryError.RETURN_TOO_LARGE,
            params={"qty": _qty(quantity), "max": _qty(MAX_QTY)},
            field="quantity",
        )
    if previous is not None:
        previous.is_current = False
        previous.save(update_fields=["is_current"])
    return ApprovedStock.objects.create(
        warehouse=warehouse,
        location=target,
        product=product,
        quantity=total,
        source=StockSource.RETURN,
        session=None,
        reason=reason,
        approved_at=timezone.now(),
        approved_by=by,
    )
