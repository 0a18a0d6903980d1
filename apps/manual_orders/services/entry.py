"""Taking an order: idempotent, priced, checked against stock, flagged when it looks like a
duplicate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError

from .. import selectors
from ..choices import (
    OrderChannel,
    OrderState,
    OrderType,
)
from ..errors import OrderError
from ..models import (
    MAX_LINE_QUANTITY,
    Customer,
    ManualOrder,
    OrderEvent,
    OrderLine,
    OrderNumberCounter,
    ProductPrice,
)
from .common import CENT, DuplicateSuspected, StockShort, block_on_no_stock, duplicate_window
from .customers import create_customer
from .notify import _notify_customer

if TYPE_CHECKING:
    from apps.accounts.models import User


# --- order entry ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LineInput:
    product_id: int
    quantity: int
    unit_price: Decimal | None = None  # None: the reference price
    price_reason: str = ""


@dataclass
class PlacedOrder:
    order: ManualOrder
    created: bool
    warnings: list[str] = field(default_factory=list)


def next_order_number(now: datetime | None = None) -> str:
    """``M20261125-000123``: the day it was taken and a number that never repeats."""
    now = timezone.localtime(now or timezone.now())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval('manual_orders_number_seq')")
            value = cursor.fetchone()[0]
    else:
        counter, _created = OrderNumberCounter.objects.get_or_create(pk=1)
        OrderNumberCounter.objects.filter(pk=1).update(last=F("last") + 1)
        counter.refresh_from_db()
        value = counter.last
    return f"M{now:%Y%m%d}-{value:06d}"


def _priced_products(lines: list[LineInput], *, lock: bool) -> dict[int, ProductPrice]:
    qs = ProductPrice.objects.select_related("product").filter(
        product_id__in={line.product_id for line in lines}
    )
    if lock:
        # One row per product, locked in a fixed order: concurrent orders never oversell and
        # never deadlock.
        qs = qs.select_for_update(of=("self",)).order_by("product_id")
    return {p.product_id: p for p in qs}


def _likely_duplicate(
    *, customer: Customer, items: dict[int, int], key: uuid.UUID
) -> ManualOrder | None:
    since = timezone.now() - duplicate_window()
    candidates = (
        ManualOrder.objects.filter(customer=customer, created_at__gte=since)
        .exclude(state=OrderState.CANCELLED)
        .exclude(idempotency_key=key)
        .prefetch_related("lines")
        .order_by("-pk")[:20]
    )
    for candidate in candidates:
        theirs: dict[int, int] = {}
        for line in candidate.lines.all():
            theirs[line.product_id] = theirs.get(line.product_id, 0) + line.quantity
        if theirs == items:
            return candidate
    return None


def place_order(
    *,
    idempotency_key: uuid.UUID | str,
    customer: Customer,
    channel: str,
    lines: list[LineInput],
    delivery_address: str,
    delivery_city: str = "",
    received_at: datetime | None = None,
    order_type: str = OrderType.STANDARD,
    email_reference: str = "",
    notes: str = "",
    confirm_duplicate: bool = False,
    by: User,
) -> PlacedOrder:
    """Take one order. The same idempotency key always gives the same single order, however
    often (or however concurrently) it is submitted."""
    key = uuid.UUID(str(idempotency_key))
    existing = ManualOrder.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return PlacedOrder(existing, created=False)
    if channel not in OrderChannel.values:
        raise DomainError(OrderError.CHANNEL_MISSING, field="channel")
    if not delivery_address.strip():
        raise DomainError(OrderError.ADDRESS_MISSING, field="delivery_address")
    if not lines:
        raise DomainError(OrderError.NO_LINES)
    items: dict[int, int] = {}
    for line in lines:
        _check_line(line)
        items[line.product_id] = items.get(line.product_id, 0) + line.quantity
    blocking = block_on_no_stock()
    try:
        with transaction.atomic():
            placed = _place(
                key=key,
                customer=customer,
                channel=channel,
                lines=lines,
                items=items,
                delivery_address=delivery_address.strip(),
                delivery_city=delivery_city.strip(),
                received_at=received_at or timezone.now(),
                order_type=order_type,
                email_reference=email_reference,
                notes=notes,
                confirm_duplicate=confirm_duplicate,
                blocking=blocking,
                by=by,
            )
    except IntegrityError:
        # A concurrent submission with the same key committed first: that order is this one.
        existing = ManualOrder.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return PlacedOrder(existing, created=False)
    return placed


def _check_line(line: LineInput) -> None:
    """Every line names one product and a whole quantity the entry form parsed and bounded: no
    line is ever taken with a guessed product or a quantity nobody confirmed."""
    if not isinstance(line.product_id, int) or isinstance(line.product_id, bool):
        raise DomainError(OrderError.LINE_WITHOUT_PRODUCT)
    quantity = line.quantity
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise DomainError(OrderError.QUANTITY_NOT_WHOLE)
    if quantity <= 0:
        raise DomainError(OrderError.QUANTITY_TOO_SMALL)
    if quantity > MAX_LINE_QUANTITY:
        raise DomainError(OrderError.QUANTITY_TOO_LARGE, params={"max": f"{MAX_LINE_QUANTITY:,}"})


class _AlreadyPlaced(Exception):
    """Raised inside the atomic block to roll back a new customer when the order already exists."""

    def __init__(self, placed: PlacedOrder) -> None:
        super().__init__()
        self.placed = placed


def place_order_for_new_customer(
    *, idempotency_key: uuid.UUID | str, new_customer: dict[str, Any], by: User, **order_fields: Any
) -> PlacedOrder:
    """Create the customer and take the order in one transaction. The idempotency key is checked
    first (a double submit returns the existing order and creates nobody); a refused order rolls
    the new customer back, so a retry never leaves an orphan or a duplicate customer."""
    key = uuid.UUID(str(idempotency_key))
    try:
        with transaction.atomic():
            existing = ManualOrder.objects.filter(idempotency_key=key).first()
            if existing is not None:
                return PlacedOrder(existing, created=False)
            customer = create_customer(**new_customer, by=by)
            placed = place_order(idempotency_key=key, customer=customer, by=by, **order_fields)
            if not placed.created:
                # A concurrent submission with the same key won: drop the customer made here.
                raise _AlreadyPlaced(placed)
            return placed
    except _AlreadyPlaced as exc:
        return exc.placed


def _place(
    *,
    key: uuid.UUID,
    customer: Customer,
    channel: str,
    lines: list[LineInput],
    items: dict[int, int],
    blocking: bool,
    confirm_duplicate: bool,
    by: User,
    **fields: Any,
) -> PlacedOrder:
    prices = _priced_products(lines, lock=blocking)
    warnings: list[str] = []
    for line in lines:
        price = prices.get(line.product_id)
        if price is None or not price.product.active:
            raise DomainError(OrderError.NOT_FOR_SALE)
    # Stock: approved counted stock minus what open orders hold (rows locked above when blocking).
    available = selectors.available_stock(items)
    short = []
    for product_id, quantity in items.items():
        if available[product_id] < quantity:
            product = prices[product_id].product
            short.append(
                _("%(sku)s: %(wanted)s wanted, %(available)s available.")
                % {
                    "sku": product.sku,
                    "wanted": quantity,
                    "available": available[product_id].normalize(),
                }
            )
    if short and blocking:
        raise StockShort(params={"lines": " ".join(str(s) for s in short)})
    warnings.extend(str(s) for s in short)
    duplicate = _likely_duplicate(customer=customer, items=items, key=key)
    if duplicate is not None and not confirm_duplicate:
        raise DuplicateSuspected(duplicate)

    now = timezone.now()
    order = ManualOrder(
        number=next_order_number(now),
        idempotency_key=key,
        customer=customer,
        channel=channel,
        created_by=by,
        created_at=now,
        state_changed_at=now,
        stock_short=bool(short),
        possible_duplicate_of=duplicate,
        **fields,
    )
    built: list[OrderLine] = []
    total = Decimal("0")
    for line in lines:
        price = prices[line.product_id]
        unit_price = price.price if line.unit_price is None else line.unit_price
        reason = line.price_reason.strip()
        if unit_price != price.price:
            if not by.has_perm("manual_orders.override_price"):
                raise DomainError(OrderError.PRICE_CHANGE_FORBIDDEN)
            if not reason:
                raise DomainError(
                    OrderError.PRICE_REASON_MISSING, params={"sku": price.product.sku}
                )
            if unit_price < 0:
                raise DomainError(OrderError.NEGATIVE_PRICE)
        line_total = (unit_price * line.quantity).quantize(CENT)
        total += line_total
        built.append(
            OrderLine(
                product_id=line.product_id,
                sku=price.product.sku,
                name=price.product.name,
                quantity=line.quantity,
                list_price=price.price,
                unit_price=unit_price,
                price_override_reason=reason if unit_price != price.price else "",
                line_total=line_total,
            )
        )
    order.total = total
    with transaction.atomic():  # a savepoint: a duplicate key rolls back to here
        order.save(force_insert=True)
    for built_line in built:
        built_line.order = order
    OrderLine.objects.bulk_create(built)
    OrderEvent.objects.create(
        order=order, from_state="", to_state=OrderState.CAPTURED, at=now, by=by
    )
    _notify_customer(order, by=by)
    return PlacedOrder(order, created=True, warnings=warnings)


def take_order(
    *,
    customer: Customer | None,
    new_customer: dict[str, Any] | None = None,
    by: User,
    **order_fields: Any,
) -> PlacedOrder:
    """The entry page's one call: an order for a known customer, or for one taken down now."""
    if customer is not None:
        return place_order(customer=customer, by=by, **order_fields)
    return place_order_for_new_customer(new_customer=new_customer or {}, by=by, **order_fields)
