"""What the stock-count use cases share: settings, the declared transitions, the session lock."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings

from apps.core.errors import DomainError

from ..choices import (
    SessionState,
    can_move,
)
from ..errors import InventoryError
from ..models import (
    CountSession,
)

ZERO = Decimal("0")
PREVIEW_ROWS = 20
ERRORS_KEPT = 200


def recount_threshold_pct() -> Decimal:
    return Decimal(str(settings.INVENTORY_RECOUNT_THRESHOLD_PCT))


def recount_min_units() -> Decimal:
    """A variance must also exceed this many units to need a recount (0: any variance)."""
    return Decimal(str(settings.INVENTORY_RECOUNT_MIN_UNITS))


def plausible_max_per_bin() -> Decimal:
    """More units of one product in one bin than this must be confirmed by the clerk."""
    return Decimal(str(settings.INVENTORY_PLAUSIBLE_MAX_PER_BIN))


def duplicate_window() -> timedelta:
    return timedelta(seconds=settings.INVENTORY_DUPLICATE_WINDOW_SECONDS)


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
