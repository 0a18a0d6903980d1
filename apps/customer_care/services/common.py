"""What the care use cases share: locking with a version check, the case timeline, clocks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from apps.core.errors import DomainError, StaleRecord
from apps.core.events import json_safe

from ..choices import FAST_LANE, NORMAL_LANE, Priority
from ..engine.hours import BusinessHours
from ..errors import CareError
from ..models import Case, CaseEvent, ResponseTarget, Team

if TYPE_CHECKING:
    from apps.accounts.models import User


def lock_case(case: Case | int, *, version: int | None = None) -> Case:
    """The case's row locked ``FOR UPDATE``; a stale ``version`` from a form is refused."""
    pk = case if isinstance(case, int) else case.pk
    locked = Case.objects.select_for_update(of=("self",)).select_related("customer").get(pk=pk)
    if version is not None and int(version) != locked.version:
        raise StaleRecord(CareError.STALE, params={"reference": locked.reference})
    return locked


def save_case(case: Case, *, reason: str = "") -> None:
    """Save a locked case with a new version (django-simple-history keeps the audit row)."""
    case.version += 1
    case.updated_at = timezone.now()
    if reason:
        case._change_reason = reason  # type: ignore[attr-defined]
    case.save()


def record(
    case: Case, event_kind: str, /, *, by: User | None, at: datetime | None = None, **params: Any
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, kind=event_kind, params=json_safe(params), by=by, at=at or timezone.now()
    )


def lane_of(*, vip: bool, priority: str) -> int:
    return FAST_LANE if vip or priority == Priority.URGENT else NORMAL_LANE


# --- clocks ---------------------------------------------------------------------------------------
# Within ``clock_memo()`` (one mailbox poll), targets and the 24-hour mode are read once: a
# poll takes seconds, and a change made meanwhile applies from the next poll.
_MEMO: ContextVar[dict[Any, Any] | None] = ContextVar("care_clock_memo", default=None)


@contextmanager
def clock_memo() -> Iterator[None]:
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _memo(key: Any, compute: Callable[[], Any]) -> Any:
    memo = _MEMO.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def target_minutes(*, priority: str, channel: str) -> tuple[int, int]:
    """(first response, resolution) minutes: the channel's own target, the priority's, the
    settings' default."""
    return _memo(("target", priority, channel), lambda: _target_minutes(priority, channel))


def _target_minutes(priority: str, channel: str) -> tuple[int, int]:
    rows = {
        t.channel: t
        for t in ResponseTarget.objects.filter(priority=priority, channel__in=[channel, ""])
    }
    row = rows.get(channel) or rows.get("")
    if row is not None:
        return row.first_response_minutes, row.resolution_minutes
    first, resolution = settings.CARE_RESPONSE_TARGETS.get(
        priority, settings.CARE_RESPONSE_TARGETS["normal"]
    )
    return int(first), int(resolution)


def _parse_hours(text: str) -> tuple[time, time]:
    opens, _sep, closes = text.partition("-")
    return time.fromisoformat(opens.strip()), time.fromisoformat(closes.strip())


def round_the_clock_now() -> bool:
    """24-hour mode: any open incident switches every team's clock to day and night (7.1.2(2))."""
    from apps.incidents.selectors import get_open_incident

    return bool(_memo("round_the_clock", lambda: get_open_incident() is not None))


def business_hours(team: Team | None) -> BusinessHours:
    tz = ZoneInfo(settings.TIME_ZONE)
    always = round_the_clock_now()
    if team is not None:
        return BusinessHours.of(
            opens=team.opens_at,
            closes=team.closes_at,
            weekdays=team.weekdays,
            tz=tz,
            round_the_clock=always or team.round_the_clock,
        )
    opens, closes = _parse_hours(settings.CARE_BUSINESS_HOURS)
    return BusinessHours.of(
        opens=opens,
        closes=closes,
        weekdays=settings.CARE_BUSINESS_DAYS,
        tz=tz,
        round_the_clock=always,
    )


def start_clock(case: Case) -> None:
    """Set the case's targets from when it was opened (its channel, priority and team)."""
    first, resolution = target_minutes(priority=case.priority, channel=case.channel)
    hours = business_hours(case.team)
    case.first_response_due = hours.add(case.created_at, first)
    case.resolution_due = hours.add(case.created_at, resolution)
    refresh_due(case)


def refresh_due(case: Case) -> None:
    """The deadline the queue sorts by: first response until answered, then resolution."""
    case.due_at = case.resolution_due if case.first_responded_at else case.first_response_due
    case.lane = lane_of(vip=case.vip, priority=case.priority)


def refuse(code: CareError, *, field: str | None = None, **params: Any) -> DomainError:
    return DomainError(code, params=params, field=field)
