"""What clerks count: append-only entries, summed on the line under a row lock, with the checks
that ask or refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.catalog.models import Location, Product
from apps.core.errors import DomainError

from ..choices import (
    ENTRY_STATES,
    EntrySource,
    SessionState,
)
from ..errors import InventoryError
from ..models import (
    CountEntry,
    CountLine,
    CountSession,
)
from ..resources import MAX_QTY
from .common import ZERO, _locked, duplicate_window, plausible_max_per_bin

if TYPE_CHECKING:
    from apps.accounts.models import User


# --- entry ---------------------------------------------------------------------------------------
class EntryRefused(DomainError):
    """An entry that cannot be recorded as typed; ``code`` says why (an ``EntryProblem``)."""

    def __init__(
        self, code: InventoryError, *, params: dict[str, Any], field: str | None = "quantity"
    ) -> None:
        super().__init__(code, params=params, field=field)


class EntryNeedsConfirmation(DomainError):
    """An entry the clerk must confirm before it is added; ``code`` says why."""

    code: str = ""


class DuplicateEntry(EntryNeedsConfirmation):
    """The same clerk counted the same line moments ago: ask before adding it again."""

    code = InventoryError.DUPLICATE

    def __init__(self, *, params: dict[str, Any], previous: CountEntry) -> None:
        super().__init__(InventoryError.DUPLICATE, params=params)
        self.previous = previous


class ImplausibleQuantity(EntryNeedsConfirmation):
    """More units in one bin than is plausible: ask before adding them."""

    code = InventoryError.IMPLAUSIBLE

    def __init__(self, *, params: dict[str, Any]) -> None:
        super().__init__(InventoryError.IMPLAUSIBLE, params=params)


@dataclass
class EntryOutcome:
    entry: CountEntry
    line: CountLine
    counted: Decimal  # the line's total for this round, all clerks together
    mine: Decimal  # what this clerk counted on the line this round (all a blind count shows)


def _check_scope(session: CountSession, location: Location, product: Product) -> None:
    if location.warehouse_id != session.warehouse_id or (
        session.locations.exists() and not session.locations.filter(pk=location.pk).exists()
    ):
        raise DomainError(
            InventoryError.LOCATION_OUT_OF_SCOPE, params={"code": location.code}, field="location"
        )
    if session.categories and product.category not in session.categories:
        raise DomainError(
            InventoryError.CATEGORY_OUT_OF_SCOPE, params={"sku": product.sku}, field="product"
        )


def may_count(session: CountSession, user: User) -> bool:
    """Assigned clerks count; a session with nobody assigned is open to every counting role."""
    if not user.has_perm("inventory_counts.add_countentry"):
        return False
    return not session.clerks.exists() or session.clerks.filter(pk=user.pk).exists()


@transaction.atomic
def record_entry(
    *,
    session: CountSession,
    location: Location,
    product: Product,
    quantity: Decimal,
    by: User,
    confirm_duplicate: bool = False,
    confirm_implausible: bool = False,
) -> EntryOutcome:
    """Add what a clerk counted. Entries are only ever added: two clerks counting the same
    bin each add theirs, and the line's total is their sum (updated under a row lock).

    Products counted in pieces take whole numbers only; a bin total beyond
    ``INVENTORY_PLAUSIBLE_MAX_PER_BIN`` must be confirmed, and one the column cannot hold is
    refused."""
    # The session row lock orders entries against closing and approving the session.
    session = _locked(session)
    if session.state not in ENTRY_STATES:
        raise DomainError(InventoryError.NOT_OPEN)
    if not may_count(session, by):
        raise DomainError(InventoryError.NOT_ASSIGNED)
    if quantity is None or quantity < 0:
        raise DomainError(InventoryError.NEGATIVE_QUANTITY, field="quantity")
    _check_scope(session, location, product)
    if product.counted_in_pieces and quantity != quantity.to_integral_value():
        raise EntryRefused(
            InventoryError.NOT_WHOLE, params={"sku": product.sku, "qty": _qty(quantity)}
        )
    recount = session.state == SessionState.RECOUNT
    line = (
        CountLine.objects.select_for_update()
        .filter(session=session, location=location, product=product)
        .first()
    )
    if recount:
        if line is None or not line.needs_recount:
            raise DomainError(InventoryError.NO_RECOUNT_NEEDED)
        if line.entries.filter(clerk=by, is_recount=False).exists():
            raise DomainError(InventoryError.RECOUNT_BY_OTHER)
    if line is None:
        line = CountLine.objects.create(session=session, location=location, product=product)
    now = timezone.now()
    if not confirm_duplicate:
        previous = (
            line.entries.filter(clerk=by, is_recount=recount, at__gte=now - duplicate_window())
            .order_by("-at")
            .first()
        )
        if previous is not None:
            raise DuplicateEntry(
                params={
                    "qty": _qty(previous.quantity),
                    "sku": product.sku,
                    "location": location.code,
                    "new": _qty(quantity),
                },
                previous=previous,
            )
    column = "recount_qty" if recount else "counted_qty"
    total = (getattr(line, column) or ZERO) + quantity
    if total > MAX_QTY:
        raise EntryRefused(
            InventoryError.TOO_LARGE, params={"qty": _qty(quantity), "max": _qty(MAX_QTY)}
        )
    if total > plausible_max_per_bin() and not confirm_implausible:
        raise ImplausibleQuantity(
            params={
                "total": _qty(total),
                "sku": product.sku,
                "location": location.code,
                "max": _qty(plausible_max_per_bin()),
            }
        )
    entry = CountEntry.objects.create(
        session=session,
        line=line,
        quantity=quantity,
        clerk=by,
        is_recount=recount,
        source=EntrySource.SCAN,
        at=now,
    )
    CountLine.objects.filter(pk=line.pk).update(
        **{column: Coalesce(F(column), Value(ZERO)) + Value(quantity)}
    )
    line.refresh_from_db()
    mine = line.entries.filter(clerk=by, is_recount=recount).aggregate(
        total=Coalesce(Sum("quantity"), Value(ZERO))
    )["total"]
    return EntryOutcome(entry=entry, line=line, counted=getattr(line, column), mine=mine)


def _qty(value: Decimal) -> str:
    text = format(value.normalize(), "f") if value is not None else ""
    return text
