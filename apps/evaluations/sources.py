"""Where the figures of other apps come from: customer care (#14) and drills (#16).

One function per figure family; each returns a value or ``NOT_MEASURED``. A source with no rows
for the window answers ``NOT_MEASURED`` — shown as "not measured", never as zero, never a crash.
The rows are read through those apps' selectors (``apps.customer_care.selectors``,
``apps.drills.selectors``), never their models; the summarisers (``summarise_cases``,
``summarise_rehearsals``) take plain rows and are tested on their own.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from django.db.models import QuerySet

from apps.customer_care import selectors as care
from apps.drills import selectors as drills
from apps.drills.choices import RehearsalState


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


# --- drills (#16) -----------------------------------------------------------------------------


def is_drill(incident: Any) -> bool:
    return bool(incident.is_drill)


def with_drill_phase_times(incidents: list[Any]) -> list[Any]:
    """Drill incidents with the phase times the drill recorded (one query for all of them).

    A drill is timed on the drills page (``PhaseTime``) even where nobody moved the incident on
    the incident tools; the recorded phase time stands for the incident's own time. Real
    incidents, and phases a drill did not record, keep the incident's times. The incidents
    given are not changed: drills get a copy.
    """
    times = drills.recorded_incident_times([i.pk for i in incidents if is_drill(i)])
    out = []
    for incident in incidents:
        recorded = times.get(incident.pk)
        if recorded:
            incident = copy.copy(incident)
            for field_name, at in recorded.items():
                setattr(incident, field_name, at)
        out.append(incident)
    return out


def with_drill_times(incidents: QuerySet[Any], field_names: Iterable[str]) -> QuerySet[Any]:
    """``with_drill_phase_times`` in SQL: the incidents annotated ``recorded_<field>`` with
    what their drill recorded for each incident time named (NULL where it recorded none)."""
    return drills.with_recorded_times(incidents, field_names)


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


def rehearsals(start: datetime | None = None, end: datetime | None = None) -> Any:
    """Restore rehearsals (RTO/RPO) finished in the window, or ``NOT_MEASURED``."""
    rows = [
        Rehearsal(
            at=r.finished_at,
            rto_seconds=r.rto_seconds,
            rpo_seconds=r.rpo_seconds,
            ok=r.state == RehearsalState.PASSED,
        )
        for r in drills.finished_rehearsals(start=start, end=end)
        if r.finished_at is not None
    ]
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
) -> tuple[list[CaseRow], list[tuple[datetime, float]]]:
    """Cases opened in the window with the compensation granted on them, and the survey
    scores answered in the window, each with its answer time (customer care's selectors)."""
    cases = [
        CaseRow(
            opened_at=c.opened_at,
            first_response_at=c.first_response_at,
            resolved_at=c.resolved_at,
            is_complaint=c.is_complaint,
            compensation=c.compensation,
        )
        for c in care.cases_opened_between(start, end)
    ]
    scores = [(at, float(score)) for at, score in care.survey_answers_between(start, end)]
    return cases, scores


def care_figures(start: datetime, end: datetime) -> Any:
    """CSAT, complaints, compensation, first response and resolution in the window."""
    return care_figures_for_windows([(start, end)])[0]


def care_figures_for_windows(windows: list[tuple[datetime, datetime]]) -> list[Any]:
    """``care_figures`` for many windows (one per incident) read in one go: the rows of the
    span covering them all, split per window here (a fixed number of queries for any count)."""
    if not windows:
        return []
    all_cases, all_scores = _care_rows(min(w[0] for w in windows), max(w[1] for w in windows))
    out: list[Any] = []
    for start, end in windows:
        cases = [c for c in all_cases if start <= c.opened_at < end]
        scores = [score for at, score in all_scores if start <= at < end]
        out.append(summarise_cases(cases, scores) if cases or scores else NOT_MEASURED)
    return out


def csat_by_window(windows: Sequence[tuple[datetime, datetime]]) -> list[float | None]:
    """The mean survey score answered in each window (``None`` where none was), in one query:
    the CSAT of ``care_figures`` without reading the cases."""
    return [
        round(total / count, 1) if count else None
        for total, count in care.survey_score_totals(windows)
    ]


def as_stored(value: Any) -> Any:
    """A source's answer as report JSON holds it (``None`` for not measured)."""
    if isinstance(value, Mapping):
        return {k: as_stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_stored(v) for v in value]
    return measured(value)
