"""Orders from a case: find any order, change or cancel manual ones through manual orders'
services, record requests for the order system that the hand-back applies exactly once."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.backups.engine import SourceUnreachableError, gateway
from apps.manual_orders import changes as order_changes
from apps.manual_orders import services as order_services
from apps.manual_orders.choices import HOLDING_STATES, OrderState
from apps.manual_orders.models import ManualOrder

from .. import events
from ..choices import OrderSource, RequestKind, RequestState
from ..errors import CareError
from ..models import Case, CaseOrder, OrderSystemRequest
from .common import lock_case, record, refuse, save_case

if TYPE_CHECKING:
    from apps.accounts.models import User

MAX_HITS = 50


@dataclass
class FoundOrder:
    source: str
    number: str
    status: str
    customer: str
    phone: str
    email: str
    total: Decimal
    address: str
    created_at: datetime | None
    manual_order_id: int | None = None


@dataclass
class LookupResult:
    query: str
    orders: list[FoundOrder] = field(default_factory=list)
    # "live": read from the order system now; "backup": from the latest backup (``as_of``);
    # "unavailable": the order system did not answer (``problem`` says why).
    order_system: str = "live"
    as_of: datetime | None = None
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "orders": [
                {
                    **asdict(o),
                    "total": str(o.total),
                    "created_at": o.created_at.isoformat() if o.created_at else None,
                }
                for o in self.orders
            ],
            "order_system": self.order_system,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "problem": self.problem,
        }


def _manual_hits(query: str) -> list[FoundOrder]:
    phone = order_changes.normalise_phone(query)
    match = Q(number__iexact=query) | Q(customer__email__iexact=query)
    if len(phone) >= 5:
        match |= Q(customer__phone=phone)
    orders = ManualOrder.objects.filter(match).select_related("customer").order_by("-pk")
    return [
        FoundOrder(
            source=OrderSource.MANUAL,
            number=o.number,
            status=str(OrderState(o.state).label),
            customer=o.customer.name,
            phone=o.customer.phone,
            email=o.customer.email,
            total=o.total,
            address=f"{o.delivery_city} {o.delivery_address}".strip(),
            created_at=o.created_at,
            manual_order_id=o.pk,
        )
        for o in orders[:MAX_HITS]
    ]


ORDER_SQL = (
    "SELECT o.order_no, o.status, o.total, o.ship_city, o.ship_address, o.created_at, "
    "c.name, c.phone, c.email FROM orders o LEFT JOIN customers c ON c.id = o.customer_id "
    "WHERE o.order_no = %s OR c.phone = %s OR lower(c.email) = lower(%s) "
    "ORDER BY o.created_at DESC LIMIT " + str(MAX_HITS)
)
ORDER_SQL_NO_CUSTOMERS = (
    "SELECT o.order_no, o.status, o.total, o.ship_city, o.ship_address, o.created_at, "
    "'', '', '' FROM orders o WHERE o.order_no = %s ORDER BY o.created_at DESC LIMIT "
    + str(MAX_HITS)
)


def _order_system_hits(url: str | None, query: str) -> list[FoundOrder]:
    phone = order_changes.normalise_phone(query) or query
    with gateway.connect(url) as db:
        try:
            rows = db.q(ORDER_SQL, (query, phone, query))
        except gateway.DB_ERRORS as exc:
            if not gateway.is_missing_table(exc):
                raise
            # A backup of the orders alone (the customers' backup missing): by number only.
            rows = db.q(ORDER_SQL_NO_CUSTOMERS, (query,))
    return [
        FoundOrder(
            source=OrderSource.ORDER_SYSTEM,
            number=str(r[0]),
            status=str(r[1]),
            customer=str(r[6] or ""),
            phone=str(r[7] or ""),
            email=str(r[8] or ""),
            total=Decimal(str(r[2])),
            address=f"{r[3] or ''} {r[4] or ''}".strip(),
            created_at=r[5] if isinstance(r[5], datetime) else None,
        )
        for r in rows
    ]


def find_orders(*, query: str) -> LookupResult:
    """Any order by number, phone or e-mail: the manual orders, and the order system while it
    answers. When it does not, the result says so (``order_system="unavailable"``): the agent
    can then search the latest backup (``find_orders_in_backup``, a job)."""
    query = query.strip()
    if not query:
        raise refuse(CareError.LOOKUP_EMPTY, field="query")
    result = LookupResult(query=query, orders=_manual_hits(query))
    try:
        gateway.ping(timeout=3)
        result.orders += _order_system_hits(None, query)
    except (SourceUnreachableError, *gateway.DB_ERRORS) as exc:  # type: ignore[misc]
        result.order_system = "unavailable"
        result.problem = str(exc)[:300]
    return result


def backup_age() -> datetime | None:
    """When the newest orders backup that a restore would use was made (None: there is none)."""
    from apps.backups.models import BackupScope
    from apps.backups.services import propose_restore

    scope = BackupScope.objects.filter(slug="orders").first()
    if scope is None:
        return None
    backup = propose_restore(scope=scope).backup
    return backup.created_at if backup else None


def backup_slugs() -> list[str]:
    """The backups an order-system read from backup opens: orders, and users when there is one
    (without it, only the orders' own columns can be read)."""
    from apps.backups.models import BackupScope
    from apps.backups.services import propose_restore

    slugs = ["orders"]
    users = BackupScope.objects.filter(slug="users").first()
    if users is not None and propose_restore(scope=users).backup is not None:
        slugs.append("users")
    return slugs


def find_orders_in_backup(*, query: str, progress=None) -> LookupResult:
    """The order-system half of a look-up, from the latest orders (and customers) backups that
    the backups app restores into a throw-away database; says how old that data is."""
    from apps.backups.services import latest_backups_opened

    query = query.strip()
    if not query:
        raise refuse(CareError.LOOKUP_EMPTY, field="query")
    result = LookupResult(query=query, orders=_manual_hits(query), order_system="backup")
    slugs = backup_slugs()
    result.as_of = backup_age()
    with latest_backups_opened(slugs=slugs, progress=progress) as url:
        result.orders += _order_system_hits(url, query)
    return result


# --- manual orders ----------------------------------------------------------------------------------
def _manual_link(case: Case, order: ManualOrder) -> None:
    if not CaseOrder.objects.filter(case=case, manual_order=order).exists():
        raise refuse(CareError.ORDER_NOT_ON_CASE, number=order.number)


def _refuse_if_gone(order: ManualOrder) -> None:
    if order.state not in HOLDING_STATES:
        raise refuse(
            CareError.ORDER_DISPATCHED,
            number=order.number,
            state=OrderState(order.state).label,
        )


@transaction.atomic
def change_manual_order(
    *,
    case: Case,
    order: ManualOrder,
    by: User,
    delivery_address: str | None = None,
    delivery_city: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    quantities: dict[int, int] | None = None,
    note: str = "",
) -> ManualOrder:
    """Change a manual order the case is about, through manual orders' own service (same
    rules, same order history, the customer told in their language)."""
    case = lock_case(case)
    _manual_link(case, order)
    order = ManualOrder.objects.select_for_update().get(pk=order.pk)
    _refuse_if_gone(order)
    order = order_changes.change_order(
        order=order,
        by=by,
        delivery_address=delivery_address,
        delivery_city=delivery_city,
        phone=phone,
        email=email,
        quantities=quantities,
        note=note or case.reference,
    )
    fields = order.events.order_by("-pk").values_list("params", flat=True).first() or {}
    record(
        case,
        events.ORDER_CHANGED,
        by=by,
        number=order.number,
        fields=[str(f) for f in fields.get("fields", [])],
    )
    save_case(case)
    return order


@transaction.atomic
def cancel_manual_order(*, case: Case, order: ManualOrder, reason: str, by: User) -> ManualOrder:
    """Cancel a manual order from its case through manual orders' ``cancel_order``."""
    case = lock_case(case)
    _manual_link(case, order)
    order = ManualOrder.objects.select_for_update().get(pk=order.pk)
    _refuse_if_gone(order)
    if not reason.strip():
        raise refuse(CareError.REASON_REQUIRED, field="reason")
    order = order_services.cancel_order(
        order=order, reason=f"{case.reference}: {reason.strip()}", by=by
    )
    record(case, events.ORDER_CANCELLED, by=by, number=order.number)
    save_case(case)
    return order


# --- order-system orders ----------------------------------------------------------------------------
@transaction.atomic
def request_order_system_change(
    *,
    case: Case,
    number: str,
    kind: str,
    reason: str,
    by: User,
    ship_city: str = "",
    ship_address: str = "",
) -> OrderSystemRequest:
    """Record a change (new delivery address) or a cancellation of an order of the order
    system; the hand-back applies it once the system is restored."""
    case = lock_case(case)
    number = number.strip()
    if not CaseOrder.objects.filter(
        case=case, source=OrderSource.ORDER_SYSTEM, number=number
    ).exists():
        raise refuse(CareError.ORDER_NOT_ON_CASE, number=number)
    if not reason.strip():
        raise refuse(CareError.REASON_REQUIRED, field="reason")
    changes: dict[str, str] = {}
    if kind == RequestKind.CHANGE:
        if ship_city.strip():
            changes["ship_city"] = ship_city.strip()
        if ship_address.strip():
            changes["ship_address"] = ship_address.strip()
        if not changes:
            raise refuse(CareError.NOTHING_CHANGED, field="ship_address")
    request = OrderSystemRequest.objects.create(
        case=case,
        order_number=number,
        kind=kind,
        changes=changes,
        reason=reason.strip()[:300],
        created_by=by,
    )
    record(case, events.REQUEST_RECORDED, by=by, kind=kind, number=number)
    save_case(case)
    return request


# Statuses of the order system that an address change or a cancellation may still touch.
CHANGEABLE_STATUSES = {"pending", "paid"}


def apply_order_system_requests(*, url: str | None = None, by: Any = None) -> dict[str, int]:
    """The hand-back's step for care: apply each pending request to the restored order system.

    Exactly once: each request is claimed ``FOR UPDATE SKIP LOCKED`` and marked applied in the
    same transaction as it is applied (the order-system write is itself idempotent: it sets
    values, so a crash between the two writes repeats a harmless write, never a second effect).
    """
    counts = {"care_requests_applied": 0, "care_requests_failed": 0}
    while True:
        with transaction.atomic():
            request = (
                OrderSystemRequest.objects.select_for_update(skip_locked=True)
                .filter(state=RequestState.PENDING)
                .order_by("created_at", "pk")
                .first()
            )
            if request is None:
                return counts
            reason = _apply_one(url, request)
            request.state = RequestState.FAILED if reason else RequestState.APPLIED
            request.outcome = reason[:300]
            request.applied_at = timezone.now()
            request.save()
            if reason:
                counts["care_requests_failed"] += 1
                record(
                    request.case,
                    events.REQUEST_FAILED,
                    by=by,
                    kind=request.kind,
                    number=request.order_number,
                    reason=reason,
                )
            else:
                counts["care_requests_applied"] += 1
                record(
                    request.case,
                    events.REQUEST_APPLIED,
                    by=by,
                    kind=request.kind,
                    number=request.order_number,
                )


def _apply_one(url: str | None, request: OrderSystemRequest) -> str:
    """Apply one request; returns why it could not be applied ("" when it was)."""
    with gateway.connect(url) as db, db.transaction():
        rows = db.q(
            "SELECT status FROM orders WHERE order_no = %s FOR UPDATE"
            if db.kind == "postgresql"
            else "SELECT status FROM orders WHERE order_no = %s",
            (request.order_number,),
        )
        if not rows:
            return f"order {request.order_number} is not in the order system"
        status = str(rows[0][0])
        if request.kind == RequestKind.CANCEL:
            if status == "cancelled":
                return ""
            if status not in CHANGEABLE_STATUSES:
                return f"order {request.order_number} is {status}"
            db.q(
                "UPDATE orders SET status = 'cancelled' WHERE order_no = %s",
                (request.order_number,),
            )
            return ""
        if status not in CHANGEABLE_STATUSES:
            return f"order {request.order_number} is {status}"
        for column in ("ship_city", "ship_address"):
            if column in request.changes:
                db.q(
                    f"UPDATE orders SET {column} = %s WHERE order_no = %s",  # noqa: S608
                    (request.changes[column], request.order_number),
                )
    return ""
