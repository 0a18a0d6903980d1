"""Where figures come from when the owning app is being built elsewhere (customer care, drills).

One function per figure family; each returns a value or ``NOT_MEASURED``. A source whose app is
absent, whose model is not there yet, or that has no rows for the window answers
``NOT_MEASURED`` — shown as "not measured", never as zero, never a crash.

Wiring at merge time (the only lines to adapt when #14 / #16 land): the ``_care_*`` and
``_drill_*`` readers below name the models and fields they expect; the summarisers
(``summarise_cases``, ``summarise_rehearsals``) take plain rows and are tested on their own.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.db import DatabaseError
from django.db.models import Sum

logger = logging.getLogger(__name__)


class _NotMeasured:
    """The one "no data" value: falsy, distinct from 0, stored as ``None`` in report JSON."""

    _instance: _NotMeasured | None = None

    def __new__(cls) -> _NotMeasured:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_MEASURED"


NOT_MEASURED: Final = _NotMeasured()


def measured(value: Any) -> Any:
    """``None`` for ``NOT_MEASURED`` (how report JSON stores it), the value otherwise."""
    return None if value is NOT_MEASURED else value


def _model(app_label: str, name: str) -> Any:
    if not apps.is_installed(f"apps.{app_label}"):
        return None
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


_READ_ERRORS = (FieldError, FieldDoesNotExist, DatabaseError, AttributeError, LookupError)


# --- drills (#16) -----------------------------------------------------------------------------

DRILL_FLAG = "is_drill"  # the boolean drills adds to incidents.Incident


def drills_exist() -> bool:
    """True once incidents carry the drills app's ``is_drill`` flag."""
    Incident = apps.get_model("incidents", "Incident")
    try:
        Incident._meta.get_field(DRILL_FLAG)
    except FieldDoesNotExist:
        return False
    return True


def is_drill(incident: Any) -> bool:
    return bool(getattr(incident, DRILL_FLAG, False))


# The drills app's phases (``apps.drills.choices.PHASE_INCIDENT_FIELD``, not imported: drills
# calls into evaluations, so this side only reads its rows) and the incident times they stand for.
DRILL_PHASE_FIELD: Final = {
    "declared": "declared_at",
    "team_assembled": "team_assembled_at",
    "problem_located": "fixing_at",
    "manual_process": "manual_process_at",
    "recovered": "recovered_at",
}


def _drill_phase_rows(incident_ids: list[int]) -> list[tuple[int, str, datetime]]:
    # Wiring: the drills app's PhaseTime (run → incident, phase, reached_at).
    Model = _model("drills", "PhaseTime")
    if Model is None or not incident_ids:
        return []
    try:
        return list(
            Model.objects.filter(run__incident_id__in=incident_ids).values_list(
                "run__incident_id", "phase", "reached_at"
            )
        )
    except _READ_ERRORS:
        logger.exception("drills phase times could not be read; the incident times are used")
        return []


def with_drill_phase_times(incidents: list[Any]) -> list[Any]:
    """Drill incidents with the phase times the drill recorded (one query for all of them).

    A drill is timed on the drills page (``PhaseTime``) even where nobody moved the incident on
    the incident tools; the recorded phase time stands for the incident's own time. Real
    incidents, and phases a drill did not record, keep the incident's times. The incidents
    given are not changed: drills get a copy.
    """
    drills = [i.pk for i in incidents if is_drill(i)]
    times: dict[int, dict[str, datetime]] = {}
    for incident_id, phase, reached_at in _drill_phase_rows(drills):
        if phase in DRILL_PHASE_FIELD:
            times.setdefault(incident_id, {})[DRILL_PHASE_FIELD[phase]] = reached_at
    out = []
    for incident in incidents:
        recorded = times.get(incident.pk)
        if recorded:
            incident = copy.copy(incident)
            for field_name, at in recorded.items():
                setattr(incident, field_name, at)
        out.append(incident)
    return out


@dataclass(frozen=True)
class Rehearsal:
    at: datetime
    rto_seconds: float | None
    rpo_seconds: float | None
    ok: bool


def summarise_rehearsals(rows: Iterable[Rehearsal]) -> list[dict[str, Any]]:
    """Rehearsals as report rows (minutes), oldest first; unmeasured figures stay ``None``."""
    out = []
    for r in sorted(rows, key=lambda r: r.at):
        out.append(
            {
                "at": r.at,
                "rto_minutes": None if r.rto_seconds is None else round(r.rto_seconds / 60, 1),
                "rpo_minutes": None if r.rpo_seconds is None else round(r.rpo_seconds / 60, 1),
                "ok": r.ok,
            }
        )
    return out


def _drill_rehearsal_rows(start: datetime | None, end: datetime | None) -> list[Rehearsal] | None:
    # Wiring: the drills app's rehearsal model, its finish time, RTO/RPO in seconds and outcome.
    Model = _model("drills", "RestoreRehearsal")
    if Model is None:
        return None
    try:
        qs = Model.objects.exclude(finished_at=None).filter(state__in=["passed", "failed"])
        if start is not None:
            qs = qs.filter(finished_at__gte=start)
        if end is not None:
            qs = qs.filter(finished_at__lt=end)
        return [
            Rehearsal(
                at=row.finished_at,
                rto_seconds=row.rto_seconds,
                rpo_seconds=row.rpo_seconds,
                ok=row.state == "passed",
            )
            for row in qs.order_by("finished_at")
        ]
    except _READ_ERRORS:
        logger.exception("drills rehearsals could not be read; shown as not measured")
        return None


def rehearsals(start: datetime | None = None, end: datetime | None = None) -> Any:
    """Restore rehearsals (RTO/RPO) finished in the window, or ``NOT_MEASURED``."""
    rows = _drill_rehearsal_rows(start, end)
    if not rows:
        return NOT_MEASURED
    return summarise_rehearsals(rows)


def last_rehearsal() -> Any:
    rows = rehearsals()
    return NOT_MEASURED if rows is NOT_MEASURED else rows[-1]


# --- customer care (#14) ---------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    is_complaint: bool
    compensation: Decimal | None = None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def summarise_cases(cases: Iterable[CaseRow], csat_scores: Iterable[float]) -> dict[str, Any]:
    """Figures of 10.1.5 from plain rows: ``None`` where nothing was there to measure."""
    cases = list(cases)
    scores = [float(s) for s in csat_scores]
    first = [
        (c.first_response_at - c.opened_at).total_seconds() / 60
        for c in cases
        if c.first_response_at
    ]
    resolved = [(c.resolved_at - c.opened_at).total_seconds() / 60 for c in cases if c.resolved_at]
    compensations = [c.compensation for c in cases if c.compensation is not None]
    return {
        "cases": len(cases),
        "csat": _mean(scores),
        "csat_answers": len(scores),
        "complaints": sum(1 for c in cases if c.is_complaint) if cases else None,
        "compensation": (
            float(sum(compensations, Decimal("0"))) if compensations else (0.0 if cases else None)
        ),
        "first_response_minutes": _mean(first),
        "resolution_minutes": _mean(resolved),
    }


def _care_rows(
    start: datetime, end: datetime
) -> tuple[list[CaseRow], list[tuple[datetime, float]]] | None:
    """Cases opened in the window (customer care's ``Case``), the compensation granted on them
    (``Compensation.cost``) and the survey scores answered in the window (``Survey``), each
    score with its answer time."""
    Case = _model("customer_care", "Case")
    Survey = _model("customer_care", "Survey")
    Compensation = _model("customer_care", "Compensation")
    if Case is None:
        return None
    try:
        rows = list(
            Case.objects.filter(created_at__gte=start, created_at__lt=end).values_list(
                "pk", "created_at", "first_responded_at", "resolved_at", "case_type"
            )
        )
        cost: dict[int, Decimal] = {}
        if Compensation is not None and rows:
            cost = dict(
                Compensation.objects.filter(case_id__in=[r[0] for r in rows])
                .values("case_id")
                .annotate(total=Sum("cost"))
                .values_list("case_id", "total")
            )
        cases = [
            CaseRow(
                opened_at=opened,
                first_response_at=first,
                resolved_at=resolved,
                is_complaint=case_type == "complaint",
                compensation=cost.get(pk, Decimal("0")) if Compensation is not None else None,
            )
            for pk, opened, first, resolved, case_type in rows
        ]
        scores: list[tuple[datetime, float]] = []
        if Survey is not None:
            scores = [
                (answered, float(score))
                for answered, score in Survey.objects.filter(
                    answered_at__gte=start, answered_at__lt=end, score__isnull=False
                ).values_list("answered_at", "score")
            ]
        return cases, scores
    except _READ_ERRORS:
        logger.exception("customer care could not be read; shown as not measured")
        return None


def care_figures(start: datetime, end: datetime) -> Any:
    """CSAT, complaints, compensation, first response and resolution in the window."""
    return care_figures_for_windows([(start, end)])[0]


def care_figures_for_windows(windows: list[tuple[datetime, datetime]]) -> list[Any]:
    """``care_figures`` for many windows (one per incident) read in one go: the rows of the
    span covering them all, split per window here (a fixed number of queries for any count)."""
    if not windows:
        return []
    rows = _care_rows(min(w[0] for w in windows), max(w[1] for w in windows))
    if rows is None:
        return [NOT_MEASURED] * len(windows)
    all_cases, all_scores = rows
    out: list[Any] = []
    for start, end in windows:
        cases = [c for c in all_cases if start <= c.opened_at < end]
        scores = [score for at, score in all_scores if start <= at < end]
        out.append(summarise_cases(cases, scores) if cases or scores else NOT_MEASURED)
    return out


def as_stored(value: Any) -> Any:
    """A source's answer as report JSON holds it (``None`` for not measured)."""
    if isinstance(value, Mapping):
        return {k: as_stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_stored(v) for v in value]
    return measured(value)
