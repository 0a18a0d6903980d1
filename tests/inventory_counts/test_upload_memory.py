"""Issue 12 §4: an uploaded file is checked on a worker with flat memory, whatever it holds.

Each check runs in a fresh process (``tests/peak_rss.py``) on this test's database, which
reports its own peak RSS: a hostile file is refused while it streams, and a file at the limits
is checked, both under 256 MiB.
"""

import pytest

from apps.catalog.models import Location, Product
from apps.inventory_counts.choices import ImportState as SheetState
from apps.inventory_counts.models import CountSheetImport
from tests.hostile_files import count_sheet_csv, zip_bomb_xlsx
from tests.peak_rss import LIMIT_MIB
from tests.peak_rss import measure_on_test_db as _peak_rss


def _sheet(counting, content: bytes, fmt: str) -> CountSheetImport:
    return CountSheetImport.objects.create(
        session=counting,
        content=content,
        original_name=f"sheet.{fmt}",
        input_format=fmt,
        created_by=counting.created_by,
    )


@pytest.fixture
def counting_committed(transactional_db, request):
    """The stock counts' ``counting`` session, committed so that a child process sees it."""
    return request.getfixturevalue("counting")


@pytest.mark.usefixtures("transactional_db")
def test_a_zip_bomb_count_sheet_is_refused_before_unpacking_with_flat_memory(counting_committed):
    bomb = zip_bomb_xlsx(3_000_000)  # 1.1 MB zipped, ~330 MB of XML
    assert len(bomb) < 2 * 1024 * 1024
    sheet = _sheet(counting_committed, bomb, "xlsx")
    report = _peak_rss("apps.inventory_counts.services.check_count_sheet", sheet_id=sheet.pk)
    sheet.refresh_from_db()
    assert sheet.state == SheetState.INVALID
    assert sheet.errors[0]["errors"] == [
        "The file could not be read: it unpacks to more than 20 MB, the limit for an upload. "
        "Split it into smaller files."
    ]
    assert report["peak_mib"] < LIMIT_MIB


@pytest.mark.usefixtures("transactional_db")
def test_a_count_sheet_over_the_row_limit_is_refused_while_streaming_with_flat_memory(
    counting_committed,
):
    bomb = zip_bomb_xlsx(170_000)  # ~19 MB of XML: within the unpacked limit, over the rows
    assert len(bomb) < 1024 * 1024
    sheet = _sheet(counting_committed, bomb, "xlsx")
    report = _peak_rss("apps.inventory_counts.services.check_count_sheet", sheet_id=sheet.pk)
    sheet.refresh_from_db()
    assert sheet.state == SheetState.INVALID
    assert "more than 100,000 rows, the limit for an upload" in sheet.errors[0]["errors"][0]
    assert report["peak_mib"] < LIMIT_MIB


# Known regression, not hidden: with the four apps added in the 2026-11-30 session the Django
# process starts ~8 MiB larger (90 MiB), and this check now peaks at 256.7–257.0 MiB in some runs
# (under in others). Until the check's own footprint is cut, it is expected to fail; see the note.
@pytest.mark.usefixtures("transactional_db")
def test_a_count_sheet_at_the_limits_is_checked_under_256_mib(counting_committed, settings):
    warehouse = counting_committed.warehouse
    locations = Location.objects.bulk_create(
        [Location(warehouse=warehouse, code=f"M-{i:03d}") for i in range(200)]
    )
    products = Product.objects.bulk_create(
        [Product(sku=f"M-SKU-{i:04d}", name=f"Item {i}") for i in range(500)]
    )
    width = settings.UPLOAD_MAX_CELLS // settings.UPLOAD_MAX_ROWS  # 6 columns, 600,000 cells
    content = count_sheet_csv(
        settings.UPLOAD_MAX_ROWS,
        locations=[loc.code for loc in locations],
        skus=[p.sku for p in products],
        extra_columns=width - 3,
    )
    # Notes long enough to bring the file to just under the byte limit too.
    room = settings.UPLOAD_MAX_UNCOMPRESSED_BYTES - len(content) - 1024 * 1024
    pad = room // (settings.UPLOAD_MAX_ROWS * (width - 3))
    content = content.replace(b",n", b"," + b"n" * pad)
    assert (
        settings.UPLOAD_MAX_UNCOMPRESSED_BYTES - 2**21
        < len(content)
        < (settings.UPLOAD_MAX_UNCOMPRESSED_BYTES)
    )
    sheet = _sheet(counting_committed, content, "csv")
    report = _peak_rss("apps.inventory_counts.services.check_count_sheet", sheet_id=sheet.pk)
    sheet.refresh_from_db()
    assert (sheet.state, sheet.total_rows) == (SheetState.VALID, settings.UPLOAD_MAX_ROWS)
    assert report["peak_mib"] < LIMIT_MIB
