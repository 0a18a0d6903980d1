"""A report's stored figures as the page, the PDF and the XLSX show them (one place for all three).

Figures are stored language-neutral (codes, numbers, ISO times); labels are rendered here, in the
reader's active language, when shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.template.defaultfilters import yesno
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from apps.core.charts import bar_chart, line_chart
from apps.incidents.choices import ResourceKind, TeamRole

from .choices import METRIC_SPEC, Dimension, Direction, Metric
from .figures import meets


def not_measured() -> str:
    return _("not measured")


def show(value: Any) -> str:
    """A figure for display: "not measured" for ``None``, never a zero in its place."""
    if value is None:
        return not_measured()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def local_time(iso: str | None) -> str:
    if not iso:
        return not_measured()
    return timezone.localtime(datetime.fromisoformat(iso)).strftime("%Y-%m-%d %H:%M")


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "—"


@dataclass
class MetricRow:
    metric: str
    label: str
    value: float | None
    target: float
    direction: str
    met: bool | None

    @property
    def shown(self) -> str:
        return show(self.value)

    @property
    def target_shown(self) -> str:
        sign = "≤" if self.direction == Direction.LOWER else "≥"
        return f"{sign} {show(self.target)}"


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]


@dataclass
class DimensionView:
    code: str
    label: str
    score: float | None
    metrics: list[MetricRow]
    tables: list[Table] = field(default_factory=list)
    chart: SafeString | None = None
    narrative: str = ""

    @property
    def score_shown(self) -> str:
        return show(self.score)


def _metric_rows(dim: dict[str, Any], targets: dict[str, float]) -> list[MetricRow]:
    rows = []
    for metric, value in dim["metrics"].items():
        target = float(targets.get(metric, METRIC_SPEC[metric][2]))
        rows.append(
            MetricRow(
                metric=metric,
                label=str(Metric(metric).label),
                value=value,
                target=target,
                direction=METRIC_SPEC[metric][1],
                met=meets(metric, value, target),
            )
        )
    return rows


def _metrics_chart(title: str, rows: list[MetricRow]) -> SafeString:
    return bar_chart(
        title=title,
        x_labels=[r.label for r in rows],
        series={_("Measured"): [r.value for r in rows], _("Target"): [r.target for r in rows]},
        description=_("Each figure next to its target; a missing bar was not measured."),
        horizontal=True,
    )


def _response(dim, rows, charts):
    tables = [
        Table(
            _("Acknowledgements per member"),
            [_("Member"), _("Team role"), _("Assigned"), _("Acknowledged"), _("Minutes")],
            [
                [
                    a["member"],
                    _label(TeamRole, a["role"]),
                    local_time(a["assigned_at"]),
                    local_time(a["acknowledged_at"]),
                    a["minutes"],
                ]
                for a in dim["acknowledgements"]
            ],
        )
    ]
    chart = _metrics_chart(str(Dimension.RESPONSE.label), rows) if charts else None
    return tables, chart


def _recovery(dim, rows, charts):
    tables = [
        Table(
            _("Restores"),
            [_("Restore"), _("State"), _("Started"), _("Minutes")],
            [
                [f"#{r['id']}", r["state"], local_time(r["started_at"]), r["minutes"]]
                for r in dim["restores"]
            ],
        ),
        Table(
            _("Manual order backlog"),
            [_("Time"), _("Taken"), _("Handed back"), _("Open")],
            [
                [local_time(p["at"]), p["taken"], p["handed_back"], p["taken"] - p["handed_back"]]
                for p in dim["backlog"]
            ],
        ),
    ]
    chart = None
    if charts and dim["backlog"]:
        chart = line_chart(
            title=_("Manual orders: taken vs handed back"),
            x_labels=[local_time(p["at"])[11:] for p in dim["backlog"]],
            series={
                _("Taken"): [p["taken"] for p in dim["backlog"]],
                _("Handed back"): [p["handed_back"] for p in dim["backlog"]],
            },
            description=_("Cumulative manual orders over the incident"),
        )
    elif charts:
        chart = _metrics_chart(str(Dimension.RECOVERY.label), rows)
    return tables, chart


def _resources(dim, rows, charts):
    kinds = dim["by_kind"]
    tables = [
        Table(
            _("Resources by kind"),
            [
                _("Kind"),
                _("Requests"),
                _("Allocated (quantity × hours)"),
                _("Used (quantity × hours)"),
            ],
            [
                [
                    _label(ResourceKind, k["kind"]),
                    k["requested"],
                    k["allocated_qty_hours"],
                    k["used_qty_hours"],
                ]
                for k in kinds
            ],
        )
    ]
    chart = None
    if charts and kinds:
        chart = bar_chart(
            title=_("Allocated vs used (quantity × hours)"),
            x_labels=[_label(ResourceKind, k["kind"]) for k in kinds],
            series={
                _("Allocated"): [k["allocated_qty_hours"] for k in kinds],
                _("Used"): [k["used_qty_hours"] for k in kinds],
            },
            description=_("Per resource kind"),
        )
    return tables, chart


def _collaboration(dim, rows, charts):
    by_role = dim["tasks_by_role"]
    delays = dim["acknowledgement_delays"]
    tables = [
        Table(
            _("Tasks by role"),
            [_("Team role"), _("On time"), _("Late")],
            [[_label(TeamRole, r["role"]), r["on_time"], r["late"]] for r in by_role],
        ),
        Table(
            _("Meetings"),
            [
                _("Meeting"),
                _("Held"),
                _("Expected"),
                _("Attended"),
                _("Decisions"),
                _("Carried out"),
            ],
            [
                [
                    m["title"],
                    local_time(m["held_at"]),
                    m["expected"],
                    m["attended"],
                    m["decisions"],
                    m["decisions_done"],
                ]
                for m in dim["meetings"]
            ],
        ),
        Table(
            _("Acknowledgement delays"),
            [_("Acknowledged"), _("Not acknowledged"), _("Longest (minutes)")],
            [
                [
                    delays["acknowledged"],
                    delays["not_acknowledged"],
                    delays["longest_minutes"],
                ]
            ],
        ),
    ]
    chart = None
    if charts and by_role:
        chart = bar_chart(
            title=_("Tasks done on time by role"),
            x_labels=[_label(TeamRole, r["role"]) for r in by_role],
            series={
                _("On time"): [r["on_time"] for r in by_role],
                _("Late"): [r["late"] for r in by_role],
            },
            description=_("Tasks with a due time, per team role"),
        )
    return tables, chart


def _satisfaction(dim, rows, charts):
    tables = [
        Table(
            _("Cases"),
            [_("Cases"), _("Compensation")],
            [[dim.get("cases"), dim.get("compensation")]],
        )
    ]
    chart = None
    if charts and dim.get("measured"):
        chart = _metrics_chart(str(Dimension.SATISFACTION.label), rows)
    return tables, chart


_BUILDERS = {
    Dimension.RESPONSE: _response,
    Dimension.RECOVERY: _recovery,
    Dimension.RESOURCES: _resources,
    Dimension.COLLABORATION: _collaboration,
    Dimension.SATISFACTION: _satisfaction,
}


def dimension_views(
    figures: dict[str, Any], narratives: dict[str, str] | None = None, *, charts: bool = True
) -> list[DimensionView]:
    """The five dimensions of stored figures, ready for a template or a workbook."""
    targets = figures.get("targets", {})
    views = []
    for code, builder in _BUILDERS.items():
        dim = figures["dimensions"].get(code)
        if dim is None:
            continue
        rows = _metric_rows(dim, targets)
        tables, chart = builder(dim, rows, charts)
        views.append(
            DimensionView(
                code=code,
                label=str(Dimension(code).label),
                score=dim.get("score"),
                metrics=rows,
                tables=tables,
                chart=chart,
                narrative=(narratives or {}).get(code, ""),
            )
        )
    return views


def review_table_rows(rows: list[dict[str, Any]]) -> SafeString:
    """The review's incident rows as ``<tr>`` elements, built here rather than in the template:
    a quarter lists hundreds, and a ``{% url %}``, a ``|date`` and a ``{% translate %}`` per row
    cost more than the rest of the page."""
    link = _("Evaluation report")
    first = reverse("evaluations:incident-report", args=[0])
    prefix, suffix = first.rsplit("/0/", 1)  # one reverse for every row: …/incidents/<pk>/
    return format_html_join(
        "",
        '<tr><td>#{} {}</td><td>{}</td><td>{}</td><td><a href="{}/{}/{}">{}</a></td></tr>',
        (
            (
                row["id"],
                row["title"],
                timezone.localtime(row["declared_at"]).strftime("%Y-%m-%d %H:%M"),
                yesno(row["is_drill"]),
                prefix,
                row["id"],
                suffix,
                link,
            )
            for row in rows
        ),
    )
