"""Use cases of manual orders: each one transaction, each state change attributed, timestamped
and told to the customer in the customer's language."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.backups.engine import gateway
from apps.catalog import services as catalog
from apps.catalog.models import Warehouse
from apps.core.choices import Channel
from apps.core.errors import DomainError, full_clean_or_refuse
from apps.core.events import json_safe
from apps.core.jobs import start_job
from apps.core.notifications import send_notification
from apps.core.timeline import post_to_timeline

from . import events, selectors
from .choices import (
    HOLDING_STATES,
    TRANSITIONS,
    ImportState,
    NotifyBy,
    OrderChannel,
    OrderState,
    OrderType,
    PushState,
)
from .errors import OrderError
from .models import (
    MAX_LINE_QUANTITY,
    AllocationRule,
    Customer,
    ManualOrder,
    OrderEvent,
    OrderLine,
    OrderNumberCounter,
    ProductPrice,
    ReferenceImport,
)

CENT = Decimal("0.01")

if TYPE_CHECKING:
    from apps.accounts.models import User


# --- settings --------------------------------------------------------------------------------------
def block_on_no_stock() -> bool:
    return settings.MANUAL_ORDERS_BLOCK_ON_NO_STOCK


def duplicate_window() -> timedelta:
    return timedelta(minutes=settings.MANUAL_ORDERS_DUPLICATE_WINDOW_MINUTES)


# --- errors ----------------------------------------------------------------------------------------
class DuplicateSuspected(DomainError):
    """The same customer ordered the same items a short while ago: the operator must confirm."""

    def __init__(self, existing: ManualOrder) -> None:
        super().__init__(
            OrderError.DUPLICATE_SUSPECTED,
            params={
                "number": existing.number,
                "minutes": max(
                    0, int((timezone.now() - existing.created_at).total_seconds() // 60)
                ),
            },
            field="confirm_duplicate",
        )
        self.existing = existing


class StockShort(DomainError):
    """Not enough stock while ``MANUAL_ORDERS_BLOCK_ON_NO_STOCK`` refuses short orders."""

    default_code = OrderError.STOCK_SHORT


CANCELLED_AFTER_PUSH = _(
    "Cancelled after it was handed back: cancel it in the order system as well."
)
CHANGED_DURING_PUSH = _(
    "Changed while it was handed back: check it in the order system and update it there."
)


# --- customers ---------------------------------------------------------------------------------------
@transaction.atomic
def create_customer(
    *,
    name: str,
    phone: str,
    email: str = "",
    city: str = "",
    address: str = "",
    vip: bool = False,
    language: str = "zh-hans",
    notify_by: str = NotifyBy.BOTH,
    by,
) -> Customer:
    customer = Customer(
        name=name.strip(),
        phone=phone.strip().replace(" ", ""),
        email=email.strip(),
        city=city.strip(),
        address=address.strip(),
        vip=vip,
        language=language,
        notify_by=notify_by,
    )
    full_clean_or_refuse(customer)
    customer.save()
    return customer


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
    by,
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
    *, idempotency_key: uuid.UUID | str, new_customer: dict, by, **order_fields
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
    *, key, customer, channel, lines, items, blocking, confirm_duplicate, by, **fields
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
    for line in built:
        line.order = order
    OrderLine.objects.bulk_create(built)
    OrderEvent.objects.create(
        order=order, from_state="", to_state=OrderState.CAPTURED, at=now, by=by
    )
    _notify_customer(order, by=by)
    return PlacedOrder(order, created=True, warnings=warnings)


# --- after entry --------------------------------------------------------------------------------------
def allowed_next_states(order: ManualOrder) -> list[str]:
    return [s for s in OrderState.values if s in TRANSITIONS[order.state]]


def _locked(order: ManualOrder) -> ManualOrder:
    return ManualOrder.objects.select_for_update().select_related("customer").get(pk=order.pk)


def _move(
    order: ManualOrder,
    to: str,
    *,
    by,
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
def confirm_order(*, order: ManualOrder, by) -> ManualOrder:
    return _move(_locked(order), OrderState.CONFIRMED, by=by)


@transaction.atomic
def cancel_order(*, order: ManualOrder, reason: str, by) -> ManualOrder:
    if not reason.strip():
        raise DomainError(OrderError.CANCEL_REASON_MISSING, field="reason")
    return _move(_locked(order), OrderState.CANCELLED, by=by, note=reason.strip()[:300])


@transaction.atomic
def allocate_order(
    *,
    order: ManualOrder,
    by,
    warehouse: Warehouse | None = None,
    carrier: str = "",
    note: str = "",
) -> ManualOrder:
    """Choose the warehouse and carrier by the first matching rule, or as staff override."""
    order = _locked(order)
    rule = selectors.matching_rule(order)
    if warehouse is None and rule is None:
        raise DomainError(OrderError.NO_MATCHING_RULE, field="warehouse")
    order.warehouse = warehouse or rule.warehouse
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
    *, order: ManualOrder, tracking_number: str, carrier: str = "", by
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
def deliver_order(*, order: ManualOrder, by) -> ManualOrder:
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
    by,
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


def _notify_customer(order: ManualOrder, *, by) -> None:
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
            body=MESSAGES[order.state],
            params=params,
            by=by,
        )


def record_hand_back(*, pushed: int, conflicts: int, by) -> None:
    post_to_timeline(
        kind=events.HAND_BACK,
        pushed=pushed,
        conflicts=conflicts,
        by=by,
    )


# --- reference data -------------------------------------------------------------------------------
PREVIEW_ROWS = 50
ERRORS_KEPT = 500


def _check_reference(imp: ReferenceImport, *, dry_run: bool, by: User | None = None, progress=None):
    from apps.core.tabular import read_dataset

    from .resources import REFERENCE_RESOURCES

    # Bounded while it streams; any reason it cannot be read is a DomainError naming it.
    # The bytes are held by no model instance, so they are freed once the file has been read.
    content = ReferenceImport.objects.values_list("content", flat=True).get(pk=imp.pk)
    dataset = read_dataset(bytes(content), imp.input_format, progress=progress)
    del content
    if progress:
        progress(10, _("Checking %(n)s rows") % {"n": len(dataset)})
    if dataset.headers:
        dataset.headers = [str(h or "").strip().lower() for h in dataset.headers]
    resource = REFERENCE_RESOURCES[imp.kind](progress=progress, by=by)
    result = resource.import_data(
        dataset, dry_run=dry_run, raise_errors=False, use_transactions=True
    )
    errors: list[dict] = []
    for row in result.invalid_rows:
        for field_name, messages in row.error_dict.items():
            for message in messages:
                errors.append({"row": row.number, "field": field_name, "error": str(message)})
    for number, row_errors in result.row_errors():
        for error in row_errors:
            errors.append({"row": number, "field": "", "error": str(error.error)})
    errors.sort(key=lambda e: (e["row"], e["field"]))
    return dataset, result, errors


@transaction.atomic
def upload_reference(
    *, kind: str, content: bytes, name: str, input_format: str, by
) -> ReferenceImport:
    """Keep an uploaded reference file and check all of it on a worker (a tracked job that
    writes nothing); the page shows the job's progress, then the preview and row errors."""
    imp = ReferenceImport(
        kind=kind,
        content=content,
        original_name=name[:255],
        input_format=input_format,
        state=ImportState.CHECKING,
        created_by=by,
    )
    imp.full_clean(exclude=["content", "job"])
    imp.save()
    job = start_job(
        kind="manual_orders.reference_check",
        title=_("Check %(name)s") % {"name": imp.original_name},
        func="apps.manual_orders.jobs.check_reference_job",
        kwargs={"import_id": imp.pk},
        by=by,
    )
    ReferenceImport.objects.filter(pk=imp.pk).update(job=job)
    return ReferenceImport.objects.defer("content").get(pk=imp.pk)


def check_reference(*, import_id: int, progress=None) -> dict:
    """The dry run of an uploaded reference file, on a worker. Whatever stops it (an unreadable
    or too large file, a crash), the file ends FAILED with the reason instead of "checking"."""
    try:
        with transaction.atomic():
            imp = ReferenceImport.objects.select_for_update().defer("content").get(pk=import_id)
            if imp.state != ImportState.CHECKING:
                raise DomainError(OrderError.REFERENCE_NOT_CHECKING)
            dataset, result, errors = _check_reference(imp, dry_run=True, progress=progress)
            imp.total_rows = len(dataset)
            imp.errors = errors[:ERRORS_KEPT]
            imp.state = ImportState.HAS_ERRORS if errors else ImportState.CHECKED
            imp.preview = {
                "headers": list(dataset.headers or []),
                "rows": [
                    [str(v) if v is not None else "" for v in row] for row in dataset[:PREVIEW_ROWS]
                ],
                "actions": [str(r.import_type) for r in result.rows[:PREVIEW_ROWS]],
            }
            imp.save(update_fields=["total_rows", "errors", "state", "preview"])
    except Exception as exc:
        reason = str(exc) if isinstance(exc, DomainError) else exc.__class__.__name__
        mark_reference_failed(import_id=import_id, reason=reason)
        raise
    return {"rows": imp.total_rows, "errors": len(errors), "state": imp.state}


def mark_reference_failed(*, import_id: int, reason: str) -> bool:
    """A file whose check stopped (unreadable, too large, or its worker died) says why."""
    return bool(
        ReferenceImport.objects.filter(pk=import_id, state=ImportState.CHECKING).update(
            state=ImportState.FAILED,
            errors=[{"row": None, "field": "", "error": str(reason)}],
        )
    )


def confirm_reference_import(*, imp: ReferenceImport, by, progress=None) -> ReferenceImport:
    """Write a checked file: every row or, if any row turned out wrong, none."""
    with transaction.atomic():
        imp = ReferenceImport.objects.select_for_update().defer("content").get(pk=imp.pk)
        if imp.state != ImportState.CHECKED:
            raise DomainError(OrderError.REFERENCE_NOT_CHECKED)
        _dataset, _result, errors = _check_reference(
            imp, dry_run=False, by=by or imp.created_by, progress=progress
        )
        if errors:
            transaction.set_rollback(True)
            raise DomainError(OrderError.REFERENCE_HAS_ERRORS)
        imp.state = ImportState.IMPORTED
        imp.imported_at = timezone.now()
        imp.save(update_fields=["state", "imported_at"])
    return imp


def load_reference_from_order_system(
    *, url: str | None = None, by: User | None = None, progress=None
) -> dict[str, int]:
    """Products (with prices) and customers straight from the order system's database."""
    from .handback import read_reference

    url = url or settings.ORDER_SYSTEM_DATABASE_URL
    try:
        products, customers = read_reference(url)
    except gateway.DB_ERRORS as exc:
        if not gateway.is_missing_table(exc):
            raise DomainError(
                OrderError.ORDER_SYSTEM_UNREADABLE, params={"error": str(exc)}
            ) from exc
        raise DomainError(OrderError.ORDER_SYSTEM_EMPTY) from exc
    if progress:
        progress(
            40,
            _("Read %(p)s products and %(c)s customers.")
            % {"p": len(products), "c": len(customers)},
        )
    with transaction.atomic():
        ids = catalog.upsert_products(
            products=[
                catalog.ProductData(
                    sku=p["sku"],
                    name=p["name"],
                    category=p["category"] or "",
                    unit=p["unit"] or "pcs",
                    active=bool(p["active"]),
                )
                for p in products
            ],
            by=by,
            reason="order system reference",
        ).ids
        ProductPrice.objects.bulk_create(
            [
                ProductPrice(product_id=ids[p["sku"]], price=Decimal(str(p["price"])))
                for p in products
            ],
            update_conflicts=True,
            unique_fields=["product"],
            update_fields=["price", "updated_at"],
            batch_size=2000,
        )
        Customer.objects.bulk_create(
            [
                Customer(
                    external_id=c["external_id"],
                    name=c["name"],
                    phone=c["phone"],
                    email=c["email"] or "",
                    city=c["city"] or "",
                    address=c["address"] or "",
                    vip=bool(c["vip"]),
                )
                for c in customers
            ],
            update_conflicts=True,
            unique_fields=["external_id"],
            update_fields=["name", "phone", "email", "city", "address", "vip"],
            batch_size=2000,
        )
    return {"products": len(products), "customers": len(customers)}


def load_reference_from_latest_backup(*, by: User | None = None, progress=None) -> dict[str, int]:
    """The same load, from the newest intact products and users backups (the backups app
    restores them into a throw-away database first), for when the order system is down."""
    from apps.backups.services import latest_backups_opened

    with latest_backups_opened(slugs=["products", "users"], progress=progress) as url:
        return load_reference_from_order_system(url=url, by=by, progress=progress)


# --- hand-back ----------------------------------------------------------------------------------------
# The restored system's status for each manual order state.
PUSH_STATUS = {
    OrderState.CAPTURED: "pending",
    OrderState.CONFIRMED: "pending",
    OrderState.ALLOCATED: "paid",
    OrderState.DISPATCHED: "shipped",
    OrderState.DELIVERED: "delivered",
}


def _reason_text(code: str) -> str:
    kind, _sep, detail = code.partition(":")
    if kind == "unknown_sku":
        return str(_("SKU unknown to the restored system: %(skus)s") % {"skus": detail})
    if kind == "different_total":
        return str(
            _("The restored system has this order with a different total (%(total)s).")
            % {"total": detail}
        )
    if kind == "already_there":
        return str(_("Already in the restored system."))
    return code


def push_to_order_system(
    *,
    by,
    url: str | None = None,
    order_ids: list[int] | None = None,
    progress=None,
    batch: int = 500,
) -> dict[str, int]:
    """Insert every pending (or conflicting) manual order into the restored order system once,
    and record per order whether it was pushed or why it conflicts."""
    from .handback import PushItem, PushOrder, push_orders

    url = url or settings.ORDER_SYSTEM_DATABASE_URL
    ManualOrder.objects.filter(state=OrderState.CANCELLED, pushed_at__isnull=True).exclude(
        push_state=PushState.SKIPPED
    ).update(push_state=PushState.SKIPPED)
    qs = (
        ManualOrder.objects.filter(push_state__in=[PushState.PENDING, PushState.CONFLICT])
        .exclude(state=OrderState.CANCELLED)
        .select_related("customer")
        .prefetch_related("lines")
        .order_by("pk")
    )
    if order_ids is not None:
        qs = qs.filter(pk__in=order_ids)
    counts = {"pushed": 0, "created": 0, "conflict": 0}
    ids = list(qs.values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        orders = list(qs.filter(pk__in=ids[start : start + batch]))
        payload = [
            PushOrder(
                order_no=o.external_reference,
                status=PUSH_STATUS[o.state],
                total=o.total,
                ship_city=o.delivery_city,
                ship_address=o.delivery_address,
                created_at=o.received_at,
                customer_name=o.customer.name,
                customer_phone=o.customer.phone,
                customer_email=o.customer.email,
                customer_external_id=o.customer.external_id,
                items=tuple(
                    PushItem(line.sku, line.quantity, line.unit_price, line.line_total)
                    for line in o.lines.all()
                ),
            )
            for o in orders
        ]
        outcomes = {out.order_no: out for out in push_orders(url, payload)}
        now = timezone.now()
        for o in orders:
            out = outcomes[o.number]
            reason = _reason_text(out.reason) if out.reason else ""
            # Only the order as it was read: one cancelled or changed meanwhile is not overwritten.
            unchanged = ManualOrder.objects.filter(pk=o.pk, state=o.state, push_state=o.push_state)
            if out.state == "pushed":
                counts["pushed"] += 1
                counts["created"] += int(out.created)
                if not unchanged.update(
                    push_state=PushState.PUSHED, push_reason=reason[:300], pushed_at=now
                ):
                    # It is in the order system now, but changed here while it was pushed.
                    ManualOrder.objects.filter(pk=o.pk).update(
                        push_state=PushState.PENDING,
                        push_reason=str(CHANGED_DURING_PUSH)[:300],
                        pushed_at=now,
                    )
            else:
                counts["conflict"] += 1
                unchanged.update(push_state=PushState.CONFLICT, push_reason=reason[:300])
        if progress:
            progress(int(100 * min(len(ids), start + batch) / max(1, len(ids))))
    record_hand_back(pushed=counts["pushed"], conflicts=counts["conflict"], by=by)
    return counts


def export_orders(*, file_format: str, push_state: str = "", state: str = "") -> tuple[bytes, str]:
    """The order lines for re-entry, in CSV, XLSX or JSON: (content, content type). Cells that
    a spreadsheet would run as formulas are neutralised (``apps.core.tabular``)."""
    from apps.core.tabular import export_content

    from .resources import EXPORT_FORMATS, OrderLineExportResource, formats

    fmt = formats(EXPORT_FORMATS).get(file_format)
    if fmt is None:
        raise DomainError(OrderError.UNKNOWN_EXPORT_FORMAT, field="file_format")
    qs = OrderLine.objects.select_related("order", "order__customer").order_by("order_id", "pk")
    if push_state:
        qs = qs.filter(order__push_state=push_state)
    if state:
        qs = qs.filter(order__state=state)
    return export_content(OrderLineExportResource(), qs, fmt), fmt.get_content_type()
