"""A count session from draft to approval: create, start (expected quantities frozen), close the
round, cancel, approve (the counted stock becomes what manual orders sell).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Value
from django.db.models.functions import Abs, Coalesce
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from apps.catalog.models import Location, Warehouse
from apps.core.errors import DomainError
from apps.core.events import event
from apps.core.timeline import post_to_timeline

from ..choices import (
    SessionState,
)
from ..errors import InventoryError
from ..models import (
    ApprovedStock,
    CountLine,
    CountSession,
)
from ..selectors import approved_stock_scope, lines_beyond_threshold
from .common import ZERO, _locked, _move, recount_min_units, recount_threshold_pct

if TYPE_CHECKING:
    from apps.accounts.models import User


# --- sessions ------------------------------------------------------------------------------------
@transaction.atomic
def create_session(
    *,
    name: str,
    warehouse: Warehouse,
    by: User,
    locations: Iterable[Location] = (),
    categories: Iterable[str] = (),
    clerks: Iterable = (),
    blind: bool = True,
    recount_threshold: Decimal | None = None,
) -> CountSession:
    """A draft session: what to count and who counts it. Nothing is frozen yet."""
    locations = list(locations)
    if any(loc.warehouse_id != warehouse.pk for loc in locations):
        raise DomainError(InventoryError.LOCATION_OUTSIDE_WAREHOUSE, field="locations")
    session = CountSession(
        name=name,
        warehouse=warehouse,
        categories=sorted(set(categories)),
        blind=blind,
        recount_threshold_pct=(
            recount_threshold if recount_threshold is not None else recount_threshold_pct()
        ),
        created_by=by,
    )
    session.full_clean()
    session.save()
    session.locations.set(locations)
    session.clerks.set(list(clerks))
    return session


@transaction.atomic
def start_session(*, session: CountSession, by: User) -> CountSession:
    """Freeze the expected quantities and open the session for counting.

    The expected quantity of each (location, product) is the last approved count; the demo
    order system keeps no stock table, so with no approved count a line starts at zero and is
    created when a clerk first counts the product there.
    """
    session = _locked(session)
    _move(session, SessionState.COUNTING)
    stock = (
        ApprovedStock.objects.filter(is_current=True)
        .filter(approved_stock_scope(session))
        .annotate(sid=Value(session.pk), no=Value(False))
        .values_list("sid", "location_id", "product_id", "quantity", "no")
    )
    # One INSERT … SELECT: freezing 100,000 expected quantities stays a database-side copy.
    select_sql, params = stock.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CountLine._meta.db_table} "
            "(session_id, location_id, product_id, expected_qty, needs_recount) "
            f"SELECT * FROM ({select_sql}) AS frozen",
            params,
        )
    session.has_baseline = session.lines.exists()
    session.started_at = timezone.now()
    session._change_reason = "started"
    session.save()
    post_to_timeline(
        kind="inventory.session_started",
        name=session.name,
        warehouse=session.warehouse.code,
        lines=session.lines.count(),
        by=by,
        session_id=session.pk,
    )
    return session


@transaction.atomic
def cancel_session(*, session: CountSession, by: User) -> CountSession:
    session = _locked(session)
    _move(session, SessionState.CANCELLED)
    session._change_reason = "cancelled"
    session.save()
    return session


@transaction.atomic
def close_counting(*, session: CountSession, by: User) -> CountSession:
    """End a counting round. Lines nobody counted count as zero (the product was not found).

    After the first round, lines whose variance exceeds the threshold need a recount by a
    different clerk (only when an earlier approved count gave the session a baseline) (the session goes to "recount needed"); once all are recounted, or when
    none is needed, the session goes to review.
    """
    session = _locked(session)
    lines = CountLine.objects.filter(session=session)
    if session.state == SessionState.COUNTING:
        lines.filter(counted_qty__isnull=True).update(counted_qty=ZERO)
        if not session.has_baseline:
            # A first count has nothing to differ from: it establishes the stock.
            lines = lines.none()
        difference = Abs(F("counted_qty") - F("expected_qty"))
        allowed = F("expected_qty") * Value(session.recount_threshold_pct / Decimal(100))
        lines.filter(
            GreaterThan(difference, allowed), GreaterThan(difference, Value(recount_min_units()))
        ).update(needs_recount=True)
        needs = lines.filter(needs_recount=True).exists()
        _move(session, SessionState.RECOUNT if needs else SessionState.REVIEW)
        session.closed_at = timezone.now()
    elif session.state == SessionState.RECOUNT:
        pending = lines.filter(needs_recount=True, recount_qty__isnull=True).count()
        if pending:
            raise DomainError(InventoryError.RECOUNTS_PENDING, params={"n": pending})
        _move(session, SessionState.REVIEW)
    else:
        raise DomainError(InventoryError.NOT_BEING_COUNTED)
    session._change_reason = "counting closed"
    session.save()
    return session


@transaction.atomic
def approve_session(*, session: CountSession, by: User, note: str = "") -> CountSession:
    """Make the counted quantities the available stock manual orders sell from.

    Lines whose final quantity differs from the expected one beyond the session's threshold
    (every counted line of a first count, which has nothing to compare with) are approved only
    with a note saying why; the note stays on the session and in its history.
    The previous approved row of each counted (location, product) stays, marked as no longer
    current: the history of the stock is the table itself.
    """
    session = _locked(session)
    if session.state != SessionState.REVIEW:
        raise DomainError(InventoryError.APPROVE_NOT_IN_REVIEW)
    lines = CountLine.objects.filter(session=session)
    pending = lines.filter(needs_recount=True, recount_qty__isnull=True).count()
    if pending:
        raise DomainError(InventoryError.APPROVE_RECOUNTS_PENDING, params={"n": pending})
    note = (note or "").strip()
    beyond = lines_beyond_threshold(session).count()
    if beyond and not note:
        raise DomainError(InventoryError.APPROVAL_NOTE_MISSING, params={"n": beyond}, field="note")
    session.approval_note = note
    _move(session, SessionState.APPROVED)
    now = timezone.now()
    ApprovedStock.objects.filter(is_current=True, warehouse=session.warehouse).filter(
        Exists(lines.filter(location=OuterRef("location"), product=OuterRef("product")))
    ).update(is_current=False)
    ApprovedStock.objects.bulk_create(
        (
            ApprovedStock(
                warehouse_id=session.warehouse_id,
                location_id=loc,
                product_id=prod,
                quantity=final,
                session=session,
                approved_at=now,
                approved_by=by,
            )
            for loc, prod, final in lines.annotate(
                final=Coalesce("recount_qty", "counted_qty", Value(ZERO))
            )
            .values_list("location_id", "product_id", "final")
            .iterator(chunk_size=5000)
        ),
        batch_size=5000,
    )
    session.approved_at = now
    session.approved_by = by
    session._change_reason = "approved"
    session.save()
    post_to_timeline(
        kind="inventory.session_approved",
        # Rendered after the sentence only when lines beyond the threshold needed the note.
        approval_note=(
            [event("inventory.approval_note", beyond_threshold=beyond, note=note)] if beyond else []
        ),
        name=session.name,
        warehouse=session.warehouse.code,
        by=by,
        session_id=session.pk,
        beyond_threshold=beyond,
        note=note,
    )
    return session
