"""The rules several incident use cases share: times, open incidents, stale versions, roles."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from django.utils import timezone

from apps.accounts.roles import roles_of
from apps.core.errors import CoreError, DomainError, StaleRecord

from ..choices import CAUSE_TREE, IncidentState
from ..errors import IncidentsError
from ..models import Incident, Task

if TYPE_CHECKING:
    from apps.accounts.models import User


# Clocks of staff machines drift a little; a minute ahead is still "now".
CLOCK_SKEW = timedelta(minutes=1)


def _not_in_future(at: datetime, *, field: str | None = None) -> None:
    if at > timezone.now() + CLOCK_SKEW:
        raise DomainError(IncidentsError.TIME_IN_FUTURE, field=field)


def _not_before_declaration(at: datetime, incident: Incident, *, field: str | None = None) -> None:
    if at < incident.declared_at - CLOCK_SKEW:
        raise DomainError(IncidentsError.BEFORE_DECLARATION, field=field)


def _require_open(incident: Incident, *, allow_closed: bool = False) -> None:
    """Refuse changes to a closed or reviewed incident (reads the row under a lock).

    ``allow_closed`` lets a closed incident still take notes for its review; a reviewed incident
    is final.
    """
    state = Incident.objects.select_for_update().values_list("state", flat=True).get(pk=incident.pk)
    if state == IncidentState.REVIEWED:
        raise DomainError(IncidentsError.REVIEWED)
    if state == IncidentState.CLOSED and not allow_closed:
        raise DomainError(IncidentsError.CLOSED)


def _to_minute(at: datetime | None) -> datetime | None:
    """Due times are kept to the minute: the ``datetime-local`` widget posts no seconds."""
    return at.replace(second=0, microsecond=0) if at is not None else None


# The models that carry a ``version`` for stale-edit checks.
_Versioned = TypeVar("_Versioned", Incident, Task)


def _lock(model: type[_Versioned], obj: _Versioned, version: int | str | None) -> _Versioned:
    """Lock the row; refuse when it changed since the caller read ``version``."""
    if version is not None:
        try:
            version = int(version)
        except (TypeError, ValueError):
            raise DomainError(CoreError.INCOMPLETE_FORM) from None
    locked = model.objects.select_for_update().get(pk=obj.pk)
    if version is not None and locked.version != version:
        raise StaleRecord()
    return locked


def _check_cause(category: str, detail: str) -> None:
    if detail and detail not in CAUSE_TREE.get(category, []):
        raise DomainError(IncidentsError.SUBCAUSE_MISMATCH, field="cause_detail")


def _holds_any(user: User, roles: Iterable[str]) -> bool:
    return bool({r.value for r in roles_of(user)} & {str(r) for r in roles})
