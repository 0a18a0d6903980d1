"""What several manual-order use cases share: settings, refusals, shared texts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError

from ..errors import OrderError
from ..models import (
    ManualOrder,
)

CENT = Decimal("0.01")


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
