"""Stock count use cases (plan 5.1 (3)): every write of the app goes through one of these.

Each is one ``transaction.atomic`` use case with keyword-only arguments; a refused action
raises ``DomainError`` with a code (``errors.InventoryError``); starting and approving a session
post to the open incident's timeline. A package split by use case, re-exported here."""

from apps.core.errors import DomainError

from ..resources import CountSheetResource
from .common import (
    ERRORS_KEPT,
    PREVIEW_ROWS,
    ZERO,
    duplicate_window,
    plausible_max_per_bin,
    recount_min_units,
    recount_threshold_pct,
)
from .entry import (
    DuplicateEntry,
    EntryNeedsConfirmation,
    EntryOutcome,
    EntryRefused,
    ImplausibleQuantity,
    _qty,
    may_count,
    record_entry,
)
from .returns import (
    RETURN_ATTEMPTS,
    return_to_stock,
)
from .sessions import (
    approve_session,
    cancel_session,
    close_counting,
    create_session,
    start_session,
)
from .sheets import (
    check_count_sheet,
    confirm_count_sheet,
    import_count_sheet,
    mark_sheet_failed,
    recheck_count_sheet,
    refresh_count_sheet,
    upload_count_sheet,
)

__all__ = [
    "CountSheetResource",
    "DomainError",
    "DuplicateEntry",
    "ERRORS_KEPT",
    "EntryNeedsConfirmation",
    "EntryOutcome",
    "EntryRefused",
    "ImplausibleQuantity",
    "PREVIEW_ROWS",
    "RETURN_ATTEMPTS",
    "ZERO",
    "_qty",
    "approve_session",
    "cancel_session",
    "check_count_sheet",
    "close_counting",
    "confirm_count_sheet",
    "create_session",
    "duplicate_window",
    "import_count_sheet",
    "mark_sheet_failed",
    "may_count",
    "plausible_max_per_bin",
    "recheck_count_sheet",
    "record_entry",
    "recount_min_units",
    "recount_threshold_pct",
    "refresh_count_sheet",
    "return_to_stock",
    "start_session",
    "upload_count_sheet",
]
