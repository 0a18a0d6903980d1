"""Read-side queries: drill pages, rehearsal trend, the training readiness matrix."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, FilteredRelation, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.accounts.roles import Role
from apps.evaluations import action_selectors as evaluation_actions
from apps.evaluations.models import ImprovementAction

from .choices import PHASE_INCIDENT_FIELD, CertificateStatus, DrillPhase, RehearsalState
from .models import (
    Certificate,
    Course,
    DrillPlan,
    DrillRun,
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
    """Every drill's improvement actions, as the evaluations own them (category "drills")."""
    return evaluation_actions.actions_from(DrillRun, open_only=open_only)


def actions_of_run(run: DrillRun) -> QuerySet[ImprovementAction]:
    return evaluation_actions.actions_for(run)


def runs_by_pk(actions: list[ImprovementAction]) -> dict[int, DrillRun]:
    """The drills the listed actions came from, in one query (for links back to them)."""
    ids = {a.source_id for a in actions if a.source_id is not None}
    return {r.pk: r for r in DrillRun.objects.filter(pk__in=ids).select_related("plan")}


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


def finished_rehearsals(
    *, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[RestoreRehearsal]:
    """Rehearsals that passed or failed, finished in [start, end) when given, oldest first."""
    qs = RestoreRehearsal.objects.filter(
        state__in=[RehearsalState.PASSED, RehearsalState.FAILED], finished_at__isnull=False
    )
    if start is not None:
        qs = qs.filter(finished_at__gte=start)
    if end is not None:
        qs = qs.filter(finished_at__lt=end)
    return qs.order_by("finished_at", "pk")


# --- the incident times a drill recorded (read by the evaluations) ----------------------------


def recorded_incident_times(incident_ids: Collection[int]) -> dict[int, dict[str, datetime]]:
    """Per drill incident, the incident times its drill recorded on the drills page, by the
    incident's field name (``{"declared_at": …, "recovered_at": …}``), in one query."""
    out: dict[int, dict[str, datetime]] = {}
    if not incident_ids:
        return out
    rows = PhaseTime.objects.filter(run__incident_id__in=list(incident_ids)).values_list(
        "run__incident_id", "phase", "reached_at"
    )
    for incident_id, phase, reached_at in rows:
        if phase in PHASE_INCIDENT_FIELD:
            out.setdefault(incident_id, {})[PHASE_INCIDENT_FIELD[phase]] = reached_at
    return out


def with_recorded_times(incidents: QuerySet[Any], field_names: Iterable[str]) -> QuerySet[Any]:
    """``recorded_incident_times`` in SQL: the incidents annotated ``recorded_<field>``, the time
    their drill recorded for that incident field (NULL where it recorded none, and for real
    incidents), joined rather than read by a subquery per incident."""
    for name in field_names:
        phase = next(p for p, f in PHASE_INCIDENT_FIELD.items() if f == name)
        alias = f"_drill_phase_{phase}"
        incidents = incidents.alias(
            **{
                alias: FilteredRelation(
                    "drill_run__phase_times", condition=Q(drill_run__phase_times__phase=phase)
                )
            }
        ).annotate(**{f"recorded_{name}": F(f"{alias}__reached_at")})
    return incidents


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

    Four queries whatever the size: courses, who holds which role, the people, and the newest
    expiry per person and course. A course a person's roles do not require is an empty cell.
    Plain tuples and dictionaries inside the loop: 2,000 × 20 cells stay well under 300 ms.
    """
    today = today or timezone.localdate()
    courses = list(list_courses())
    needs = required_courses_by_role(courses)
    User = get_user_model()
    memberships = User.groups.through.objects.filter(
        group__name__in=list(needs), user__is_active=True
    )
    if users is not None:
        memberships = memberships.filter(user__in=users)
    roles_by_user: dict[int, set[str]] = {}
    for user_id, role in memberships.values_list("user_id", "group__name"):
        roles_by_user.setdefault(user_id, set()).add(role)
    # Sub-queries, not lists of 2,000 ids (each id a query parameter costs the client too).
    holders = memberships.values("user_id")
    people = list(
        User.objects.filter(pk__in=holders)
        .only("pk", "username", "first_name", "last_name", "language", "email")
        .order_by("username")
    )
    latest: dict[tuple[int, int], date] = {
        (row[0], row[1]): row[2]
        for row in Certificate.objects.filter(course__in=[c.pk for c in courses], user__in=holders)
        .values("user_id", "course_id")
        .annotate(last=Max("expires_on"))
        .values_list("user_id", "course_id", "last")
    }
    course_ids = [c.pk for c in courses]
    expiring_until = today + EXPIRING_WITHIN
    # Plain strings (the choices' values) in the loop: enum members hash slowly.
    current, expiring, expired, missing = (
        str(CertificateStatus.CURRENT.value),
        str(CertificateStatus.EXPIRING.value),
        str(CertificateStatus.EXPIRED.value),
        str(CertificateStatus.MISSING.value),
    )
    totals = {current: 0, expiring: 0, expired: 0, missing: 0}
    rows = []
    for person in people:
        pk = person.pk
        wanted: set[int] = set()
        for role in roles_by_user[pk]:
            wanted |= needs[role]
        cells: list[tuple[str, date | None]] = []
        for course_id in course_ids:
            if course_id not in wanted:
                cells.append(("", None))
                continue
            expires = latest.get((pk, course_id))
            if expires is None:
                status = missing
            elif expires < today:
                status = expired
            elif expires <= expiring_until:
                status = expiring
            else:
                status = current
            totals[status] += 1
            cells.append((status, expires))
        rows.append(MatrixRow(person, cells))
    return Matrix(courses, rows, totals)


def untrained_people(
    *, today: date | None = None, matrix: Matrix | None = None
) -> list[tuple[Any, list[Course]]]:
    """Everyone on a role with required courses whose certificate is missing or expired."""
    matrix = matrix or readiness_matrix(today=today)
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
