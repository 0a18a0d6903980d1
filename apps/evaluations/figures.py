"""The five dimensions' figures, computed from recorded data (never typed).

``compute_figures(incidents)`` loads what every incident needs in a bounded number of queries
(whatever the number of incidents) and returns one JSON-safe dictionary per incident:
times as ISO strings, durations in minutes, ``None`` for "not measured". Reports store it
(frozen once signed); the periodic review computes it for a whole range.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    Func,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.backups.models import RestoreRun
from apps.incidents.choices import ResourceState, TaskState
from apps.incidents.models import (
    Incident,
    Meeting,
    MeetingDecision,
    ResourceAllocation,
    Task,
    TeamMember,
    TimelineEntry,
)
from apps.manual_orders.models import ManualOrder

from . import sources
from .choices import METRIC_SPEC, Dimension, Direction, Metric

TASK_UPDATED = "task.updated"  # apps.incidents.events.TASK_UPDATED
STARTED_STATES = (TaskState.IN_PROGRESS, TaskState.DONE)


# A moment: a datetime, or (the periodic review) a timedelta from one anchor shared by every
# moment compared with it; differences and comparisons are the same either way.
Moment = TypeVar("Moment", datetime, timedelta)


def minutes(start: Moment | None, end: Moment | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _percent(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def incident_end(incident: Incident, now: datetime) -> datetime:
    """Where the incident's window ends: closed, else recovered, else now."""
    return incident.closed_at or incident.recovered_at or now


# --- loading ----------------------------------------------------------------------------------
# Everything is read as plain values (no model instances) in one query per kind of row, grouped
# by incident: a quarter's 500 incidents with their tasks and timelines stay well under a second.


def _by_incident(rows: Iterable[tuple[Any, ...]]) -> dict[int, list[tuple[Any, ...]]]:
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row[1:])
    return grouped


def _load(incidents: Sequence[Incident], now: datetime) -> dict[str, Any]:
    ids = [i.pk for i in incidents]
    if not ids:
        return {}
    first_started = dict(
        TimelineEntry.objects.filter(
            incident_id__in=ids, kind=TASK_UPDATED, data__state__in=list(STARTED_STATES)
        )
        .values("incident_id")
        .annotate(first=Min("at"))
        .values_list("incident_id", "first")
    )
    team = _by_incident(
        TeamMember.objects.filter(incident_id__in=ids)
        .order_by("incident_id", "team_role", "assigned_at", "pk")
        .values_list(
            "incident_id",
            "user_id",
            "user__username",
            "user__first_name",
            "user__last_name",
            "team_role",
            "assigned_at",
            "acknowledged_at",
        )
    )
    # Tasks are counted in SQL: done on time, done late, or still open after their due time
    # (the incident's end: closed, else recovered, else now).
    incident_end_sql = Coalesce(F("incident__closed_at"), F("incident__recovered_at"), Value(now))
    done = Q(state=TaskState.DONE, completed_at__isnull=False)
    tasks = _by_incident(
        Task.objects.filter(incident_id__in=ids, due_at__isnull=False)
        .exclude(state=TaskState.SKIPPED)
        .values("incident_id", "team_role")
        .annotate(
            on_time=Count("pk", filter=done & Q(completed_at__lte=F("due_at"))),
            late=Count(
                "pk",
                filter=(done & Q(completed_at__gt=F("due_at")))
                | (~Q(state=TaskState.DONE) & Q(due_at__lt=incident_end_sql)),
            ),
        )
        .order_by("incident_id", "team_role")
        .values_list("incident_id", "team_role", "on_time", "late")
    )
    resources = _by_incident(
        ResourceAllocation.objects.filter(incident_id__in=ids)
        .order_by("incident_id", "requested_at", "pk")
        .values_list("incident_id", "kind", "state", "quantity", "allocated_at", "released_at")
    )
    meetings = _by_incident(
        Meeting.objects.filter(incident_id__in=ids)
        .order_by("incident_id", "held_at", "pk")
        .values_list("incident_id", "pk", "title", "held_at")
    )
    meeting_ids = [m[0] for rows in meetings.values() for m in rows]
    attendees: dict[int, set[int]] = defaultdict(set)
    for meeting_id, user_id in Meeting.attendees.through._default_manager.filter(
        meeting_id__in=meeting_ids
    ).values_list("meeting_id", "user_id"):
        attendees[meeting_id].add(user_id)
    decisions: dict[int, list[str | None]] = defaultdict(list)
    for meeting_id, task_state in MeetingDecision.objects.filter(
        meeting_id__in=meeting_ids
    ).values_list("meeting_id", "task__state"):
        decisions[meeting_id].append(task_state)
    start = min(i.declared_at for i in incidents)
    end = max(incident_end(i, now) for i in incidents)
    restores = list(
        RestoreRun.objects.filter(created_at__gte=start, created_at__lte=end)
        .order_by("created_at", "pk")
        .values_list("created_at", "pk", "state", "finished_at", "target_label")
    )
    orders = list(
        ManualOrder.objects.filter(created_at__gte=start, created_at__lte=end)
        .order_by("created_at")
        .values_list("created_at", "pushed_at")
    )
    return {
        "first_started": first_started,
        "team": team,
        "tasks": tasks,
        "resources": resources,
        "meetings": meetings,
        "attendees": attendees,
        "decisions": decisions,
        "restores": restores,
        "restore_times": [r[0] for r in restores],
        "orders": orders,
        "order_times": [o[0] for o in orders],
    }


def _within(rows: list, times: list[datetime], start: datetime, end: datetime) -> list:
    """The rows (sorted by their first value, a time) with that time in [start, end]."""
    return rows[bisect_left(times, start) : bisect_right(times, end)]


# --- the dimensions ---------------------------------------------------------------------------


def _response(
    incident: Incident, first_task_at: datetime | None, team: list[tuple[Any, ...]]
) -> dict[str, Any]:
    members = []
    ack_minutes = []
    for _user_id, username, first, last, role, assigned_at, acknowledged_at in team:
        delay = minutes(assigned_at, acknowledged_at)
        if delay is not None:
            ack_minutes.append(delay)
        members.append(
            {
                "member": username,
                "name": f"{first} {last}".strip(),
                "role": role,
                "assigned_at": _iso(assigned_at),
                "acknowledged_at": _iso(acknowledged_at),
                "minutes": delay,
            }
        )
    return {
        "times": {
            "detected_at": _iso(incident.detected_at),
            "declared_at": _iso(incident.declared_at),
            "team_assembled_at": _iso(incident.team_assembled_at),
            "first_task_started_at": _iso(first_task_at),
        },
        "metrics": {
            Metric.DETECTED_TO_DECLARED: minutes(incident.detected_at, incident.declared_at),
            Metric.DECLARED_TO_ASSEMBLED: minutes(incident.declared_at, incident.team_assembled_at),
            Metric.ASSEMBLED_TO_FIRST_TASK: minutes(incident.team_assembled_at, first_task_at),
            Metric.MEAN_ACKNOWLEDGEMENT: _mean(ack_minutes),
        },
        "acknowledgements": members,
    }


def _backlog(orders: list[tuple[datetime, datetime | None]], start: datetime, end: datetime):
    """Manual orders taken and handed back over the window, in 12 equal steps."""
    if end <= start:
        return []
    steps = 12
    width = (end - start) / steps
    taken_times = sorted(o[0] for o in orders)
    back_times = sorted(o[1] for o in orders if o[1] is not None)
    points = []
    for n in range(1, steps + 1):
        at = start + width * n
        taken = bisect_right(taken_times, at)
        back = bisect_right(back_times, at)
        points.append({"at": at.isoformat(), "taken": taken, "handed_back": back})
    return points


def _recovery(incident: Incident, loaded: dict[str, Any], end: datetime) -> dict[str, Any]:
    start = incident.declared_at
    restores = [
        {
            "id": pk,
            "state": state,
            "target": target,
            "started_at": _iso(created_at),
            "minutes": minutes(created_at, finished_at),
        }
        for created_at, pk, state, finished_at, target in _within(
            loaded["restores"], loaded["restore_times"], start, end
        )
    ]
    orders = _within(loaded["orders"], loaded["order_times"], start, end)
    handed_back = sum(1 for o in orders if o[1] is not None)
    durations = [r["minutes"] for r in restores if r["minutes"] is not None]
    return {
        "times": {
            "declared_at": _iso(incident.declared_at),
            "manual_process_at": _iso(incident.manual_process_at),
            "recovered_at": _iso(incident.recovered_at),
        },
        "metrics": {
            Metric.DECLARED_TO_MANUAL: minutes(incident.declared_at, incident.manual_process_at),
            Metric.DECLARED_TO_RECOVERED: minutes(incident.declared_at, incident.recovered_at),
            Metric.RESTORE_MINUTES: max(durations) if durations else None,
            Metric.HANDED_BACK_PERCENT: _percent(handed_back, len(orders)),
        },
        "restores": restores,
        "orders_taken": len(orders),
        "orders_handed_back": handed_back,
        "backlog": _backlog(orders, start, end) if orders else [],
    }


def _overlap_hours(a0: Moment, a1: Moment, b0: Moment, b1: Moment) -> float:
    seconds = (min(a1, b1) - max(a0, b0)).total_seconds()
    return max(seconds, 0) / 3600


def _resource_hours(
    declared_at: Moment, recovered_at: Moment | None, end: Moment, resources: list[tuple[Any, ...]]
) -> tuple[dict[str, dict[str, Any]], float | None]:
    """Per kind, requests and quantity × hours allocated and used; and the share used (%).

    Allocated: quantity × hours from hand-over to release (or the incident's end). Used: the part
    of that time while the incident still needed it (declared → recovered); not measured until
    the incident has recovered.
    """
    by_kind: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"requested": 0, "allocated_qty_hours": 0.0, "used_qty_hours": 0.0}
    )
    total_alloc = total_used = 0.0
    for kind, state, quantity, allocated_at, released_at in resources:
        row = by_kind[kind]
        row["requested"] += 1
        if state == ResourceState.CANCELLED or allocated_at is None:
            continue
        held_until = released_at if released_at is not None else end
        qty = float(quantity)
        alloc = qty * max((held_until - allocated_at).total_seconds(), 0) / 3600
        row["allocated_qty_hours"] += alloc
        total_alloc += alloc
        if recovered_at is not None:
            used = qty * _overlap_hours(allocated_at, held_until, declared_at, recovered_at)
            row["used_qty_hours"] += used
            total_used += used
    use = _percent(total_used, total_alloc) if recovered_at is not None else None
    return by_kind, use


def _resources(
    incident: Incident, end: datetime, resources: list[tuple[Any, ...]]
) -> dict[str, Any]:
    """Allocated vs used quantity × hours per kind (``_resource_hours``)."""
    by_kind, use = _resource_hours(incident.declared_at, incident.recovered_at, end, resources)
    rows = []
    for kind, row in sorted(by_kind.items()):
        rows.append(
            {
                "kind": kind,
                "requested": row["requested"],
                "allocated_qty_hours": round(row["allocated_qty_hours"], 2),
                "used_qty_hours": (
                    round(row["used_qty_hours"], 2) if incident.recovered_at else None
                ),
            }
        )
    return {"metrics": {Metric.RESOURCE_USE_PERCENT: use}, "by_kind": rows}


def _collaboration(incident: Incident, loaded: dict[str, Any]) -> dict[str, Any]:
    by_role = [
        {"role": role or "-", "on_time": on_time, "late": late}
        for role, on_time, late in loaded["tasks"].get(incident.pk, [])
    ]
    on_time = sum(r["on_time"] for r in by_role)
    counted = on_time + sum(r["late"] for r in by_role)

    team = loaded["team"].get(incident.pk, [])
    acks = [minutes(m[5], m[6]) for m in team]
    meetings = []
    expected_total = attended_total = 0
    decisions_total = decisions_done = 0
    for meeting_id, title, held_at in loaded["meetings"].get(incident.pk, []):
        expected = {m[0] for m in team if m[5] <= held_at}
        attended = len(expected & loaded["attendees"].get(meeting_id, set()))
        expected_total += len(expected)
        attended_total += attended
        decisions = loaded["decisions"].get(meeting_id, [])
        done = sum(1 for state in decisions if state == TaskState.DONE)
        decisions_total += len(decisions)
        decisions_done += done
        meetings.append(
            {
                "title": title,
                "held_at": _iso(held_at),
                "expected": len(expected),
                "attended": attended,
                "decisions": len(decisions),
                "decisions_done": done,
            }
        )
    return {
        "metrics": {
            Metric.TASKS_ON_TIME_PERCENT: _percent(on_time, counted),
            Metric.ATTENDANCE_PERCENT: _percent(attended_total, expected_total),
            Metric.DECISIONS_DONE_PERCENT: _percent(decisions_done, decisions_total),
        },
        "tasks_by_role": by_role,
        "acknowledgement_delays": {
            "acknowledged": sum(1 for a in acks if a is not None),
            "not_acknowledged": sum(1 for a in acks if a is None),
            "longest_minutes": max((a for a in acks if a is not None), default=None),
        },
        "meetings": meetings,
    }


def _satisfaction(care: Any) -> dict[str, Any]:
    """Customer satisfaction from ``sources.care_figures`` of the incident's window."""
    if care is sources.NOT_MEASURED:
        return {
            "measured": False,
            "metrics": {m: None for m in _metrics(Dimension.SATISFACTION)},
            "compensation": None,
            "cases": None,
        }
    return {
        "measured": True,
        "metrics": {
            Metric.CSAT: care["csat"],
            Metric.FIRST_RESPONSE_MINUTES: care["first_response_minutes"],
            Metric.RESOLUTION_MINUTES: care["resolution_minutes"],
            Metric.COMPLAINTS: care["complaints"],
        },
        "compensation": care["compensation"],
        "cases": care["cases"],
    }


def _metrics(dimension: str) -> list[str]:
    return [m for m, spec in METRIC_SPEC.items() if spec[0] == dimension]


# --- scores -----------------------------------------------------------------------------------


def current_targets() -> dict[str, float]:
    from .models import Target

    targets = {m: float(spec[2]) for m, spec in METRIC_SPEC.items()}
    targets.update({t.metric: float(t.value) for t in Target.objects.all()})
    return targets


def meets(metric: str, value: float | None, target: float) -> bool | None:
    if value is None:
        return None
    if METRIC_SPEC[metric][1] == Direction.LOWER:
        return value <= target
    return value >= target


def score(dimension_figures: dict[str, Any], targets: dict[str, float]) -> float | None:
    """The share (0–100) of the dimension's measured metrics that meet their target."""
    results = [
        meets(metric, value, targets[metric])
        for metric, value in dimension_figures["metrics"].items()
    ]
    judged = [r for r in results if r is not None]
    return round(100 * sum(judged) / len(judged)) if judged else None


# --- entry points -----------------------------------------------------------------------------


def compute_figures(
    incidents: Iterable[Incident],
    *,
    now: datetime | None = None,
    targets: dict[str, float] | None = None,
    with_satisfaction: bool = True,
) -> dict[int, dict[str, Any]]:
    """Every dimension's figures for each incident, in a fixed number of queries."""
    now = now or timezone.now()
    incidents = sources.with_drill_phase_times(list(incidents))
    loaded = _load(incidents, now)
    targets = targets if targets is not None else current_targets()
    care = (
        sources.care_figures_for_windows([(i.detected_at, incident_end(i, now)) for i in incidents])
        if with_satisfaction
        else [sources.NOT_MEASURED] * len(incidents)
    )
    out: dict[int, dict[str, Any]] = {}
    for incident, care_figures in zip(incidents, care, strict=True):
        end = incident_end(incident, now)
        dims = {
            Dimension.RESPONSE: _response(
                incident,
                loaded["first_started"].get(incident.pk),
                loaded["team"].get(incident.pk, []),
            ),
            Dimension.RECOVERY: _recovery(incident, loaded, end),
            Dimension.RESOURCES: _resources(
                incident, end, loaded["resources"].get(incident.pk, [])
            ),
            Dimension.COLLABORATION: _collaboration(incident, loaded),
        }
        if with_satisfaction:
            dims[Dimension.SATISFACTION] = _satisfaction(care_figures)
        for dim in dims.values():
            dim["score"] = score(dim, targets)
        out[incident.pk] = {
            "incident": {
                "id": incident.pk,
                "title": incident.title,
                "is_drill": sources.is_drill(incident),
                "state": incident.state,
            },
            "window": {"start": _iso(incident.detected_at), "end": _iso(end)},
            "computed_at": _iso(now),
            "targets": {m: targets[m] for m in METRIC_SPEC},
            "dimensions": {str(k): v for k, v in dims.items()},
        }
    return out


def figures_for(incident: Incident, *, now: datetime | None = None) -> dict[str, Any]:
    incident = Incident.objects.get(pk=incident.pk)
    return compute_figures([incident], now=now)[incident.pk]


# --- the periodic review ----------------------------------------------------------------------
# A quarter holds hundreds of incidents. Each kind of row is read in one query for all of them,
# counted in SQL where the figure is a count, and every time arrives as a timedelta from one
# anchor (the review's start): psycopg reads an interval about twenty times faster than a
# timestamp with its time zone, and the difference of two offsets is exactly the difference of
# the two times, so the minutes are computed as ``compute_figures`` computes them.

REVIEW_DIMENSIONS = (
    Dimension.RESPONSE,
    Dimension.RECOVERY,
    Dimension.RESOURCES,
    Dimension.COLLABORATION,
)


def _count(qs: QuerySet[Any], field: str = "pk", *, distinct: bool = False) -> Subquery:
    """How many rows (or distinct ``field`` values) ``qs``, correlated by ``OuterRef``, has."""
    template = "COUNT(DISTINCT %(expressions)s)" if distinct else "COUNT(%(expressions)s)"
    return Subquery(
        qs.order_by()
        .annotate(n=Func(F(field), function="COUNT", template=template))
        .values("n")[:1]
    )


def review_figures(
    start: datetime, end: datetime, *, now: datetime, targets: dict[str, float]
) -> list[dict[str, Any]]:
    """The incidents declared in [start, end) (oldest first) with, per incident, the metrics
    of ``REVIEW_DIMENSIONS`` and their scores: the values ``compute_figures`` gives for each
    (drills on the times they recorded), in eight queries whatever the number of incidents.

    Per-incident subqueries are kept to the two index-backed counts of manual orders: with
    more, PostgreSQL's cost estimate for a long range crosses ``jit_above_cost`` and compiling
    the query costs more than running it.
    """
    anchor = start.astimezone(UTC)

    def since(expression: Any) -> Any:
        return expression - Value(anchor, output_field=DateTimeField())

    def effective(name: str) -> Case:  # the incident's time, or the one its drill recorded
        return Case(
            When(is_drill=True, then=Coalesce(F(f"recorded_{name}"), F(name))), default=F(name)
        )

    recorded = ("declared_at", "team_assembled_at", "manual_process_at", "recovered_at")
    incidents = sources.with_drill_times(
        Incident.objects.filter(declared_at__gte=start, declared_at__lt=end), recorded
    )
    # The manual orders taken in the incident's window (declared → its end), and handed back.
    orders = ManualOrder.objects.filter(
        created_at__gte=OuterRef("eff_declared"), created_at__lte=OuterRef("end_at")
    )
    rows = list(
        incidents.annotate(
            eff_declared=effective("declared_at"),
            eff_assembled=effective("team_assembled_at"),
            eff_manual=effective("manual_process_at"),
            eff_recovered=effective("recovered_at"),
        )
        .annotate(end_at=Coalesce(F("closed_at"), F("eff_recovered"), Value(now)))
        .annotate(
            orders_taken=_count(orders),
            orders_back=_count(orders.filter(pushed_at__isnull=False)),
        )
        .order_by("declared_at", "pk")
        .values_list(
            "pk",
            "title",
            "is_drill",
            since(F("declared_at")),
            since(F("detected_at")),
            since(F("eff_declared")),
            since(F("eff_assembled")),
            since(F("eff_manual")),
            since(F("eff_recovered")),
            since(F("end_at")),
            "orders_taken",
            "orders_back",
        )
    )
    if not rows:
        return []
    in_range = Q(incident__declared_at__gte=start, incident__declared_at__lt=end)
    first_started = dict(
        TimelineEntry.objects.filter(
            in_range, kind=TASK_UPDATED, data__state__in=list(STARTED_STATES)
        )
        .values("incident_id")
        .annotate(first=Min(since(F("at"))))
        .values_list("incident_id", "first")
    )
    # Tasks as ``_load`` counts them: late once past due at the incident's own end.
    done = Q(state=TaskState.DONE, completed_at__isnull=False)
    incident_end_sql = Coalesce(F("incident__closed_at"), F("incident__recovered_at"), Value(now))
    tasks = {
        pk: (on_time, late)
        for pk, on_time, late in Task.objects.filter(in_range, due_at__isnull=False)
        .exclude(state=TaskState.SKIPPED)
        .values("incident_id")
        .annotate(
            on_time=Count("pk", filter=done & Q(completed_at__lte=F("due_at"))),
            late=Count(
                "pk",
                filter=(done & Q(completed_at__gt=F("due_at")))
                | (~Q(state=TaskState.DONE) & Q(due_at__lt=incident_end_sql)),
            ),
        )
        .order_by()
        .values_list("incident_id", "on_time", "late")
    }
    acks = _by_incident(
        TeamMember.objects.filter(in_range, acknowledged_at__isnull=False)
        .order_by("incident_id", "team_role", "assigned_at", "pk")
        .values_list("incident_id", F("acknowledged_at") - F("assigned_at"))
    )
    resources = _by_incident(
        ResourceAllocation.objects.filter(in_range)
        .order_by("incident_id", "requested_at", "pk")
        .values_list(
            "incident_id",
            "kind",
            "state",
            "quantity",
            since(F("allocated_at")),
            since(F("released_at")),
        )
    )
    # Per meeting: the team members assigned by then (expected) and those of them who came,
    # summed per incident below; the decisions taken, and those whose task is done.
    before = Q(incident__team__assigned_at__lte=F("held_at"))
    meetings: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for incident_id, expected, attended in (
        Meeting.objects.filter(in_range)
        .annotate(
            expected=Count("incident__team__user", distinct=True, filter=before),
            attended=Count(
                "incident__team__user",
                distinct=True,
                filter=before & Q(incident__team__user=F("attendees")),
            ),
        )
        .order_by()
        .values_list("incident_id", "expected", "attended")
    ):
        meetings[incident_id][0] += expected
        meetings[incident_id][1] += attended
    decisions = {
        pk: (taken, done)
        for pk, taken, done in MeetingDecision.objects.filter(
            meeting__incident__declared_at__gte=start, meeting__incident__declared_at__lt=end
        )
        .values("meeting__incident_id")
        .annotate(taken=Count("pk"), done=Count("pk", filter=Q(task__state=TaskState.DONE)))
        .order_by()
        .values_list("meeting__incident_id", "taken", "done")
    }
    # Restores are few: those finished in the span of every window, each window's longest.
    restores = list(
        RestoreRun.objects.filter(
            created_at__gte=anchor + min(r[5] for r in rows),
            created_at__lte=anchor + max(r[9] for r in rows),
            finished_at__isnull=False,
        )
        .order_by("created_at", "pk")
        .values_list(since(F("created_at")), F("finished_at") - F("created_at"))
    )
    restore_times = [r[0] for r in restores]

    out = []
    for (
        pk,
        title,
        is_drill,
        declared_in_db,
        detected,
        declared,
        assembled,
        manual,
        recovered,
        end_at,
        taken,
        handed_back,
    ) in rows:
        on_time, late = tasks.get(pk, (0, 0))
        expected, attended = meetings.get(pk, (0, 0))
        decided, decided_done = decisions.get(pk, (0, 0))
        _kinds, resource_use = _resource_hours(declared, recovered, end_at, resources.get(pk, []))
        durations = [d for _at, d in _within(restores, restore_times, declared, end_at)]
        dims = {
            Dimension.RESPONSE: {
                Metric.DETECTED_TO_DECLARED: minutes(detected, declared),
                Metric.DECLARED_TO_ASSEMBLED: minutes(declared, assembled),
                Metric.ASSEMBLED_TO_FIRST_TASK: minutes(assembled, first_started.get(pk)),
                Metric.MEAN_ACKNOWLEDGEMENT: _mean(
                    [round(d.total_seconds() / 60, 1) for (d,) in acks.get(pk, [])]
                ),
            },
            Dimension.RECOVERY: {
                Metric.DECLARED_TO_MANUAL: minutes(declared, manual),
                Metric.DECLARED_TO_RECOVERED: minutes(declared, recovered),
                Metric.RESTORE_MINUTES: (
                    round(max(durations).total_seconds() / 60, 1) if durations else None
                ),
                Metric.HANDED_BACK_PERCENT: _percent(handed_back, taken),
            },
            Dimension.RESOURCES: {Metric.RESOURCE_USE_PERCENT: resource_use},
            Dimension.COLLABORATION: {
                Metric.TASKS_ON_TIME_PERCENT: _percent(on_time, on_time + late),
                Metric.ATTENDANCE_PERCENT: _percent(attended, expected),
                Metric.DECISIONS_DONE_PERCENT: _percent(decided_done, decided),
            },
        }
        out.append(
            {
                "id": pk,
                "title": title,
                "is_drill": is_drill,
                "declared_at": anchor + declared_in_db,
                "metrics": {m: v for metrics in dims.values() for m, v in metrics.items()},
                "scores": {
                    str(code): score({"metrics": metrics}, targets)
                    for code, metrics in dims.items()
                },
            }
        )
    return out
