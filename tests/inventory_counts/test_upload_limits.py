"""Issue 12 §4: a count sheet beyond the upload limits is refused with a message that names the
limit, in the uploader's language, and "The file could not be read: " always says why."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.inventory_counts.choices import ImportState
from apps.inventory_counts.models import CountEntry, CountSheetImport
from tests.hostile_files import giant_row_xlsx, wide_xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_uploader(baseline):
    """Jobs speak the language of the user who started them."""
    baseline.manager.language = "en"
    baseline.manager.save()


def _upload(client, session, content: bytes, name="sheet.csv", fmt="csv") -> CountSheetImport:
    response = client.post(
        reverse("inventory_counts:sheet-upload", args=[session.pk]),
        {"file": SimpleUploadedFile(name, content), "input_format": fmt},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return CountSheetImport.objects.latest("pk")


def _refusal(sheet: CountSheetImport) -> str:
    assert sheet.state == ImportState.INVALID
    assert not CountEntry.objects.filter(sheet=sheet).exists()
    return " ".join(sheet.errors[0]["errors"])


ROWS = b"location,sku,quantity\nA-01,TEA-1,1\nB-01,CUP-1,2\nB-01,TEA-1,3\nA-01,CUP-1,4\n"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "The file could not be read: it has more than 3 rows, the limit for an upload."),
        ("zh-hans", "无法读取文件：行数超过 3 行，这是上传的上限。"),
    ],
)
def test_a_sheet_over_the_row_limit_is_refused_naming_the_limit_in_the_uploaders_language(
    client, baseline, counting, settings, language, expected
):
    settings.UPLOAD_MAX_ROWS = 3
    baseline.manager.language = language
    baseline.manager.save()
    client.force_login(baseline.manager)
    sheet = _upload(client, counting, ROWS)
    assert _refusal(sheet).startswith(expected)
    page = client.get(reverse("inventory_counts:sheet-detail", args=[sheet.pk]))
    assert expected in page.content.decode()


def test_a_sheet_over_the_cell_limit_is_refused_naming_the_limit(
    client, baseline, counting, settings
):
    settings.UPLOAD_MAX_CELLS = 10
    client.force_login(baseline.manager)
    message = _refusal(_upload(client, counting, ROWS))  # 4 rows × 3 columns
    assert "more than 10 cells (rows × columns), the limit for an upload" in message


def test_a_workbook_wider_than_the_column_limit_is_refused_naming_the_limit(
    client, baseline, counting, settings
):
    settings.UPLOAD_MAX_COLUMNS = 4
    client.force_login(baseline.manager)
    sheet = _upload(client, counting, wide_xlsx(6), name="wide.xlsx", fmt="xlsx")
    assert _refusal(sheet) == (
        "The file could not be read: The header row has more than 4 columns, "
        "the limit for an upload."
    )


def test_a_workbook_with_one_giant_row_is_refused_before_it_is_built(client, baseline, counting):
    client.force_login(baseline.manager)
    content = giant_row_xlsx(20_000)
    assert len(content) < 20_000  # a few KB that would become 20,000 cell objects
    sheet = _upload(client, counting, content, name="row.xlsx", fmt="xlsx")
    assert "row 1 has more than 16,384 cells" in _refusal(sheet)


@pytest.mark.parametrize(
    ("content", "name", "fmt", "why"),
    [
        (b"PK not really a zip", "x.xlsx", "xlsx", "it is not an Excel workbook (.xlsx)."),
        (ROWS.replace(b"B-01,CUP-1,2", b"B-01,CUP-1,2,9"), "x.csv", "csv", "row 2 has more cells"),
        (b"", "x.csv", "csv", "it is empty."),
        (b"\n\nA-01,TEA-1,1\n", "x.csv", "csv", "its first row (the header) is empty."),
    ],
)
def test_a_file_that_could_not_be_read_always_says_why(
    client, baseline, counting, content, name, fmt, why
):
    client.force_login(baseline.manager)
    sheet = _upload(client, counting, content or b"\xef\xbb\xbf", name=name, fmt=fmt)
    message = _refusal(sheet)
    assert message.startswith("The file could not be read: ")
    assert why in message
