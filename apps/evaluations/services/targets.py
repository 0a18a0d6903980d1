"""Targets managers set per metric; reports score each dimension against them."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction

from apps.core.errors import DomainError

from ..choices import Metric
from ..errors import EvaluationError
from ..models import Target

if TYPE_CHECKING:
    from apps.accounts.models import User


@transaction.atomic
def set_targets(*, values: dict[str, Decimal], by: User) -> list[Target]:
    """Store the given metrics' targets (others keep theirs or the plan's default)."""
    saved = []
    for metric, value in values.items():
        if metric not in Metric.values:
            continue
        if value < 0:
            raise DomainError(EvaluationError.TARGET_NEGATIVE, field=metric)
        target, _created = Target.objects.select_for_update().get_or_create(
            metric=metric, defaults={"value": value, "updated_by": by}
        )
        if target.value != value:
            target.value = value
            target.updated_by = by
            target._history_user = by  # type: ignore[attr-defined]
            target.save()
        saved.append(target)
    return saved
