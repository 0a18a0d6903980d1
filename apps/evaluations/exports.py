"""A report as a PDF (WeasyPrint: the page's HTML and SVG charts) and as an XLSX workbook.

Both are rendered in the reader's active language from the stored figures; every text cell of
the workbook passes through ``apps.core.tabular.neutralise_cell`` (formula-neutralised).
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from openpyxl import Workbook

from apps.core.tabular import neutralise_cell

from .models import EvaluationReport
from .presentation import dimension_views, local_time, show

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def report_context(report: EvaluationReport, *, charts: bool = True) -> dict[str, Any]:
    figures = report.figures
    return {
        "report": report,
        "incident": report.incident,
        "dimensions": dimension_views(figures, report.narratives, charts=charts),
        "window_start": local_time(figures["window"]["start"]),
        "window_end": local_time(figures["window"]["end"]),
        "computed_at": local_time(figures.get("computed_at")),
    }


def report_pdf(report: EvaluationReport) -> bytes:
    from weasyprint import HTML  # imported here: loading pango costs ~0.3 s, pages never need it

    html = render_to_string("evaluations/report_pdf.html", report_context(report))
    return HTML(string=html).write_pdf()


def _cell(value: Any) -> Any:
    if value is None:
        return show(None)
    return neutralise_cell(value)


def _sheet_title(text: str, used: set[str]) -> str:
    title = _SHEET_FORBIDDEN.sub(" ", text)[:31] or "Sheet"
    base, n = title, 2
    while title in used:
        title = f"{base[:28]} {n}"
        n += 1
    used.add(title)
    return title


def report_xlsx(report: EvaluationReport) -> bytes:
    """One summary sheet, then one sheet per dimension with its figures and raw rows."""
    context = report_context(report, charts=False)
    book = Workbook()
    used: set[str] = set()
    summary = book.active
    summary.title = _sheet_title(_("Report"), used)
    incident = report.incident
    for row in (
        [_("Incident"), f"#{incident.pk} {incident.title}"],
        [_("Drill"), _("yes") if report.is_drill else _("no")],
        [_("Version"), report.number],
        [_("State"), str(report.get_state_display())],
        [_("Window starts"), context["window_start"]],
        [_("Window ends"), context["window_end"]],
        [_("Computed at"), context["computed_at"]],
        [],
        [_("Dimension"), _("Score")],
    ):
        summary.append([_cell(v) for v in row])
    for dim in context["dimensions"]:
        summary.append([_cell(dim.label), _cell(dim.score)])

    for dim in context["dimensions"]:
        sheet = book.create_sheet(_sheet_title(dim.label, used))
        sheet.append([_cell(_("Score")), _cell(dim.score)])
        sheet.append([])
        sheet.append([_cell(h) for h in (_("Figure"), _("Value"), _("Target"), _("Met"))])
        for m in dim.metrics:
            met = show(None) if m.met is None else (_("yes") if m.met else _("no"))
            sheet.append([_cell(m.label), _cell(m.value), _cell(m.target_shown), _cell(met)])
        for table in dim.tables:
            sheet.append([])
            sheet.append([_cell(table.title)])
            sheet.append([_cell(h) for h in table.headers])
            for row in table.rows:
                sheet.append([_cell(v) for v in row])
        if dim.narrative:
            sheet.append([])
            sheet.append([_cell(_("Narrative")), _cell(dim.narrative)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
