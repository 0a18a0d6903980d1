"""Hand manual orders back to the restored order system, straight into its database.

Plain DB-API work on the order system's tables through the backups gateway
(``apps.backups.engine.gateway.connect``), no Django connection. Each manual order is inserted
under its own ``order_no`` (the manual order number) with ``ON CONFLICT (order_no) DO NOTHING``, so pushing twice inserts
nothing the second time; an order whose SKUs the restored system does not know is a conflict,
with the reason, and nothing of it is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apps.backups.engine.gateway import OrderDb, connect

PUSHED, CONFLICT = "pushed", "conflict"
# An arbitrary constant: pushes from several workers take turns at allocating ids.
ADVISORY_KEY = 5_000_001


@dataclass(frozen=True)
class PushItem:
    sku: str
    qty: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class PushOrder:
    order_no: str
    status: str
    total: Decimal
    ship_city: str
    ship_address: str
    created_at: object
    customer_name: str
    customer_phone: str
    customer_email: str
    customer_external_id: int | None
    items: tuple[PushItem, ...]


@dataclass(frozen=True)
class PushOutcome:
    order_no: str
    state: str  # PUSHED or CONFLICT
    reason: str
    created: bool = False


# Work other apps hand to the hand-back once the order system is restored (customer care's
# change and cancellation requests): ``func(url=..., by=...) -> dict[str, int]``, registered
# from their ``AppConfig.ready``; the push job runs each after pushing the manual orders.
_AFTER_PUSH: dict[str, Callable[..., dict[str, int]]] = {}


def register_after_push(name: str, func: Callable[..., dict[str, int]]) -> None:
    _AFTER_PUSH[name] = func


def run_after_push(*, url: str | None = None, by: Any = None) -> dict[str, int]:
    """Run every registered hand-back step; their counts are merged into the push's result."""
    counts: dict[str, int] = {}
    for func in _AFTER_PUSH.values():
        counts.update(func(url=url, by=by))
    return counts


def _next_id(db: OrderDb, table: str) -> int:
    return int(db.q(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")[0][0])  # noqa: S608


def _customer_id(db: OrderDb, order: PushOrder) -> int:
    if order.customer_external_id is not None:
        rows = db.q("SELECT id FROM customers WHERE id = %s", (order.customer_external_id,))
        if rows:
            return rows[0][0]
    rows = db.q(
        "SELECT id FROM customers WHERE phone = %s ORDER BY id LIMIT 1", (order.customer_phone,)
    )
    if rows:
        return rows[0][0]
    new_id = _next_id(db, "customers")
    db.q(
        "INSERT INTO customers (id, name, phone, email, city, address, vip, created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            new_id,
            order.customer_name,
            order.customer_phone,
            order.customer_email or None,
            order.ship_city or "-",
            order.ship_address,
            False,
            order.created_at,
        ),
    )
    return new_id


def push_orders(url: str, orders: list[PushOrder]) -> list[PushOutcome]:
    """Insert each order (with its items and, when unknown, its customer) once."""
    db = connect(url)
    outcomes: list[PushOutcome] = []
    try:
        skus = sorted({item.sku for order in orders for item in order.items})
        known: dict[str, int] = {}
        for i in range(0, len(skus), 1000):
            chunk = skus[i : i + 1000]
            marks = ",".join(["%s"] * len(chunk))
            for pid, sku in db.q(f"SELECT id, sku FROM products WHERE sku IN ({marks})", chunk):  # noqa: S608
                known[sku] = pid
        for order in orders:
            unknown = sorted({item.sku for item in order.items if item.sku not in known})
            if unknown:
                outcomes.append(
                    PushOutcome(order.order_no, CONFLICT, "unknown_sku:" + ",".join(unknown))
                )
                continue
            with db.transaction(lock_key=ADVISORY_KEY):
                rows = db.q("SELECT total FROM orders WHERE order_no = %s", (order.order_no,))
                if rows:
                    same = Decimal(str(rows[0][0])) == order.total
                    outcomes.append(
                        PushOutcome(
                            order.order_no,
                            PUSHED if same else CONFLICT,
                            "already_there" if same else f"different_total:{rows[0][0]}",
                        )
                    )
                    continue
                customer_id = _customer_id(db, order)
                order_id = _next_id(db, "orders")
                inserted = db.q(
                    "INSERT INTO orders (id, order_no, customer_id, status, total, ship_city, "
                    "ship_address, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (order_no) DO NOTHING RETURNING id",
                    (
                        order_id,
                        order.order_no,
                        customer_id,
                        order.status,
                        order.total,
                        order.ship_city or "-",
                        order.ship_address,
                        order.created_at,
                    ),
                )
                if not inserted:
                    outcomes.append(PushOutcome(order.order_no, PUSHED, "already_there"))
                    continue
                item_id = _next_id(db, "order_items")
                for n, item in enumerate(order.items):
                    db.q(
                        "INSERT INTO order_items (id, order_id, product_id, qty, unit_price, "
                        "line_total) VALUES (%s, %s, %s, %s, %s, %s)",
                        (
                            item_id + n,
                            order_id,
                            known[item.sku],
                            item.qty,
                            item.unit_price,
                            item.line_total,
                        ),
                    )
                outcomes.append(PushOutcome(order.order_no, PUSHED, "", created=True))
    finally:
        db.close()
    return outcomes


def read_reference(url: str) -> tuple[list[dict], list[dict]]:
    """The order system's products and customers, read as plain rows."""
    db = connect(url)
    try:
        products = [
            dict(zip(("sku", "name", "category", "price", "unit", "active"), row, strict=True))
            for row in db.q(
                "SELECT sku, name, category, price, unit, active FROM products ORDER BY id"
            )
        ]
        customers = [
            dict(
                zip(
                    ("external_id", "name", "phone", "email", "city", "address", "vip"),
                    row,
                    strict=True,
                )
            )
            for row in db.q(
                "SELECT id, name, phone, email, city, address, vip FROM customers ORDER BY id"
            )
        ]
    finally:
        db.close()
    return products, customers
