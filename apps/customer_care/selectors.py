"""Read side of the care desk: the queue, a case's page, the team view and agents' figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from .choices import OPEN_STATES, CaseState, CaseType
from .models import Case, CaseEvent, CaseMessage, Compensation, ResponseTarget, Survey, Team

if TYPE_CHECKING:
    from apps.accounts.models import User

QUEUE_PAGE = 50


def open_cases_by_time_left(
    *, now: datetime, buckets: list[tuple[str, timedelta | None, timedelta | None]]
) -> list[tuple[str, int]]:
    """Open cases counted per band of time left before they are due, in one query.

    ``buckets`` are ``(key, low, high)`` offsets from ``now`` (``None`` = unbounded), e.g. the
    monitoring dashboard's overdue / under 4 h / under 24 h / later.
    """
    counts: dict[str, Any] = {}
    for key, low, high in buckets:
        cond = Q()
        if low is not None:
            cond &= Q(due_at__gte=now + low)
        if high is not None:
            cond &= Q(due_at__lt=now + high)
        counts[key] = Count("pk", filter=cond)
    row = Case.objects.filter(state__in=OPEN_STATES).aggregate(**counts)
    return [(key, row[key]) for key, _low, _high in buckets]


def queue(
    *,
    owner: User | None = None,
    unassigned: bool = False,
    after: tuple[int, datetime, int] | None = None,
    limit: int = QUEUE_PAGE,
) -> list[Case]:
    """Open cases, the priority lane (VIP customers, urgent cases) first, then by time left.

    Keyset-paged on ``(lane, due_at, id)`` — the partial index ``care_case_queue`` — so the
    page costs the same with 100 or 100,000 open cases; two queries whatever the page holds.
    """
    qs = Case.objects.filter(state__in=OPEN_STATES)
    if owner is not None:
        qs = qs.filter(owner=owner)
    elif unassigned:
        qs = qs.filter(owner__isnull=True)
    if after is not None:
        lane, due, pk = after
        qs = qs.filter(
            Q(lane__gt=lane) | Q(lane=lane, due_at__gt=due) | Q(lane=lane, due_at=due, id__gt=pk)
        )
    return list(
        qs.select_related("customer", "owner")
        .only(
            "id",
            "subject",
            "channel",
            "case_type",
            "priority",
            "vip",
            "lane",
            "state",
            "due_at",
            "first_responded_at",
            "first_response_breached_at",
            "resolution_breached_at",
            "contact_name",
            "contact_email",
            "customer__name",
            "customer__phone",
            "customer__vip",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        )
        .order_by("lane", "due_at", "id")[:limit]
    )


@dataclass(frozen=True)
class Clock:
    """What the queue shows of a case's clock."""

    minutes_left: int
    breached: bool
    about_to_breach: bool


def clock_of(case: Case, *, now: datetime | None = None) -> Clock:
    now = now or timezone.now()
    left = int((case.due_at - now).total_seconds() // 60)
    warn = settings.CARE_BREACH_WARNING_MINUTES
    breached = left < 0 or bool(
        case.resolution_breached_at
        or (case.first_response_breached_at and not case.first_responded_at)
    )
    return Clock(
        minutes_left=left, breached=breached, about_to_breach=not breached and left <= warn
    )


def get_case(pk: int) -> Case:
    return Case.objects.select_related("customer", "owner", "team", "created_by").get(pk=pk)


def conversation(case: Case) -> QuerySet[CaseMessage]:
    return case.messages.select_related("author", "notification").order_by("created_at", "pk")


def timeline(case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("by").order_by("at", "pk")


def customer_history(case: Case, *, limit: int = 10) -> QuerySet[Case]:
    if not case.customer_id:
        return Case.objects.none()
    return (
        Case.objects.filter(customer_id=case.customer_id)
        .exclude(pk=case.pk)
        .order_by("-pk")[:limit]
    )


def care_agents() -> QuerySet[User]:
    """Everyone who may work cases (care agents and leads), for owner choices."""
    from apps.accounts.models import User
    from apps.accounts.roles import ROLE_PERMISSIONS

    roles = [
        str(role) for role, perms in ROLE_PERMISSIONS.items() if "customer_care.work_case" in perms
    ]
    return (
        User.objects.filter(is_active=True, groups__name__in=roles).distinct().order_by("username")
    )


def team_view() -> dict[str, Any]:
    """Open cases by agent, by state, and by time left (breached / due within the warning
    window / later) — counted in the database, one query each."""
    now = timezone.now()
    soon = now + timedelta(minutes=settings.CARE_BREACH_WARNING_MINUTES)
    open_cases = Case.objects.filter(state__in=OPEN_STATES)
    by_agent = list(
        open_cases.values("owner_id", "owner__username", "owner__first_name", "owner__last_name")
        .annotate(
            total=Count("id"),
            breached=Count("id", filter=Q(due_at__lte=now)),
            soon=Count("id", filter=Q(due_at__gt=now, due_at__lte=soon)),
        )
        .order_by("owner__username")
    )
    by_state = {
        row["state"]: row["n"] for row in open_cases.values("state").annotate(n=Count("id"))
    }
    by_time = open_cases.aggregate(
        breached=Count("id", filter=Q(due_at__lte=now)),
        soon=Count("id", filter=Q(due_at__gt=now, due_at__lte=soon)),
        later=Count("id", filter=Q(due_at__gt=soon)),
    )
    return {
        "by_agent": by_agent,
        "by_state": [(CaseState(s).label, by_state.get(s, 0)) for s in OPEN_STATES],
        "by_time": by_time,
    }


@dataclass(frozen=True)
class AgentFigures:
    agent_id: int | None
    name: str
    cases: int
    answered: int
    resolved: int
    reopened: int
    first_response_minutes: float | None
    resolution_minutes: float | None
    first_response_missed: int
    resolution_missed: int


def agent_figures(
    *, since: datetime | None = None, until: datetime | None = None
) -> list[AgentFigures]:
    """Each agent's figures over cases opened in a period: mean time to first response and to
    resolution (wall-clock minutes), cases reopened, targets missed. The evaluation reports read
    this; one grouped query."""
    qs = Case.objects.all()
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    first = ExpressionWrapper(
        F("first_responded_at") - F("created_at"), output_field=DurationField()
    )
    resolve = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    rows = (
        qs.values("owner_id", "owner__username", "owner__first_name", "owner__last_name")
        .annotate(
            cases=Count("id"),
            answered=Count("id", filter=Q(first_responded_at__isnull=False)),
            resolved=Count("id", filter=Q(resolved_at__isnull=False)),
            reopened=Count("id", filter=Q(reopened_count__gt=0)),
            first_avg=Avg(first, filter=Q(first_responded_at__isnull=False)),
            resolve_avg=Avg(resolve, filter=Q(resolved_at__isnull=False)),
            first_missed=Count("id", filter=Q(first_response_breached_at__isnull=False)),
            resolution_missed=Count("id", filter=Q(resolution_breached_at__isnull=False)),
        )
        .order_by("owner__username")
    )

    def minutes(value: timedelta | None) -> float | None:
        return round(value.total_seconds() / 60, 1) if value is not None else None

    return [
        AgentFigures(
            agent_id=r["owner_id"],
            name=(
                f"{r['owner__last_name']}{r['owner__first_name']}".strip() or r["owner__username"]
            )
            if r["owner_id"]
            else "",
            cases=r["cases"],
            answered=r["answered"],
            resolved=r["resolved"],
            reopened=r["reopened"],
            first_response_minutes=minutes(r["first_avg"]),
            resolution_minutes=minutes(r["resolve_avg"]),
            first_response_missed=r["first_missed"],
            resolution_missed=r["resolution_missed"],
        )
        for r in rows
    ]


def response_targets() -> QuerySet[ResponseTarget]:
    return ResponseTarget.objects.order_by("priority", "channel")


def teams() -> QuerySet[Team]:
    return Team.objects.select_related("lead").prefetch_related("members")


# --- read by the evaluations (customer satisfaction, 10.1.5) -----------------------------------


@dataclass(frozen=True)
class CaseTimes:
    """One case's clock and what was granted on it."""

    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    is_complaint: bool
    compensation: Decimal  # the summed cost of the compensation granted on the case (0: none)


def cases_opened_between(start: datetime, end: datetime) -> list[CaseTimes]:
    """Cases opened in [start, end), each with the cost of its compensation, in one query."""
    cost = (
        Compensation.objects.filter(case=OuterRef("pk"))
        .order_by()
        .values("case")
        .annotate(total=Sum("cost"))
        .values("total")
    )
    rows = (
        Case.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(
            cost=Coalesce(
                Subquery(cost),
                Value(Decimal("0")),
                output_field=DecimalField(max_digits=12, decimal_places=2),
            )
        )
        .order_by("created_at", "pk")
        .values_list("created_at", "first_responded_at", "resolved_at", "case_type", "cost")
    )
    return [
        CaseTimes(opened, first, resolved, case_type == CaseType.COMPLAINT, cost)
        for opened, first, resolved, case_type, cost in rows
    ]


def survey_answers_between(start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The scores (1–5) customers gave in [start, end), with their answer time."""
    rows = (
        Survey.objects.filter(answered_at__gte=start, answered_at__lt=end, score__isnull=False)
        .order_by("answered_at", "pk")
        .values_list("answered_at", "score")
    )
    return [(at, score) for at, score in rows if at is not None and score is not None]


def survey_score_totals(windows: Sequence[tuple[datetime, datetime]]) -> list[tuple[int, int]]:
    """The sum and the number of the scores answered in each [start, end) window, in one
    query whatever the number of windows."""
    if not windows:
        return []
    totals: dict[str, Any] = {}
    for n, (start, end) in enumerate(windows):
        within = Q(answered_at__gte=start, answered_at__lt=end)
        totals[f"sum_{n}"] = Sum("score", filter=within)
        totals[f"count_{n}"] = Count("pk", filter=within)
    row = Survey.objects.filter(
        score__isnull=False,
        answered_at__gte=min(w[0] for w in windows),
        answered_at__lt=max(w[1] for w in windows),
    ).aggregate(**totals)
    return [(row[f"sum_{n}"] or 0, row[f"count_{n}"]) for n in range(len(windows))]
