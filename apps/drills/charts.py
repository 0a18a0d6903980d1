"""The RTO/RPO trend as server-side SVG (pygal): the same chart serves the page and a PDF.

Kept small here until ``apps/core/charts.py`` (the evaluations issue) is on main.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pygal
from django.utils import timezone
from django.utils.translation import gettext as _
from pygal.style import Style

from .models import RestoreRehearsal

_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)
_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#495057",
    colors=("#0d6efd", "#d63384"),
    font_family="sans-serif",
)


def rto_rpo_trend_svg(rehearsals: Sequence[RestoreRehearsal]) -> str:
    """Minutes of RTO and RPO per rehearsal, oldest first; an SVG string without scripts."""
    chart = pygal.Line(
        style=_STYLE,
        width=800,
        height=300,
        x_label_rotation=30,
        show_dots=True,
        disable_xml_declaration=True,
        js=[],
        title=_("RTO and RPO per rehearsal (minutes)"),
        no_data_text=_("No rehearsal yet"),
        legend_at_bottom=True,
    )
    chart.x_labels = [
        f"#{r.pk} {timezone.localtime(r.finished_at or r.created_at):%m-%d %H:%M}"
        for r in rehearsals
    ]
    chart.add(_("RTO"), [round((r.rto_seconds or 0) / 60, 2) for r in rehearsals])
    chart.add(_("RPO"), [round((r.rpo_seconds or 0) / 60, 2) for r in rehearsals])
    svg = str(chart.render(is_unicode=True))
    # pygal always embeds its tooltip config as an inline <script>: the site's CSP would block
    # it anyway, and a chart that must also print in a PDF needs none.
    return _SCRIPT.sub("", svg)
