"""Read-side queries: the periodic review (10.3.1), the manager's dashboard, the action board."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, QuerySet
from django.utils import timezone

from apps.core.errors import DomainError
from apps.incidents.choices import IncidentState
from apps.incidents.models import Incident

from . import sources
from .choices import ActionState, Metric
from .errors import EvaluationError
from .figures import compute_figures, current_targets
from .models import EvaluationReport, ImprovementAction

TREND_METRICS = (Metric.MEAN_ACKNOWLEDGEMENT, Metric.DECLARED_TO_RECOVERED)
COMPARED_METRICS = (
    Metric.DETECTED_TO_DECLARED,
    Metric.DECLARED_TO_ASSEMBLED,
    Metric.MEAN_ACKNOWLEDGEMENT,
    Metric.DECLARED_TO_MANUAL,
    Metric.DECLARED_TO_RECOVERED,
    Metric.TASKS_ON_TIME_PERCENT,
    Metric.RESOURCE_USE_PERCENT,
)


def month_range(year: int, month: int) -> tuple[datetime, datetime]:
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    return _aware(start), _aware(end)


def quarter_range(year: int, quarter: int) -> tuple[datetime, datetime]:
    first_month = 3 * (quarter - 1) + 1
    start, _end = month_range(year, first_month)
    _start, end = month_range(year + (first_month + 2 > 12), (first_month + 2 - 1) % 12 + 1)
    return start, end


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day))


def day_range(first: date, last: date) -> tuple[datetime, datetime]:
    """[first day 00:00, the day after the last day 00:00), refusing a reversed or huge range."""
    if last < first:
        raise DomainError(
            EvaluationError.NOT_AN_INCIDENT_END,
            params={"start": first.isoformat(), "end": last.isoformat()},
            field="end",
        )
    if (last - first).days + 1 > settings.EVALUATION_REVIEW_MAX_DAYS:
        raise DomainError(
            EvaluationError.RANGE_TOO_LONG,
            params={"days": settings.EVALUATION_REVIEW_MAX_DAYS},
            field="end",
        )
    return _aware(first), _aware(last + timedelta(days=1))


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


@dataclass
class Review:
    start: datetime
    end: datetime
    rows: list[dict[str, Any]] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)
    trends: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)
    comparison: list[dict[str, Any]] = field(default_factory=list)
    rehearsals: Any = sources.NOT_MEASURED
    csat: list[float | None] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.rows


def _buckets(start: datetime, end: datetime) -> list[tuple[datetime, datetime, str]]:
    """Weeks for a range up to about two months, calendar months beyond."""
    out = []
    if (end - start).days <= 62:
        cursor = start
        while cursor < end:
            nxt = min(cursor + timedelta(days=7), end)
            out.append((cursor, nxt, timezone.localtime(cursor).strftime("%m-%d")))
            cursor = nxt
        return out
    local = timezone.localtime(start)
    year, month = local.year, local.month
    while True:
        b0, b1 = month_range(year, month)
        b0, b1 = max(b0, start), min(b1, end)
        if b0 >= end:
            break
        out.append((b0, b1, f"{year}-{month:02d}"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def periodic_review(start: datetime, end: datetime) -> Review:
    """Incidents and drills declared in [start, end): their figures, trends, drills vs real.

    A bounded number of queries whatever the number of incidents (one per trend bucket for the
    customer-care source, none while that source is absent).
    """
    review = Review(start=start, end=end)
    incidents = list(
        Incident.objects.filter(declared_at__gte=start, declared_at__lt=end).order_by(
            "declared_at", "pk"
        )
    )
    targets = current_targets()
    figures = compute_figures(incidents, targets=targets, with_satisfaction=False, detail=False)
    for incident in incidents:
        fig = figures[incident.pk]
        dims = fig["dimensions"]
        metrics = {m: v for d in dims.values() for m, v in d["metrics"].items()}
        review.rows.append(
            {
                "incident": incident,
                "is_drill": fig["incident"]["is_drill"],
                "declared_at": incident.declared_at,
                "metrics": metrics,
                "scores": {code: d["score"] for code, d in dims.items()},
            }
        )
    buckets = _buckets(start, end)
    review.buckets = [label for _b0, _b1, label in buckets]
    for metric in TREND_METRICS:
        series: dict[str, list[float | None]] = {"real": [], "drill": []}
        for b0, b1, _label in buckets:
            for kind in ("real", "drill"):
                values = [
                    r["metrics"][metric]
                    for r in review.rows
                    if b0 <= r["declared_at"] < b1
                    and r["is_drill"] == (kind == "drill")
                    and r["metrics"][metric] is not None
                ]
                series[kind].append(_mean(values))
        review.trends[metric] = series
    for metric in COMPARED_METRICS:
        row: dict[str, Any] = {"metric": metric}
        for kind in ("real", "drill"):
            values = [
                r["metrics"][metric]
                for r in review.rows
                if r["is_drill"] == (kind == "drill") and r["metrics"][metric] is not None
            ]
            row[kind] = _mean(values)
        review.comparison.append(row)
    review.rehearsals = sources.rehearsals(start, end)
    for b0, b1, _label in buckets:
        care = sources.care_figures(b0, b1)
        review.csat.append(None if care is sources.NOT_MEASURED else care["csat"])
    return review


def rehearsal_rto_by_bucket(review: Review) -> list[float | None]:
    if review.rehearsals is sources.NOT_MEASURED:
        return [None] * len(review.buckets)
    buckets = _buckets(review.start, review.end)
    out = []
    for b0, b1, _label in buckets:
        values = [
            r["rto_minutes"]
            for r in review.rehearsals
            if b0 <= r["at"] < b1 and r["rto_minutes"] is not None
        ]
        out.append(_mean(values))
    return out


def current_incident() -> Incident | None:
    """The incident being worked on now (the newest not yet recovered or later)."""
    live = {
        IncidentState.DECLARED,
        IncidentState.TEAM_ASSEMBLED,
        IncidentState.INVESTIGATING,
        IncidentState.FIXING,
        IncidentState.MANUAL_PROCESS,
        IncidentState.RECOVERED,
        IncidentState.MONITORING,
    }
    return Incident.objects.filter(state__in=live).order_by("-declared_at").first()


def open_actions():
    return (
        ImprovementAction.objects.filter(state__in=ActionState.open_states())
        .select_related("owner", "source_type")
        .order_by("owner__username", "category", "due", "pk")
    )


def actions_from(
    source_model: type[models.Model], *, open_only: bool = False
) -> QuerySet[ImprovementAction]:
    """Every improvement action whose finding is a row of ``source_model`` (e.g. drill runs)."""
    qs = ImprovementAction.objects.filter(
        source_type=ContentType.objects.get_for_model(source_model)
    ).select_related("owner")
    return qs.filter(state__in=ActionState.open_states()) if open_only else qs


def actions_for(source: models.Model) -> QuerySet[ImprovementAction]:
    """The improvement actions caused by one finding (a drill run, a case, a report)."""
    return actions_from(type(source)).filter(source_id=source.pk)


def action_board() -> dict[str, Any]:
    """Open actions grouped by owner, and counted by category."""
    actions = list(open_actions())
    by_owner: dict[Any, list[ImprovementAction]] = defaultdict(list)
    for action in actions:
        by_owner[action.owner].append(action)
    by_category = dict(
        ImprovementAction.objects.filter(state__in=ActionState.open_states())
        .values_list("category")
        .annotate(n=Count("pk"))
        .values_list("category", "n")
    )
    return {"actions": actions, "by_owner": dict(by_owner), "by_category": by_category}


def latest_reports(limit: int = 50):
    return EvaluationReport.objects.select_related("incident", "signed_by").order_by(
        "-computed_at"
    )[:limit]
