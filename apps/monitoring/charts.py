"""Server-side SVG charts of the business figures (pygal), the same SVG for the page and print.

Kept inside the app until ``apps/core/charts.py`` (issue of the evaluations engineer) is on main;
then these functions become thin callers of it.
"""

from __future__ import annotations

import re

import pygal
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pygal.style import Style

from .selectors import Figures

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#495057",
    colors=("#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545"),
    font_family="sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    value_font_size=11,
    title_font_size=14,
    legend_font_size=11,
)
CONFIG = {
    "style": STYLE,
    "width": 480,
    "height": 260,
    "disable_xml_declaration": True,
    "js": [],  # no scripts: the CSP allows our own static files only, and none are needed
    "show_legend": False,
    "explicit_size": False,
    "print_values": False,
}


_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)


def _svg(chart: pygal.graph.graph.Graph, title: str) -> SafeString:
    """The chart's SVG without pygal's config script (never run here: the CSP forbids inline
    scripts), labelled as one image for screen readers."""
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    label = escape(title)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return mark_safe(svg)  # noqa: S308 - pygal escapes labels; the title is escaped above


def orders_per_hour_chart(figures: Figures) -> SafeString:
    title = _("Manual orders per hour")
    chart = pygal.Bar(title=title, x_label_rotation=0, **CONFIG)
    chart.x_labels = [h.strftime("%H") for h, _n in figures.orders_per_hour]
    chart.x_labels_major_every = 3
    chart.show_minor_x_labels = False
    chart.add(_("Orders"), [n for _h, n in figures.orders_per_hour])
    return _svg(chart, title)


def backlog_chart(figures: Figures) -> SafeString:
    title = _("Order backlog")
    chart = pygal.HorizontalBar(title=title, **{**CONFIG, "print_values": True})
    labels = {
        "taken": _("Taken"),
        "allocated": _("Allocated"),
        "dispatched": _("Dispatched"),
        "handed_back": _("Handed back"),
    }
    chart.x_labels = [str(labels[k]) for k in labels]
    chart.add(_("Orders"), [figures.backlog.get(k, 0) for k in labels])
    return _svg(chart, title)


def entry_to_dispatch_chart(figures: Figures) -> SafeString:
    title = _("Hours from entry to dispatch (average per day)")
    chart = pygal.Bar(title=title, **CONFIG)
    chart.x_labels = [date_format(day, "m-d") for day, _h, _n in figures.entry_to_dispatch]
    chart.add(_("Hours"), [h for _d, h, _n in figures.entry_to_dispatch])
    return _svg(chart, title)


def count_progress_chart(figures: Figures) -> SafeString:
    title = _("Stock-count progress (percent of lines counted)")
    chart = pygal.HorizontalBar(
        title=title,
        range=(0, 100),
        **{**CONFIG, "print_values": True},
    )
    chart.x_labels = [name for name, _c, _t in figures.count_progress]
    chart.add(
        _("Counted"),
        [round(100 * c / t) if t else 0 for _n, c, t in figures.count_progress],
    )
    return _svg(chart, title)


def care_chart(figures: Figures) -> SafeString | None:
    if figures.care_by_time_left is None:
        return None
    labels = {
        "overdue": _("Overdue"),
        "lt4h": _("Under 4 hours"),
        "lt24h": _("4 to 24 hours"),
        "later": _("More than a day"),
    }
    title = _("Open care cases by time left")
    chart = pygal.Bar(title=title, **CONFIG)
    chart.x_labels = [str(labels[k]) for k, _n in figures.care_by_time_left]
    chart.add(_("Cases"), [n for _k, n in figures.care_by_time_left])
    return _svg(chart, title)


def all_charts(figures: Figures) -> dict[str, SafeString | None]:
    return {
        "orders_per_hour": orders_per_hour_chart(figures),
        "backlog": backlog_chart(figures),
        "entry_to_dispatch": entry_to_dispatch_chart(figures),
        "count_progress": count_progress_chart(figures),
        "care": care_chart(figures),
    }
