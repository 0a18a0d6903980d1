"""Server-side SVG charts (pygal): the same chart serves the page and the PDF.

Callers pass plain series (label → list of numbers, ``None`` for a point not measured) and a
translated title; the result is an SVG string with ``role="img"``, a ``<title>`` and a ``<desc>``
for screen readers, no JavaScript (the Content-Security-Policy allows none inline) and a font
family that renders Chinese (Noto CJK on the server, the browser's CJK fonts elsewhere)::

    svg = line_chart(
        title=_("Time to recover (minutes)"),
        x_labels=["#1", "#2"],
        series={_("Incidents"): [42, None]},
        description=_("One point per incident"),
    )

Mark the result safe in a template (``{{ chart|safe }}``): every text in it is escaped here.
``options`` passes other pygal settings (a smaller ``width``/``height``, ``show_legend``,
``print_values``, ``range``...); nothing in them can bring a script back.

Users: evaluations' report pages and PDFs, drills' readiness, monitoring's business figures
(the page and the dashboard card).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

import pygal
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

# Fonts in order of preference; "Noto Sans CJK SC" comes with Debian's fonts-noto-cjk.
FONT_FAMILY = '"Noto Sans CJK SC", "Noto Sans SC", "Noto Sans", "DejaVu Sans", sans-serif'

STYLE = Style(
    font_family=FONT_FAMILY,
    background="white",
    plot_background="white",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    colors=("#0d6efd", "#dc3545", "#198754", "#fd7e14", "#6f42c1", "#20c997"),
    title_font_size=16,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    value_font_size=11,
)

_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL | re.IGNORECASE)
# pygal's per-point tooltip texts: shown only by its script; they double a PDF's rendering time.
_TOOLTIP_DESC = re.compile(r'<desc class="[^"]*">.*?</desc>', re.DOTALL)

Series = Mapping[Any, Sequence[float | int | None]]


def _config(options: Mapping[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "style": STYLE,
        "width": 720,
        "height": 320,
        "explicit_size": False,
        "print_values": False,
        "show_legend": True,
        "legend_at_bottom": True,
        "truncate_label": -1,
        "no_data_text": "",
        **extra,
        **(options or {}),
        "js": [],  # no script: the charts are static pictures, also in the PDF
        "disable_xml_declaration": True,
    }


def _accessible(svg: str, *, title: str, description: str) -> SafeString:
    """Give the SVG an accessible name and description (WCAG: images need a text alternative)."""
    head, sep, rest = svg.partition(">")
    if not sep or not head.lstrip().startswith("<svg"):
        raise ValueError("pygal did not produce an <svg> element")
    key = uuid.uuid4().hex[:10]  # several charts on one page: ids stay unique
    rest = rest.replace('id="activate-serie-', f'id="chart-{key}-serie-')
    labelled = (
        f'{head} role="img" aria-labelledby="chart-title-{key} chart-desc-{key}">'
        f'<title id="chart-title-{key}">{escape(title)}</title>'
        f'<desc id="chart-desc-{key}">{escape(description)}</desc>'
    )
    return mark_safe(labelled + rest)  # noqa: S308 - texts escaped above, pygal escapes its own


def _render(chart: Any, *, title: Any, description: Any, series: Series) -> SafeString:
    for label, values in series.items():
        chart.add(str(label), list(values))
    # pygal always writes its config as an inline script; the pictures need none (and CSP refuses it).
    svg = _TOOLTIP_DESC.sub("", _SCRIPT.sub("", chart.render(is_unicode=True)))
    return _accessible(svg, title=str(title), description=str(description or title))


def line_chart(
    *,
    title: Any,
    x_labels: Sequence[Any],
    series: Series,
    description: Any = "",
    y_title: Any = "",
    options: Mapping[str, Any] | None = None,
) -> SafeString:
    """A line per series over ``x_labels``; ``None`` leaves a gap (not measured), never a zero."""
    chart = pygal.Line(
        **_config(
            options,
            title=str(title),
            x_labels=[str(x) for x in x_labels],
            y_title=str(y_title) if y_title else None,
            allow_interruptions=True,
            show_x_guides=False,
        )
    )
    return _render(chart, title=title, description=description, series=series)


def bar_chart(
    *,
    title: Any,
    x_labels: Sequence[Any],
    series: Series,
    description: Any = "",
    y_title: Any = "",
    horizontal: bool = False,
    options: Mapping[str, Any] | None = None,
) -> SafeString:
    """Grouped bars, one group per x label; ``None`` draws no bar (not measured)."""
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = kind(
        **_config(
            options,
            title=str(title),
            x_labels=[str(x) for x in x_labels],
            y_title=str(y_title) if y_title else None,
        )
    )
    return _render(chart, title=title, description=description, series=series)


def chart_figure(svg: SafeString, *, caption: Any = "") -> SafeString:
    """An SVG chart in a ``<figure>`` with a visible caption (used by pages and PDFs alike)."""
    if not caption:
        return format_html('<figure class="chart">{}</figure>', svg)
    return format_html(
        '<figure class="chart">{}<figcaption>{}</figcaption></figure>', svg, str(caption)
    )
