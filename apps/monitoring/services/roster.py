"""The duty roster: which tech-support staff are on duty, so an alarm is announced to them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from apps.accounts.roles import Role
from apps.core.errors import DomainError

from ..errors import MonitoringError
from ..models import DutyShift

if TYPE_CHECKING:
    from datetime import datetime

    from apps.accounts.models import User


def check_duty_shift(*, person: User, starts_at: datetime, ends_at: datetime) -> None:
    """Refuse a shift that ends before (or when) it starts, or a person who is not tech support.

    Overlapping shifts are allowed on purpose: two people may be on duty at once.
    """
    if ends_at <= starts_at:
        raise DomainError(MonitoringError.SHIFT_ENDS_BEFORE_START, field="ends_at")
    if not (person.is_active and person.groups.filter(name=Role.TECH_SUPPORT.value).exists()):
        raise DomainError(
            MonitoringError.NOT_TECH_SUPPORT, params={"person": str(person)}, field="person"
        )


@transaction.atomic
def add_duty_shift(*, person: User, starts_at: datetime, ends_at: datetime, by: User) -> DutyShift:
    """Put a tech-support person on duty from ``starts_at`` until ``ends_at``."""
    check_duty_shift(person=person, starts_at=starts_at, ends_at=ends_at)
    shift = DutyShift(person=person, starts_at=starts_at, ends_at=ends_at, created_by=by)
    shift._history_user = by  # type: ignore[attr-defined]
    shift.save()
    return shift


@transaction.atomic
def remove_duty_shift(*, shift: DutyShift, by: User) -> None:
    """Take a shift off the roster (its history keeps who entered and who removed it)."""
    locked = DutyShift.objects.select_for_update().filter(pk=shift.pk).first()
    if locked is None:
        return  # removed a moment ago by someone else: the roster is as asked
    locked._history_user = by  # type: ignore[attr-defined]
    locked.delete()
