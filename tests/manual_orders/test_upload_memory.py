"""Issue 12 §4: an uploaded file is checked on a worker with flat memory, whatever it holds.

Each check runs in a fresh process (``tests/peak_rss.py``) on this test's database, which
reports its own peak RSS: a hostile file is refused while it streams, and a file at the limits
is checked, both under 256 MiB.
"""

import pytest

from apps.manual_orders.choices import ImportState as ReferenceState
from apps.manual_orders.models import ReferenceImport
from tests.hostile_files import large_products_csv
from tests.peak_rss import LIMIT_MIB
from tests.peak_rss import measure_on_test_db as _peak_rss


@pytest.mark.parametrize(
    ("megabytes", "why"),
    [
        (21, "it is larger than 20 MB, the limit for an upload."),
        (19, "it has more than 100,000 rows, the limit for an upload."),  # found while streaming
    ],
)
@pytest.mark.usefixtures("transactional_db")
def test_a_large_reference_csv_is_refused_naming_the_limit_with_flat_memory(
    make_user, megabytes, why
):
    from apps.accounts.roles import Role

    operator = make_user(Role.BUSINESS_SUPPORT, language="en")
    imp = ReferenceImport.objects.create(
        kind="products",
        content=large_products_csv(megabytes),
        original_name="products.csv",
        input_format="csv",
        created_by=operator,
    )
    report = _peak_rss("apps.manual_orders.services.check_reference", import_id=imp.pk)
    imp.refresh_from_db()
    assert imp.state == ReferenceState.FAILED
    assert imp.errors[0]["error"].startswith(f"The file could not be read: {why}")
    assert report["peak_mib"] < LIMIT_MIB
