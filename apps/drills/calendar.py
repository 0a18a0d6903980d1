"""Repetition of drill plans and each person's iCalendar feed (signed URL, no sign-in)."""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.utils import timezone

from .choices import Repeat

if TYPE_CHECKING:
    from apps.accounts.models import User

    from .models import DrillPlan

FEED_SALT = "drills.calendar-feed"


def _add_months(when: datetime, months: int) -> datetime:
    month = when.month - 1 + months
    year, month = when.year + month // 12, month % 12 + 1
    day = min(when.day, _calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def occurrences(plan: DrillPlan, *, until: date | None = None, limit: int = 200) -> list[datetime]:
    """The plan's drill start times: the first, then every repetition up to ``repeat_until``
    (or ``until``, or a year after the first when the plan repeats without an end)."""
    first = plan.scheduled_at
    if plan.repeat == Repeat.NONE:
        return [first]
    end = plan.repeat_until or until or (first + timedelta(days=366)).date()
    if until is not None:
        end = min(end, until)
    local_first = timezone.localtime(first)
    found: list[datetime] = []
    n = 0
    while len(found) < limit:
        if plan.repeat == Repeat.WEEKLY:
            when = local_first + timedelta(weeks=n)
        else:
            when = _add_months(local_first, n * (1 if plan.repeat == Repeat.MONTHLY else 3))
        if when.date() > end:
            break
        found.append(when)
        n += 1
    return found


def feed_token(user: User) -> str:
    """A signed token naming the user: the feed URL works in calendar apps without a session."""
    return signing.dumps({"u": user.pk}, salt=FEED_SALT, compress=True)


def user_from_token(token: str) -> int | None:
    try:
        data: Any = signing.loads(token, salt=FEED_SALT)
    except signing.BadSignature:
        return None
    return int(data["u"]) if isinstance(data, dict) and "u" in data else None
