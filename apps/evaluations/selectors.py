"""Read-side queries: the periodic review (10.3.1), the manager's dashboard, the action board."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.core.errors import DomainError
from apps.incidents.choices import IncidentState
from apps.incidents.models import Incident

from . import sources
from .choices import Metric
from .errors import EvaluationError
from .figures import current_targets, review_figures
from .models import EvaluationReport

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


def _bucket_of(buckets: list[tuple[datetime, datetime, str]], at: datetime) -> int | None:
    """The index of the bucket holding ``at`` (buckets are consecutive), None outside them."""
    n = bisect_right([b0 for b0, _b1, _label in buckets], at) - 1
    return n if n >= 0 and at < buckets[n][1] else None


def periodic_review(start: datetime, end: datetime, *, now: datetime | None = None) -> Review:
    """Incidents and drills declared in [start, end): their figures, trends, drills vs real.

    A fixed number of queries whatever the number of incidents: the figures of all of them
    (``review_figures``), the targets, the rehearsals and the CSAT of every trend bucket.
    """
    review = Review(start=start, end=end)
    review.rows = review_figures(start, end, now=now or timezone.now(), targets=current_targets())
    buckets = _buckets(start, end)
    review.buckets = [label for _b0, _b1, label in buckets]
    kinds = ("real", "drill")
    # values[metric][kind][bucket]: the measured values, then their mean per bucket.
    per_bucket: dict[str, dict[str, list[list[float]]]] = {
        m: {k: [[] for _b in buckets] for k in kinds} for m in TREND_METRICS
    }
    overall: dict[str, dict[str, list[float]]] = {
        m: {k: [] for k in kinds} for m in COMPARED_METRICS
    }
    for row in review.rows:
        kind = "drill" if row["is_drill"] else "real"
        metrics = row["metrics"]
        n = _bucket_of(buckets, row["declared_at"])
        if n is not None:
            for metric in TREND_METRICS:
                if metrics[metric] is not None:
                    per_bucket[metric][kind][n].append(metrics[metric])
        for metric in COMPARED_METRICS:
            if metrics[metric] is not None:
                overall[metric][kind].append(metrics[metric])
    for metric in TREND_METRICS:
        review.trends[metric] = {k: [_mean(v) for v in per_bucket[metric][k]] for k in kinds}
    review.comparison = [
        {"metric": metric, **{k: _mean(overall[metric][k]) for k in kinds}}
        for metric in COMPARED_METRICS
    ]
    review.rehearsals = sources.rehearsals(start, end)
    review.csat = sources.csat_by_window([(b0, b1) for b0, b1, _label in buckets])
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


def latest_reports(limit: int = 50):
    return EvaluationReport.objects.select_related("incident", "signed_by").order_by(
        "-computed_at"
    )[:limit]
