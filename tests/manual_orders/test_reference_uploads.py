"""Issue 12 §4: a reference file is checked by a tracked job on a worker, never inside the web
request, and a file beyond the limits fails with the reason on its page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.roles import Role
from apps.catalog.models import Product
from apps.core.models import JobRecord
from apps.manual_orders.choices import ImportState
from apps.manual_orders.models import ReferenceImport
from tests.conftest import wait_for

PRODUCTS = "sku,name,price,unit,active\nR-1,茶叶,12.50,盒,1\nR-2,耳机,99,个,1\n".encode()


def _upload(client, content: bytes, name="products.csv"):
    return client.post(
        "/orders/reference/", {"kind": "products", "file": SimpleUploadedFile(name, content)}
    )


def test_a_reference_upload_is_checked_by_a_worker_not_in_the_request(client, make_user, rq_worker):
    operator = make_user(Role.TECH_SUPPORT, language="en")
    client.force_login(operator)
    response = _upload(client, PRODUCTS)
    imp = ReferenceImport.objects.get()
    assert response["Location"] == f"/orders/reference/{imp.pk}/"
    # The request only stored the file and queued its check.
    assert (imp.state, imp.total_rows) == (ImportState.CHECKING, 0)
    assert (imp.job.kind, imp.job.state) == ("manual_orders.reference_check", "queued")
    page = client.get(response["Location"]).content.decode()
    assert f'id="job-{imp.job.pk}"' in page and 'data-testid="import-confirm"' not in page

    rq_worker.run_burst()
    wait_for(lambda: JobRecord.objects.get(pk=imp.job.pk).is_finished)
    imp.refresh_from_db()
    assert imp.state == ImportState.CHECKED, imp.errors
    assert (imp.job.state, imp.job.percent) == ("succeeded", 100)
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-confirm"' in page and "R-2" in page
    assert not Product.objects.filter(sku__startswith="R-").exists()  # a check writes nothing


@pytest.mark.django_db
def test_a_reference_file_over_the_limit_fails_with_the_reason_on_its_page(
    client, make_user, settings
):
    settings.UPLOAD_MAX_ROWS = 1
    client.force_login(make_user(Role.TECH_SUPPORT, language="en"))
    response = _upload(client, PRODUCTS)
    imp = ReferenceImport.objects.get()
    assert imp.state == ImportState.FAILED
    assert imp.job.state == "failed"
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="import-failed"' in page
    assert "The file could not be read: it has more than 1 rows, the limit for an upload." in page
    assert 'data-testid="import-confirm"' not in page
    # A confirm forced through is refused: nothing is written.
    client.post(f"/orders/reference/{imp.pk}/confirm/")
    assert not Product.objects.filter(sku__startswith="R-").exists()


@pytest.mark.django_db
def test_a_damaged_reference_workbook_says_why(client, make_user):
    client.force_login(make_user(Role.TECH_SUPPORT, language="en"))
    _upload(client, b"PK\x03\x04 truncated", name="products.xlsx")
    imp = ReferenceImport.objects.get()
    assert imp.state == ImportState.FAILED
    assert imp.errors[0]["error"].startswith(
        "The file could not be read: it is not an Excel workbook (.xlsx)."
    )
