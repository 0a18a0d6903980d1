"""Stock count use cases (plan 5.1 (3)): every write of the app goes through one of these.

Each is one ``transaction.atomic`` use case with keyword-only arguments; a refused action
raises ``DomainError`` with a translated reason; starting and approving a session post to the
open incident's timeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Sum, Value
from django.db.models.functions import Abs, Coalesce
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalog.models import Location, Product, Warehouse
from apps.core.errors import DomainError
from apps.core.events import event, message
from apps.core.jobs import Progress, start_job
from apps.core.timeline import post_to_timeline

from . import events
from .choices import (
    ENTRY_STATES,
    EntrySource,
    ImportState,
    SessionState,
    StockSource,
    can_move,
)
from .errors import InventoryError
from .models import (
    ApprovedStock,
    CountEntry,
    CountLine,
    CountSession,
    CountSheetImport,
)
from .resources import MAX_QTY, CountSheetResource, format_by_name, read_dataset
from .selectors import approved_stock_scope, lines_beyond_threshold

if TYPE_CHECKING:
    from apps.accounts.models import User

ZERO = Decimal("0")
PREVIEW_ROWS = 20
ERRORS_KEPT = 200


def recount_threshold_pct() -> Decimal:
    return Decimal(str(getattr(settings, "INVENTORY_RECOUNT_THRESHOLD_PCT", 5)))


def recount_min_units() -> Decimal:
    """A variance must also exceed this many units to need a recount (0: any variance)."""
    return Decimal(str(getattr(settings, "INVENTORY_RECOUNT_MIN_UNITS", 0)))


def plausible_max_per_bin() -> Decimal:
    """More units of one product in one bin than this must be confirmed by the clerk."""
    return Decimal(str(getattr(settings, "INVENTORY_PLAUSIBLE_MAX_PER_BIN", 100_000)))


def duplicate_window() -> timedelta:
    return timedelta(seconds=getattr(settings, "INVENTORY_DUPLICATE_WINDOW_SECONDS", 120))


def _move(session: CountSession, target: str) -> None:
    if not can_move(session.state, target):
        raise DomainError(
            InventoryError.INVALID_TRANSITION,
            params={
                "state": SessionState(session.state).label,
                "target": SessionState(target).label,
            },
        )
    session.state = target


def _locked(session: CountSession) -> CountSession:
    return CountSession.objects.select_for_update().select_related("warehouse").get(pk=session.pk)


# --- sessions ------------------------------------------------------------------------------------
@transaction.atomic
def create_session(
    *,
    name: str,
    warehouse: Warehouse,
    by,
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
def start_session(*, session: CountSession, by) -> CountSession:
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
def cancel_session(*, session: CountSession, by) -> CountSession:
    session = _locked(session)
    _move(session, SessionState.CANCELLED)
    session._change_reason = "cancelled"
    session.save()
    return session


@transaction.atomic
def close_counting(*, session: CountSession, by) -> CountSession:
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
def approve_session(*, session: CountSession, by, note: str = "") -> CountSession:
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


def may_count(session: CountSession, user) -> bool:
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
    by,
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


# --- count sheets --------------------------------------------------------------------------------
@transaction.atomic
def upload_count_sheet(
    *, session: CountSession, content: bytes, file_name: str, input_format: str, by
) -> CountSheetImport:
    """Keep the uploaded sheet and check every row of it (a dry run, as a tracked job)."""
    session.refresh_from_db(fields=["state"])
    if session.state not in ENTRY_STATES:
        raise DomainError(InventoryError.NOT_OPEN)
    if format_by_name(input_format) is None:
        raise DomainError(InventoryError.FORMAT_UNSUPPORTED, field="input_format")
    sheet = CountSheetImport.objects.create(
        session=session,
        content=content,
        original_name=file_name[:255],
        input_format=input_format.lower(),
        created_by=by,
    )
    job = start_job(
        kind="inventory.check_sheet",
        title=message(events.CHECK_SHEET_TITLE, name=sheet.original_name),
        func="apps.inventory_counts.jobs.check_count_sheet_job",
        kwargs={"sheet_id": sheet.pk},
        queue="default",
        by=by,
    )
    CountSheetImport.objects.filter(pk=sheet.pk).update(job=job)
    sheet.refresh_from_db()
    return sheet


@transaction.atomic
def confirm_count_sheet(*, sheet: CountSheetImport, by) -> CountSheetImport:
    """Import a checked sheet (a tracked job); it is imported entirely or not at all."""
    sheet = CountSheetImport.objects.select_for_update().get(pk=sheet.pk)
    if sheet.state != ImportState.VALID:
        raise DomainError(InventoryError.SHEET_NOT_CHECKED)
    sheet.state = ImportState.IMPORTING
    sheet.save(update_fields=["state"])
    job = start_job(
        kind="inventory.import_sheet",
        title=message(events.IMPORT_SHEET_TITLE, name=sheet.original_name),
        func="apps.inventory_counts.jobs.import_count_sheet_job",
        kwargs={"sheet_id": sheet.pk},
        queue="default",
        by=by,
    )
    CountSheetImport.objects.filter(pk=sheet.pk).update(job=job)
    sheet.refresh_from_db()
    return sheet


@contextmanager
def _failing_sheet(sheet_id: int, running: str):
    """Whatever stops the job (not only a DomainError), a sheet still in ``running`` becomes
    FAILED with the reason, written outside the rolled-back transaction, so staff can check it
    again or upload a new one. Outcomes the job already recorded (INVALID, IMPORTED) stay."""
    try:
        yield
    except Exception as exc:
        reason = str(exc) if isinstance(exc, DomainError) else exc.__class__.__name__
        mark_sheet_failed(sheet_id=sheet_id, running=(running,), reason=reason)
        raise


def mark_sheet_failed(
    *,
    sheet_id: int,
    reason: str,
    running: tuple[str, ...] = (ImportState.VALIDATING, ImportState.IMPORTING),
) -> bool:
    """A sheet whose job stopped (crashed, or its worker died) becomes FAILED with the reason."""
    return bool(
        CountSheetImport.objects.filter(pk=sheet_id, state__in=running).update(
            state=ImportState.FAILED,
            errors=[
                {
                    "row": None,
                    "errors": [str(_("The job stopped: %(reason)s") % {"reason": reason})],
                }
            ],
            error_count=0,
        )
    )


@transaction.atomic
def recheck_count_sheet(*, sheet: CountSheetImport, by) -> CountSheetImport:
    """Check a sheet whose job failed once more (a new tracked job)."""
    sheet = CountSheetImport.objects.select_for_update().get(pk=sheet.pk)
    if sheet.state != ImportState.FAILED:
        raise DomainError(InventoryError.SHEET_NOT_FAILED)
    sheet.session.refresh_from_db(fields=["state"])
    if sheet.session.state not in ENTRY_STATES:
        raise DomainError(InventoryError.NOT_OPEN)
    CountSheetImport.objects.filter(pk=sheet.pk).update(
        state=ImportState.VALIDATING, errors=[], error_count=0, preview=[]
    )
    job = start_job(
        kind="inventory.check_sheet",
        title=message(events.CHECK_SHEET_TITLE, name=sheet.original_name),
        func="apps.inventory_counts.jobs.check_count_sheet_job",
        kwargs={"sheet_id": sheet.pk},
        queue="default",
        by=by,
    )
    CountSheetImport.objects.filter(pk=sheet.pk).update(job=job)
    sheet.refresh_from_db()
    return sheet


def _sheet_content(sheet_id: int) -> bytes:
    """The file's bytes, held by no model instance: freed as soon as it has been read."""
    content = CountSheetImport.objects.values_list("content", flat=True).get(pk=sheet_id)
    return bytes(content)


def _run_sheet(sheet: CountSheetImport, *, dry_run: bool, progress: Progress | None):
    session = sheet.session
    try:
        # Bounded while it streams (apps.core.tabular): "The file could not be read: <why>".
        dataset = read_dataset(_sheet_content(sheet.pk), sheet.input_format, progress=progress)
    except DomainError as exc:
        return None, [{"row": None, "errors": [str(exc)]}], 0
    resource = CountSheetResource(
        session=session, clerk=sheet.created_by, sheet=sheet, progress=progress
    )
    result = resource.import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
    )
    errors: list[dict] = []
    for base in result.base_errors:
        errors.append({"row": None, "errors": [str(base.error)]})
    for number, row_errors in result.row_errors():
        errors.append({"row": number, "errors": [str(e.error) for e in row_errors]})
    for invalid in result.invalid_rows:
        messages = [str(m) for ms in invalid.error_dict.values() for m in ms]
        errors.append({"row": invalid.number, "errors": messages, "values": list(invalid.values)})
    errors.sort(key=lambda e: (e["row"] is not None, e["row"] or 0))
    return dataset, errors, len(dataset)


def check_count_sheet(*, sheet_id: int, progress: Progress | None = None) -> dict:
    """The dry run; a crash marks the sheet FAILED instead of leaving it checking forever."""
    with _failing_sheet(sheet_id, ImportState.VALIDATING):
        return _check_count_sheet(sheet_id=sheet_id, progress=progress)


def _check_count_sheet(*, sheet_id: int, progress: Progress | None = None) -> dict:
    """The dry run: every row checked, row errors kept with their row numbers, nothing written."""
    sheet = (
        CountSheetImport.objects.select_related("session", "created_by")
        .defer("content")
        .get(pk=sheet_id)
    )
    with transaction.atomic():
        dataset, errors, total = _run_sheet(sheet, dry_run=True, progress=progress)
    preview = []
    if dataset is not None:
        for row in dataset[:PREVIEW_ROWS]:
            preview.append([str(v) if v is not None else "" for v in row])
        preview = [list(dataset.headers or []), *preview]
    # Only a sheet still being checked takes the result: a late or repeated check job must never
    # turn an importing or imported sheet back into a valid one (it could be imported twice).
    CountSheetImport.objects.filter(pk=sheet.pk, state=ImportState.VALIDATING).update(
        state=ImportState.INVALID if errors else ImportState.VALID,
        total_rows=total,
        errors=errors[:ERRORS_KEPT],
        error_count=len(errors),
        preview=preview,
    )
    return {"rows": total, "errors": len(errors)}


def import_count_sheet(*, sheet_id: int, progress: Progress | None = None) -> dict:
    """The real run; a crash marks the sheet FAILED instead of leaving it importing forever."""
    with _failing_sheet(sheet_id, ImportState.IMPORTING):
        return _import_count_sheet(sheet_id=sheet_id, progress=progress)


def _import_count_sheet(*, sheet_id: int, progress: Progress | None = None) -> dict:
    """The real run, in one transaction: any wrong row (the session may have changed since the
    check) rolls everything back and the sheet is marked as having errors."""
    errors: list[dict] = []
    with transaction.atomic():
        sheet = CountSheetImport.objects.select_for_update().defer("content").get(pk=sheet_id)
        session = CountSession.objects.select_for_update().get(pk=sheet.session_id)
        if sheet.state != ImportState.IMPORTING:
            raise DomainError(InventoryError.SHEET_NOT_IMPORTING)
        if session.state not in ENTRY_STATES:
            errors = [{"row": None, "errors": [str(DomainError(InventoryError.NOT_OPEN))]}]
        else:
            _dataset, errors, total = _run_sheet(sheet, dry_run=False, progress=progress)
        if not errors:
            sheet.state = ImportState.IMPORTED
            sheet.imported_at = timezone.now()
            sheet.save(update_fields=["state", "imported_at"])
            return {"rows": total}
        transaction.set_rollback(True)
    CountSheetImport.objects.filter(pk=sheet_id).update(
        state=ImportState.INVALID, errors=errors[:ERRORS_KEPT], error_count=len(errors)
    )
    raise DomainError(InventoryError.SHEET_HAS_ERRORS, params={"n": len(errors)})


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
