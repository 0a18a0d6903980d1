"""Rules several drill use cases share."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from apps.core.errors import DomainError

from ..errors import DrillsError

# Clocks of staff machines drift a little; a minute ahead is still "now".
CLOCK_SKEW = timedelta(minutes=1)


def not_in_future(at: datetime, *, field: str | None = None) -> None:
    if at > timezone.now() + CLOCK_SKEW:
        raise DomainError(DrillsError.TIME_IN_FUTURE, field=field)
