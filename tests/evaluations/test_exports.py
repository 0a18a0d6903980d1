"""The report as files: text read back from the PDF, cells read back from the XLSX."""

import io

import pytest
from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader

from apps.evaluations.exports import report_pdf, report_xlsx
from apps.evaluations.services import compute_report, save_narratives

from .factories import incident_with_known_times

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(manager):
    incident = incident_with_known_times(title='=HYPERLINK("http://x")').incident
    report = compute_report(incident=incident, by=manager)
    return save_narratives(
        report=report,
        narratives={"recovery": "恢复比目标慢：备份需要先校验。"},
        version=None,
        by=manager,
    )


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_carries_every_dimension_its_figures_and_chinese_text(report):
    with translation.override("zh-hans"):
        content = report_pdf(report)
    assert content.startswith(b"%PDF")
    text = _pdf_text(content)
    for label in ("响应速度", "恢复效率", "资源利用", "团队协作", "客户满意度"):
        assert label in text
    assert "恢复比目标慢" in text  # the narrative, in the CJK font
    assert "未测量" in text  # customer satisfaction: not measured, never 0
    assert "180" in text and "72.7" in text


def test_the_pdf_embeds_a_cjk_font(report):
    with translation.override("zh-hans"):
        content = report_pdf(report)
    reader = PdfReader(io.BytesIO(content))
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("CJK" in f for f in fonts), fonts


def test_the_pdf_draws_the_charts_as_vectors_in_english_too(report):
    with translation.override("en"):
        text = _pdf_text(report_pdf(report))
    assert "Manual orders: taken vs handed back" in text
    assert "Tasks done on time by role" in text


def test_the_workbook_has_one_sheet_per_dimension_with_raw_figures(report):
    with translation.override("en"):
        book = load_workbook(io.BytesIO(report_xlsx(report)))
    assert book.sheetnames == [
        "Report",
        "Response speed",
        "Recovery efficiency",
        "Resource utilisation",
        "Team collaboration",
        "Customer satisfaction",
    ]
    response = {row[0]: row[1] for row in book["Response speed"].iter_rows(values_only=True) if row}
    assert response["Detected → declared (minutes)"] == 10
    assert response["Mean acknowledgement time (minutes)"] == 10
    recovery_rows = list(book["Recovery efficiency"].iter_rows(values_only=True))
    minutes = [r[3] for r in recovery_rows if r and isinstance(r[0], str) and r[0].startswith("#")]
    assert minutes == [30, 50]
    satisfaction = {
        row[0]: row[1] for row in book["Customer satisfaction"].iter_rows(values_only=True) if row
    }
    assert satisfaction["Customer satisfaction (CSAT, 1–5)"] == "not measured"


def test_a_title_that_looks_like_a_formula_is_neutralised_in_the_workbook(report):
    with translation.override("en"):
        book = load_workbook(io.BytesIO(report_xlsx(report)))
    cells = {row[0]: row[1] for row in book["Report"].iter_rows(values_only=True) if row}
    assert cells["Incident"].startswith("#")  # "#<id> =HYPERLINK…" cannot run
    narrative = [
        r
        for r in book["Recovery efficiency"].iter_rows(values_only=True)
        if r and r[0] == "Narrative"
    ]
    assert narrative == [("Narrative", "恢复比目标慢：备份需要先校验。", None, None)]
