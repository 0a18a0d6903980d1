"""Read-side queries: drill pages, rehearsal trend, the training readiness matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Max, Prefetch, QuerySet
from django.utils import timezone

from apps.accounts.roles import Role

from .choices import CertificateStatus, DrillPhase, RehearsalState
from .models import (
    Certificate,
    Course,
    DrillPlan,
    DrillRun,
    ImprovementAction,
    PhaseTime,
    RestoreRehearsal,
    TrainingSession,
)

EXPIRING_WITHIN = timedelta(days=30)


def list_plans() -> QuerySet[DrillPlan]:
    return DrillPlan.objects.select_related("created_by").prefetch_related("runs")


def list_runs() -> QuerySet[DrillRun]:
    return DrillRun.objects.select_related("plan", "incident", "started_by")


def get_run(pk: int) -> DrillRun:
    return (
        list_runs()
        .prefetch_related(
            Prefetch("phase_times", queryset=PhaseTime.objects.select_related("recorded_by")),
            Prefetch("actions", queryset=ImprovementAction.objects.select_related("owner")),
        )
        .get(pk=pk)
    )


@dataclass
class PhaseRow:
    phase: str
    label: Any
    target: int | None
    minutes: float | None
    reached_at: Any = None

    @property
    def late(self) -> bool | None:
        if self.minutes is None or self.target is None:
            return None
        return self.minutes > self.target


def phase_rows(run: DrillRun) -> list[PhaseRow]:
    """Measured minutes per phase (from the drill's start) against the plan's targets."""
    recorded = {p.phase: p for p in run.phase_times.all()}
    rows = []
    for phase in DrillPhase:
        p = recorded.get(phase.value)
        rows.append(
            PhaseRow(
                phase.value,
                phase.label,
                run.plan.target_minutes(phase.value),
                p.minutes if p else None,
                p.reached_at if p else None,
            )
        )
    return rows


def list_improvement_actions(*, open_only: bool = False) -> QuerySet[ImprovementAction]:
    """What the evaluation reports pick up: every drill's improvement actions."""
    qs = ImprovementAction.objects.select_related("run__plan", "owner")
    return qs.filter(state="open") if open_only else qs


def list_rehearsals() -> QuerySet[RestoreRehearsal]:
    return RestoreRehearsal.objects.select_related("started_by", "job")


def rehearsal_trend(*, limit: int = 30) -> list[RestoreRehearsal]:
    """The finished rehearsals, oldest first, for the RTO/RPO chart."""
    rows = list(
        RestoreRehearsal.objects.filter(
            state__in=[RehearsalState.PASSED, RehearsalState.FAILED], rto_seconds__isnull=False
        ).order_by("-finished_at", "-pk")[:limit]
    )
    return list(reversed(rows))


def latest_passing_rehearsal(*, since=None) -> RestoreRehearsal | None:
    qs = RestoreRehearsal.objects.filter(state=RehearsalState.PASSED)
    if since is not None:
        qs = qs.filter(finished_at__gte=since)
    return qs.order_by("-finished_at", "-pk").first()


def list_courses() -> QuerySet[Course]:
    return Course.objects.filter(is_active=True)


def list_sessions() -> QuerySet[TrainingSession]:
    return TrainingSession.objects.select_related("course", "trainer")


# --- the readiness matrix -------------------------------------------------------------------------


@dataclass
class MatrixRow:
    user: Any
    cells: list[tuple[str, date | None]] = field(default_factory=list)  # (status, expires_on)

    @property
    def ready(self) -> bool:
        return all(
            s in (CertificateStatus.CURRENT, CertificateStatus.EXPIRING) or s == ""
            for s, _e in self.cells
        )


@dataclass
class Matrix:
    courses: list[Course]
    rows: list[MatrixRow]
    totals: dict[str, int]


def cell_status(expires_on: date | None, today: date) -> str:
    if expires_on is None:
        return CertificateStatus.MISSING
    if expires_on < today:
        return CertificateStatus.EXPIRED
    if expires_on <= today + EXPIRING_WITHIN:
        return CertificateStatus.EXPIRING
    return CertificateStatus.CURRENT


def required_courses_by_role(courses: list[Course]) -> dict[str, set[int]]:
    needs: dict[str, set[int]] = {}
    for course in courses:
        for role in course.required_for or []:
            needs.setdefault(str(role), set()).add(course.pk)
    return needs


def readiness_matrix(*, users: QuerySet | None = None, today: date | None = None) -> Matrix:
    """Person × required course: current, expiring within 30 days, expired or missing.

    Four queries whatever the size: courses, people (with their roles), and the newest expiry
    per person and course. A course a person's roles do not require is an empty cell ("").
    """
    today = today or timezone.localdate()
    courses = list(list_courses())
    needs = required_courses_by_role(courses)
    User = get_user_model()
    people_qs = (
        (users if users is not None else User.objects.all())
        .filter(is_active=True, groups__name__in=list(needs))
        .distinct()
        .order_by("username")
        .prefetch_related("groups")
    )
    people = list(people_qs)
    latest: dict[tuple[int, int], date] = {
        (row["user_id"], row["course_id"]): row["last"]
        for row in Certificate.objects.filter(
            course__in=[c.pk for c in courses], user__is_active=True
        )
        .values("user_id", "course_id")
        .annotate(last=Max("expires_on"))
    }
    totals = {s: 0 for s in CertificateStatus.values}
    rows = []
    for person in people:
        roles = {g.name for g in person.groups.all()}
        wanted = set().union(*(needs.get(r, set()) for r in roles)) if roles else set()
        row = MatrixRow(person)
        for course in courses:
            if course.pk not in wanted:
                row.cells.append(("", None))
                continue
            expires = latest.get((person.pk, course.pk))
            status = cell_status(expires, today)
            totals[status] += 1
            row.cells.append((status, expires))
        rows.append(row)
    return Matrix(courses, rows, totals)


def untrained_people(*, today: date | None = None) -> list[tuple[Any, list[Course]]]:
    """Everyone on a role with required courses whose certificate is missing or expired."""
    matrix = readiness_matrix(today=today)
    out = []
    for row in matrix.rows:
        lacking = [
            course
            for course, (status, _e) in zip(matrix.courses, row.cells, strict=True)
            if status in (CertificateStatus.MISSING, CertificateStatus.EXPIRED)
        ]
        if lacking:
            out.append((row.user, lacking))
    return out


ROLE_LABELS = {r.value: r.label for r in Role}
