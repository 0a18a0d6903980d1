"""Read-side queries for the incident pages and the dashboard card."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from .choices import IncidentState, Phase, TaskState
from .models import (
    Incident,
    Meeting,
    MeetingDecision,
    ReadinessCheck,
    Task,
    TaskTemplate,
    TeamMember,
    TimelineEntry,
)


def get_open_incident() -> Incident | None:
    """The incident being worked: the newest one not closed or reviewed; a real incident
    always before a drill (a drill running alongside never takes a real incident's events)."""
    return (
        Incident.objects.filter(state__in=IncidentState.open_states())
        .order_by("is_drill", "-declared_at", "-pk")
        .first()
    )


def real_incidents() -> QuerySet[Incident]:
    """What every real-incident figure counts: drills are left out."""
    return Incident.objects.filter(is_drill=False)


def drill_incidents() -> QuerySet[Incident]:
    """What drill reports count."""
    return Incident.objects.filter(is_drill=True)


def incident_figures(incidents: QuerySet[Incident] | None = None) -> dict[str, Any]:
    """Counts and mean response / recovery minutes (default: real incidents only)."""
    incidents = real_incidents() if incidents is None else incidents
    rows = list(incidents.values_list("detected_at", "team_assembled_at", "recovered_at"))

    def mean_minutes(pairs: list[tuple[Any, Any]]) -> float | None:
        spans = [(end - start).total_seconds() / 60 for start, end in pairs if end is not None]
        return round(sum(spans) / len(spans), 1) if spans else None

    return {
        "count": len(rows),
        "open": incidents.filter(state__in=IncidentState.open_states()).count(),
        "mean_response_minutes": mean_minutes([(d, t) for d, t, _r in rows]),
        "mean_recovery_minutes": mean_minutes([(d, r) for d, _t, r in rows]),
    }


def list_incidents() -> QuerySet[Incident]:
    return Incident.objects.select_related("declared_by").order_by("-declared_at", "-pk")


def list_team(incident: Incident) -> QuerySet[TeamMember]:
    return incident.team.select_related("user", "assigned_by")


def list_tasks(incident: Incident) -> QuerySet[Task]:
    return (
        incident.tasks.select_related("owner", "completed_by")
        .alias(phase_order=Phase.plan_order())
        .order_by("phase_order", "due_at", "pk")
    )


def list_overdue_tasks(incident: Incident) -> QuerySet[Task]:
    return list_tasks(incident).filter(state__in=TaskState.open_states(), due_at__lt=timezone.now())


def list_timeline(incident: Incident) -> QuerySet[TimelineEntry]:
    return incident.timeline.select_related("by")


def list_meetings(incident: Incident) -> QuerySet[Meeting]:
    return incident.meetings.prefetch_related(
        "attendees", Prefetch("decisions", queryset=MeetingDecision.objects.select_related("task"))
    )


def live_summary(incident: Incident | None, *, latest: int = 5) -> dict[str, Any]:
    """What the live block shows: state, elapsed time, team on duty, overdue tasks, latest news."""
    if incident is None:
        return {"incident": None}
    return {
        "incident": incident,
        "elapsed": timezone.now() - incident.detected_at,
        "team": list(list_team(incident)),
        "overdue": list(list_overdue_tasks(incident)),
        "open_tasks": list_tasks(incident).filter(state__in=TaskState.open_states()).count(),
        "latest": list(reversed(list(list_timeline(incident).order_by("-at", "-pk")[:latest]))),
    }


def list_templates() -> QuerySet[TaskTemplate]:
    return TaskTemplate.objects.alias(phase_order=Phase.plan_order()).order_by(
        "phase_order", "position", "pk"
    )


def list_readiness_checks() -> QuerySet[ReadinessCheck]:
    return ReadinessCheck.objects.select_related("created_by", "signed_off_by")
