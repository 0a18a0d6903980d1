"""Read side: the monitoring page, and the business figures of plan 5.3(1) from recorded data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from .choices import ACTIVE_ALARM_STATES, ProblemState
from .models import Alarm, AlarmRule, DutyShift, Probe, ProblemReport, Sample


def list_alarms(*, active_only: bool = False) -> QuerySet[Alarm]:
    qs = Alarm.objects.select_related("rule", "rule__probe", "acknowledged_by", "incident")
    return qs.filter(state__in=ACTIVE_ALARM_STATES) if active_only else qs


def active_alarms() -> list[Alarm]:
    return list(list_alarms(active_only=True))


def probes_with_latest_sample() -> list[Probe]:
    """Each probe with ``latest`` (its newest sample or None), in two queries."""
    probes = list(Probe.objects.order_by("kind", "name"))
    newest = Sample.objects.filter(probe=OuterRef("pk")).order_by("-at", "-pk").values("pk")[:1]
    ids = dict(Probe.objects.annotate(s=Subquery(newest)).values_list("pk", "s"))
    samples = Sample.objects.in_bulk([i for i in ids.values() if i])
    for probe in probes:
        probe.latest = samples.get(ids.get(probe.pk))  # type: ignore[attr-defined]
    return probes


def list_rules() -> QuerySet[AlarmRule]:
    return AlarmRule.objects.select_related("probe")


def list_problems(*, open_only: bool = False) -> QuerySet[ProblemReport]:
    qs = ProblemReport.objects.select_related("reporter", "incident").defer("screenshot")
    return qs.exclude(state=ProblemState.SOLVED) if open_only else qs


def on_duty(*, at: datetime) -> list[Any]:
    """The active tech-support accounts whose shift covers ``at`` (start included, end not)."""
    from apps.accounts.models import User
    from apps.accounts.roles import Role

    shifts = DutyShift.objects.filter(starts_at__lte=at, ends_at__gt=at)
    return list(
        User.objects.filter(
            is_active=True,
            groups__name=Role.TECH_SUPPORT.value,
            pk__in=shifts.values("person_id"),
        )
        .distinct()
        .order_by("username")
    )


def list_shifts(*, now: datetime, past_days: int = 7) -> QuerySet[DutyShift]:
    """Shifts still running or to come, and those that ended in the last ``past_days``."""
    return DutyShift.objects.filter(ends_at__gt=now - timedelta(days=past_days)).select_related(
        "person", "created_by"
    )


# --- business figures ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figures:
    orders_per_hour: list[tuple[datetime, int]]
    backlog: dict[str, int]
    entry_to_dispatch: list[tuple[Any, float, int]]  # (day, average hours, orders)
    count_progress: list[tuple[str, int, int]]  # (session, lines counted, lines)
    care_by_time_left: list[tuple[str, int]] | None  # None: not measured (no cases table yet)


def orders_per_hour(*, now: datetime, hours: int = 24) -> list[tuple[datetime, int]]:
    """Manual orders taken in each of the last ``hours`` hours (empty hours as zero)."""
    from apps.manual_orders.models import ManualOrder

    end = timezone.localtime(now).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=hours)
    counted = {
        timezone.localtime(row["hour"]): row["n"]
        for row in ManualOrder.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(n=Count("id"))
    }
    return [
        (start + timedelta(hours=i), counted.get(start + timedelta(hours=i), 0))
        for i in range(hours)
    ]


def backlog() -> dict[str, int]:
    """Orders taken (not yet allocated), allocated, dispatched (incl. delivered), handed back."""
    from apps.manual_orders.choices import OrderState, PushState
    from apps.manual_orders.models import ManualOrder

    row = ManualOrder.objects.aggregate(
        taken=Count("id", filter=Q(state__in=[OrderState.CAPTURED, OrderState.CONFIRMED])),
        allocated=Count("id", filter=Q(state=OrderState.ALLOCATED)),
        dispatched=Count("id", filter=Q(state__in=[OrderState.DISPATCHED, OrderState.DELIVERED])),
        handed_back=Count("id", filter=Q(push_state=PushState.PUSHED)),
    )
    return {k: int(v or 0) for k, v in row.items()}


def entry_to_dispatch(*, now: datetime, days: int = 7) -> list[tuple[Any, float, int]]:
    """Average hours from an order's entry to its dispatch, per day of dispatch."""
    from apps.manual_orders.choices import OrderState
    from apps.manual_orders.models import OrderEvent

    rows = (
        OrderEvent.objects.filter(
            to_state=OrderState.DISPATCHED, at__gte=now - timedelta(days=days)
        )
        .annotate(
            day=TruncDate("at"),
            took=ExpressionWrapper(F("at") - F("order__created_at"), output_field=DurationField()),
        )
        .values("day")
        .annotate(avg=Avg("took"), n=Count("id"))
        .order_by("day")
    )
    return [
        (r["day"], round(r["avg"].total_seconds() / 3600, 2) if r["avg"] else 0.0, r["n"])
        for r in rows
    ]


def count_progress() -> list[tuple[str, int, int]]:
    """Open count sessions: lines counted out of lines to count."""
    from apps.inventory_counts.choices import SessionState
    from apps.inventory_counts.models import CountSession

    sessions = (
        CountSession.objects.filter(
            state__in=[SessionState.COUNTING, SessionState.RECOUNT, SessionState.REVIEW]
        )
        .annotate(
            total=Count("lines"),
            counted=Count("lines", filter=Q(lines__counted_qty__isnull=False)),
        )
        .order_by("pk")
    )
    return [(s.name, s.counted, s.total) for s in sessions]


CARE_BUCKETS = [
    ("overdue", None, timedelta(0)),
    ("lt4h", timedelta(0), timedelta(hours=4)),
    ("lt24h", timedelta(hours=4), timedelta(hours=24)),
    ("later", timedelta(hours=24), None),
]


def care_cases_by_time_left(*, now: datetime) -> list[tuple[str, int]] | None:
    """Open care cases by time left before they are due (customer care's own selector)."""
    if not apps.is_installed("apps.customer_care"):
        return None
    from apps.customer_care.selectors import open_cases_by_time_left

    return open_cases_by_time_left(now=now, buckets=CARE_BUCKETS)


def business_figures(*, now: datetime | None = None) -> Figures:
    now = now or timezone.now()
    return Figures(
        orders_per_hour=orders_per_hour(now=now),
        backlog=backlog(),
        entry_to_dispatch=entry_to_dispatch(now=now),
        count_progress=count_progress(),
        care_by_time_left=care_cases_by_time_left(now=now),
    )
