"""Read-side queries of manual orders: stock available to sell, the order list, pick lists."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from apps.catalog.models import Product, Warehouse
from apps.inventory_counts.selectors import approved_stock_map

from .choices import OrderState, PushState
from .models import AllocationRule, Customer, ManualOrder, OrderLine

ZERO = Decimal("0")
PAGE_SIZE = 50


def held_quantities(product_ids: Iterable[int]) -> dict[int, int]:
    """What open manual orders (captured, confirmed, allocated) hold, per product."""
    rows = (
        OrderLine.objects.filter(product_id__in=list(product_ids), holds_stock=True)
        .values("product_id")
        .annotate(held=Sum("quantity"))
    )
    return {row["product_id"]: row["held"] for row in rows}


def available_stock(product_ids: Iterable[int]) -> dict[int, Decimal]:
    """Approved counted stock minus what open manual orders hold: {product_id: quantity}."""
    ids = list(product_ids)
    approved = approved_stock_map(ids)
    held = held_quantities(ids)
    return {pid: approved.get(pid, ZERO) - held.get(pid, 0) for pid in ids}


def search_customers(q: str, *, limit: int = 10, anywhere: bool = True) -> QuerySet[Customer]:
    """As the operator types: a phone number or a name. ``anywhere`` also matches the end of a
    phone number and a name's middle (scans the customers; the order list uses prefixes only,
    which the indexes answer)."""
    q = q.strip()
    if not q:
        return Customer.objects.none()
    digits = q.replace(" ", "").replace("-", "")
    if digits.lstrip("+").isdigit():
        cond = Q(phone__startswith=digits)
        if anywhere and len(digits) >= 4:
            cond |= Q(phone__endswith=digits)
    else:
        cond = Q(name__startswith=q)
        if anywhere:
            cond |= Q(name__icontains=q)
    return Customer.objects.filter(cond).order_by("-vip", "name", "pk")[:limit]


def search_products(q: str, *, limit: int = 10) -> list[dict]:
    """Active, priced products by SKU or name, with their price and available stock."""
    q = q.strip()
    if not q:
        return []
    products = list(
        Product.objects.filter(active=True, selling_price__isnull=False)
        .filter(Q(sku__istartswith=q) | Q(barcode=q) | Q(name__icontains=q))
        .select_related("selling_price")
        .order_by("sku")[:limit]
    )
    return _product_rows(products)


def entry_products(product_ids: Iterable[int]) -> dict[int, dict]:
    """The products of an order form's lines, as the suggestions describe them (name, price,
    available stock), so a form shown again after an error keeps what the operator saw."""
    products = list(
        Product.objects.filter(pk__in=list(product_ids), selling_price__isnull=False)
        .select_related("selling_price")
        .order_by("pk")
    )
    return {row["id"]: row for row in _product_rows(products)}


def _product_rows(products: list[Product]) -> list[dict]:
    stock = available_stock(p.pk for p in products)
    return [
        {
            "id": p.pk,
            "sku": p.sku,
            "barcode": p.barcode,
            "name": p.name,
            "unit": p.unit,
            "price": str(p.selling_price.price),
            "available": str(stock.get(p.pk, ZERO).normalize()),
        }
        for p in products
    ]


@dataclass(frozen=True)
class OrderFilters:
    q: str = ""
    state: str = ""
    channel: str = ""
    push_state: str = ""
    warehouse: int | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    before: int | None = None  # keyset: orders with a smaller id


def list_orders(filters: OrderFilters, *, limit: int = PAGE_SIZE) -> list[ManualOrder]:
    """One page of orders, newest first, by keyset (``id < before``): no COUNT over the table,
    one query whatever the page size."""
    qs = ManualOrder.objects.select_related("customer", "warehouse").only(
        "id",
        "number",
        "state",
        "channel",
        "total",
        "received_at",
        "delivery_city",
        "carrier",
        "tracking_number",
        "push_state",
        "stock_short",
        "possible_duplicate_of_id",
        "customer__name",
        "customer__phone",
        "customer__vip",
        "warehouse__code",
    )
    q = filters.q.strip()
    if q:
        if q.upper().startswith("M") and any(c.isdigit() for c in q):
            qs = qs.filter(number__startswith=q.upper())
        else:
            customers = [c.pk for c in search_customers(q, limit=200, anywhere=False)]
            qs = qs.filter(customer__in=customers)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.push_state:
        qs = qs.filter(push_state=filters.push_state)
    if filters.warehouse:
        qs = qs.filter(warehouse_id=filters.warehouse)
    if filters.received_from:
        qs = qs.filter(received_at__gte=filters.received_from)
    if filters.received_to:
        qs = qs.filter(received_at__lt=filters.received_to)
    if filters.before:
        qs = qs.filter(pk__lt=filters.before)
    return list(qs.order_by("-pk")[: limit + 1])


def get_order(pk: int) -> ManualOrder:
    return ManualOrder.objects.select_related(
        "customer", "warehouse", "created_by", "allocation_rule", "possible_duplicate_of"
    ).get(pk=pk)


def order_lines(order: ManualOrder) -> QuerySet[OrderLine]:
    return order.lines.all()


def order_events(order: ManualOrder) -> QuerySet:
    return order.events.select_related("by")


def pick_list(warehouse: Warehouse) -> dict:
    """What to pick in one warehouse: allocated orders with their lines, and totals per SKU."""
    orders = list(
        ManualOrder.objects.filter(warehouse=warehouse, state=OrderState.ALLOCATED)
        .select_related("customer")
        .prefetch_related("lines")
        .order_by("pk")
    )
    totals = (
        OrderLine.objects.filter(order__warehouse=warehouse, order__state=OrderState.ALLOCATED)
        .values("sku", "name")
        .annotate(quantity=Sum("quantity"), orders=Count("order", distinct=True))
        .order_by("sku")
    )
    return {"orders": orders, "totals": list(totals)}


def warehouses_with_picking() -> list[dict]:
    rows = (
        ManualOrder.objects.filter(state=OrderState.ALLOCATED, warehouse__isnull=False)
        .values("warehouse_id", "warehouse__code", "warehouse__name")
        .annotate(orders=Count("pk"))
        .order_by("warehouse__code")
    )
    return [dict(row) for row in rows]


def matching_rule(order: ManualOrder) -> AllocationRule | None:
    for rule in AllocationRule.objects.filter(active=True).select_related("warehouse"):
        if rule.matches(order):
            return rule
    return None


def reconciliation_summary() -> dict[str, int]:
    counts = dict(ManualOrder.objects.values_list("push_state").annotate(n=Count("pk")).order_by())
    return {state: counts.get(state, 0) for state in PushState.values}


def orders_by_push_state(push_state: str, *, limit: int = 200) -> list[ManualOrder]:
    return list(
        ManualOrder.objects.filter(push_state=push_state)
        .select_related("customer")
        .order_by("-pk")[:limit]
    )
