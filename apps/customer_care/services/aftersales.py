"""After-sales on a case: refunds recorded for the finance hand-back (returns come with the
catalogue)."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from .. import events
from ..choices import RefundMethod
from ..errors import CareError
from ..models import Case, Refund
from .common import lock_case, record, refuse, save_case

if TYPE_CHECKING:
    from apps.accounts.models import User


def record_refund(
    *,
    case: Case,
    amount: Decimal | str,
    method: str,
    by: User,
    idempotency_key: uuid.UUID | str,
    order_number: str = "",
    note: str = "",
) -> Refund:
    """Record a refund (amount and method) on its case, once per form (idempotency key)."""
    key = uuid.UUID(str(idempotency_key))
    existing = Refund.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise refuse(CareError.BAD_AMOUNT, field="amount") from None
    if value <= 0 or value >= Decimal("10000000000"):
        raise refuse(CareError.BAD_AMOUNT, field="amount")
    if method not in RefundMethod.values:
        raise refuse(CareError.BAD_AMOUNT, field="method")
    try:
        with transaction.atomic():
            case = lock_case(case)
            refund = Refund.objects.create(
                case=case,
                amount=value,
                method=method,
                order_number=order_number.strip()[:40],
                note=note.strip()[:300],
                idempotency_key=key,
                recorded_by=by,
            )
            record(case, events.REFUND, by=by, amount=str(value), method=method)
            save_case(case)
            return refund
    except IntegrityError:
        existing = Refund.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return existing
