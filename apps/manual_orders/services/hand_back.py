"""Handing manual orders back to the restored order system: the push job and the export for re-
entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError
from apps.core.jobs import Progress, start_job
from apps.core.models import JobRecord
from apps.core.timeline import post_to_timeline

from .. import events
from ..choices import (
    OrderState,
    PushState,
)
from ..errors import OrderError
from ..models import (
    ManualOrder,
    OrderLine,
)
from .common import CHANGED_DURING_PUSH

if TYPE_CHECKING:
    from apps.accounts.models import User


# --- hand-back ----------------------------------------------------------------------------------------
# The restored system's status for each manual order state.
PUSH_STATUS = {
    OrderState.CAPTURED: "pending",
    OrderState.CONFIRMED: "pending",
    OrderState.ALLOCATED: "paid",
    OrderState.DISPATCHED: "shipped",
    OrderState.DELIVERED: "delivered",
}


def record_hand_back(*, pushed: int, conflicts: int, by: User) -> None:
    post_to_timeline(
        kind=events.HAND_BACK,
        pushed=pushed,
        conflicts=conflicts,
        by=by,
    )


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
    by: User,
    url: str | None = None,
    order_ids: list[int] | None = None,
    progress: Progress | None = None,
    batch: int = 500,
) -> dict[str, int]:
    """Insert every pending (or conflicting) manual order into the restored order system once,
    and record per order whether it was pushed or why it conflicts."""
    from ..handback import PushItem, PushOrder, push_orders

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
                status=PUSH_STATUS[OrderState(o.state)],
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

    from ..resources import EXPORT_FORMATS, OrderLineExportResource, formats

    fmt = formats(EXPORT_FORMATS).get(file_format)
    if fmt is None:
        raise DomainError(OrderError.UNKNOWN_EXPORT_FORMAT, field="file_format")
    qs = OrderLine.objects.select_related("order", "order__customer").order_by("order_id", "pk")
    if push_state:
        qs = qs.filter(order__push_state=push_state)
    if state:
        qs = qs.filter(order__state=state)
    return export_content(OrderLineExportResource(), qs, fmt), fmt.get_content_type()


def start_push(*, by: User) -> JobRecord:
    """Hand every pending manual order back to the order system, on a worker."""
    return start_job(
        kind="manual_orders.push",
        title=_("Hand manual orders back to the order system"),
        func="apps.manual_orders.jobs.push_to_order_system_job",
        kwargs={"user_id": by.pk},
        by=by,
    )
