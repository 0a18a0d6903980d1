"""The business figures (plan 5.3(1)) as charts, drawn by ``apps.core.charts`` (server-side SVG,
no script, the same picture for the page and the dashboard card), in the reader's language."""

from __future__ import annotations

from typing import Any

from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from apps.core.charts import bar_chart

from .selectors import Figures

# Small pictures, one series each (no legend): two sit side by side on the page and the card.
COMPACT: dict[str, Any] = {"width": 480, "height": 260, "show_legend": False}


def orders_per_hour_chart(figures: Figures) -> SafeString:
    return bar_chart(
        title=_("Manual orders per hour"),
        x_labels=[h.strftime("%H") for h, _n in figures.orders_per_hour],
        series={_("Orders"): [n for _h, n in figures.orders_per_hour]},
        options={**COMPACT, "x_labels_major_every": 3, "show_minor_x_labels": False},
    )


def backlog_chart(figures: Figures) -> SafeString:
    labels = {
        "taken": _("Taken"),
        "allocated": _("Allocated"),
        "dispatched": _("Dispatched"),
        "handed_back": _("Handed back"),
    }
    return bar_chart(
        title=_("Order backlog"),
        x_labels=list(labels.values()),
        series={_("Orders"): [figures.backlog.get(k, 0) for k in labels]},
        horizontal=True,
        options={**COMPACT, "print_values": True},
    )


def entry_to_dispatch_chart(figures: Figures) -> SafeString:
    return bar_chart(
        title=_("Hours from entry to dispatch (average per day)"),
        x_labels=[date_format(day, "m-d") for day, _h, _n in figures.entry_to_dispatch],
        series={_("Hours"): [h for _d, h, _n in figures.entry_to_dispatch]},
        options=COMPACT,
    )


def count_progress_chart(figures: Figures) -> SafeString:
    return bar_chart(
        title=_("Stock-count progress (percent of lines counted)"),
        x_labels=[name for name, _c, _t in figures.count_progress],
        series={
            _("Counted"): [round(100 * c / t) if t else 0 for _n, c, t in figures.count_progress]
        },
        horizontal=True,
        options={**COMPACT, "print_values": True, "range": (0, 100)},
    )


def care_chart(figures: Figures) -> SafeString | None:
    if figures.care_by_time_left is None:
        return None
    labels = {
        "overdue": _("Overdue"),
        "lt4h": _("Under 4 hours"),
        "lt24h": _("4 to 24 hours"),
        "later": _("More than a day"),
    }
    return bar_chart(
        title=_("Open care cases by time left"),
        x_labels=[labels[k] for k, _n in figures.care_by_time_left],
        series={_("Cases"): [n for _k, n in figures.care_by_time_left]},
        options=COMPACT,
    )


def figure_charts(figures: Figures) -> dict[str, SafeString | None]:
    return {
        "orders_per_hour": orders_per_hour_chart(figures),
        "backlog": backlog_chart(figures),
        "entry_to_dispatch": entry_to_dispatch_chart(figures),
        "count_progress": count_progress_chart(figures),
        "care": care_chart(figures),
    }
