import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from apps.inventory_counts.choices import ImportState
from apps.inventory_counts.models import CountEntry, CountLine, CountSheetImport
from apps.inventory_counts.resources import format_by_name

pytestmark = pytest.mark.django_db


def _sheet(rows, header="location,sku,quantity") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _upload(client, session, content: bytes, name="sheet.csv", fmt="csv"):
    return client.post(
        reverse("inventory_counts:sheet-upload", args=[session.pk]),
        {"file": SimpleUploadedFile(name, content), "input_format": fmt},
    )


def test_an_import_with_one_bad_row_writes_nothing_and_names_the_row(client, baseline, counting):
    client.force_login(baseline.manager)
    content = _sheet(["A-01,TEA-1,98", "B-01,CUP-1,40", "B-01,NO-SUCH-SKU,3", "A-01,CUP-1,1"])
    with translation.override("en"):
        response = _upload(client, counting, content)
        sheet = CountSheetImport.objects.get()
        assert response.status_code == 302
        page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert sheet.state == ImportState.INVALID and sheet.error_count == 1
    assert sheet.errors[0]["row"] == 3 and "NO-SUCH-SKU" in sheet.errors[0]["errors"][0]
    assert "Row 3" in page and "NO-SUCH-SKU" in page
    assert 'data-testid="sheet-confirm"' not in page
    # A confirm forced through is refused too: nothing is written.
    client.post(reverse("inventory_counts:sheet-confirm", args=[sheet.pk]))
    assert not CountEntry.objects.filter(session=counting).exists()
    assert not CountLine.objects.filter(session=counting, counted_qty__isnull=False).exists()
    assert not CountLine.objects.filter(
        session=counting, location=baseline.bin_a, product=baseline.cups
    ).exists()


def test_a_checked_sheet_is_previewed_then_imported_into_the_lines(client, baseline, counting):
    baseline.tea.unit_of_measure = "weight"  # loose tea, weighed: decimals are fine
    baseline.tea.save()
    client.force_login(baseline.manager)
    content = _sheet(["A-01,TEA-1,98", "B-01,6900000000024,40", "B-01,TEA-1,2.5"])
    response = _upload(client, counting, content)
    sheet = CountSheetImport.objects.get()
    assert sheet.state == ImportState.VALID and sheet.total_rows == 3
    assert not CountEntry.objects.filter(session=counting).exists()  # a dry run
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="sheet-preview"' in page and "TEA-1" in page
    client.post(reverse("inventory_counts:sheet-confirm", args=[sheet.pk]))
    sheet.refresh_from_db()
    assert sheet.state == ImportState.IMPORTED, sheet.errors
    lines = {
        (line.location.code, line.product.sku): line.counted_qty
        for line in CountLine.objects.filter(session=counting).select_related("location", "product")
    }
    assert lines == {("A-01", "TEA-1"): 98, ("B-01", "CUP-1"): 40, ("B-01", "TEA-1"): 2.5}
    assert CountEntry.objects.filter(sheet=sheet, clerk=baseline.manager).count() == 3


def test_a_sheet_adds_to_what_clerks_already_scanned(client, baseline, counting):
    from decimal import Decimal

    from apps.inventory_counts import services

    services.record_entry(
        session=counting,
        location=baseline.bin_a,
        product=baseline.tea,
        quantity=Decimal(50),
        by=baseline.clerk,
    )
    client.force_login(baseline.manager)
    _upload(client, counting, _sheet(["A-01,TEA-1,48"]))
    client.post(reverse("inventory_counts:sheet-confirm", args=[CountSheetImport.objects.get().pk]))
    assert (
        CountLine.objects.get(
            session=counting, product=baseline.tea, location=baseline.bin_a
        ).counted_qty
        == 98
    )


def test_the_same_location_and_product_twice_in_one_sheet_is_an_error(client, baseline, counting):
    client.force_login(baseline.manager)
    _upload(client, counting, _sheet(["A-01,TEA-1,1", "A-01,TEA-1,2"]))
    sheet = CountSheetImport.objects.get()
    assert sheet.state == ImportState.INVALID and sheet.errors[0]["row"] == 2


def test_chinese_headers_and_a_missing_column_are_understood(client, baseline, counting):
    client.force_login(baseline.manager)
    _upload(client, counting, _sheet(["A-01,TEA-1,1"], header="库位,商品编码,数量"))
    assert CountSheetImport.objects.get().state == ImportState.VALID
    _upload(client, counting, _sheet(["A-01,1"], header="location,quantity"))
    sheet = CountSheetImport.objects.latest("pk")
    assert sheet.state == ImportState.INVALID and sheet.errors[0]["row"] is None


def test_a_clerk_cannot_import_sheets(client, baseline, counting):
    client.force_login(baseline.clerk)
    assert _upload(client, counting, _sheet(["A-01,TEA-1,1"])).status_code == 403


def test_an_xlsx_sheet_round_trips(client, baseline, counting):
    if format_by_name("xlsx") is None:
        pytest.skip("openpyxl is not installed: XLSX import and export are unavailable")
    client.force_login(baseline.manager)
    exported = client.get(
        reverse("inventory_counts:sheet-export", args=[counting.pk]), {"format": "xlsx"}
    ).content
    import tablib

    data = tablib.Dataset().load(exported, format="xlsx")
    data = tablib.Dataset(*[(r[0], r[1], 7) for r in data], headers=["location", "sku", "quantity"])
    _upload(client, counting, data.export("xlsx"), name="sheet.xlsx", fmt="xlsx")
    sheet = CountSheetImport.objects.get()
    assert sheet.state == ImportState.VALID, sheet.errors


@pytest.mark.slow
def test_the_import_runs_on_a_real_worker(client, baseline, rq_worker, settings):
    from apps.inventory_counts import services

    sheet = services.upload_count_sheet(
        session=baseline_session(baseline),
        content=_sheet(["A-01,TEA-1,100", "B-01,CUP-1,40"]),
        file_name="sheet.csv",
        input_format="csv",
        by=baseline.manager,
    )
    rq_worker.run_burst()
    sheet.refresh_from_db()
    assert sheet.state == ImportState.VALID
    services.confirm_count_sheet(sheet=sheet, by=baseline.manager)
    rq_worker.run_burst()
    sheet.refresh_from_db()
    assert sheet.state == ImportState.IMPORTED and sheet.job.state == "succeeded"
    assert CountEntry.objects.filter(sheet=sheet).count() == 2


def baseline_session(floor):
    from apps.inventory_counts import services

    session = services.create_session(name="w", warehouse=floor.warehouse, by=floor.manager)
    return services.start_session(session=session, by=floor.manager)


def _crash(*args, **kwargs):
    raise RuntimeError("the import blew up")


def test_a_crashed_job_marks_the_sheet_failed_while_importing(
    client, baseline, counting, monkeypatch
):
    client.force_login(baseline.manager)
    _upload(client, counting, _sheet(["A-01,TEA-1,98"]))
    sheet = CountSheetImport.objects.get()
    assert sheet.state == ImportState.VALID
    monkeypatch.setattr("apps.inventory_counts.services.CountSheetResource.import_data", _crash)
    client.post(reverse("inventory_counts:sheet-confirm", args=[sheet.pk]))
    sheet.refresh_from_db()
    assert sheet.state == ImportState.FAILED, sheet.state
    assert "RuntimeError" in sheet.errors[0]["errors"][0]
    assert not CountEntry.objects.filter(session=counting).exists()


def test_a_crashed_job_marks_the_sheet_failed_while_checking_and_it_can_be_checked_again(
    client, baseline, counting, monkeypatch
):
    client.force_login(baseline.manager)
    with monkeypatch.context() as patched:
        patched.setattr("apps.inventory_counts.services.CountSheetResource.import_data", _crash)
        response = _upload(client, counting, _sheet(["A-01,TEA-1,98"]))
    sheet = CountSheetImport.objects.get()
    assert sheet.state == ImportState.FAILED
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="sheet-failed"' in page and 'data-testid="sheet-recheck"' in page
    client.post(reverse("inventory_counts:sheet-recheck", args=[sheet.pk]))
    sheet.refresh_from_db()
    assert sheet.state == ImportState.VALID, sheet.errors
    client.post(reverse("inventory_counts:sheet-confirm", args=[sheet.pk]))
    sheet.refresh_from_db()
    assert sheet.state == ImportState.IMPORTED


def test_a_crashed_job_a_failed_job_record_unsticks_the_sheet(client, baseline, counting):
    from apps.core.choices import JobState

    client.force_login(baseline.manager)
    _upload(client, counting, _sheet(["A-01,TEA-1,98"]))
    sheet = CountSheetImport.objects.get()
    # As if the worker died mid-check: the sheet still says checking, the job failed.
    CountSheetImport.objects.filter(pk=sheet.pk).update(state=ImportState.VALIDATING)
    sheet.job.__class__.objects.filter(pk=sheet.job_id).update(
        state=JobState.FAILED, error="worker lost"
    )
    page = client.get(reverse("inventory_counts:sheet-detail", args=[sheet.pk])).content.decode()
    sheet.refresh_from_db()
    assert sheet.state == ImportState.FAILED
    assert 'data-testid="sheet-recheck"' in page


def test_csv_encoding_a_gbk_sheet_from_chinese_excel_imports(client, baseline, counting):
    client.force_login(baseline.manager)
    content = "库位,商品编码,数量\nA-01,TEA-1,98\n".encode("gbk")
    _upload(client, counting, content)
    sheet = CountSheetImport.objects.get()
    assert sheet.state == ImportState.VALID, sheet.errors


def test_csv_encoding_an_undecodable_sheet_gets_a_translated_message(client, baseline, counting):
    client.force_login(baseline.manager)
    with translation.override("en"):
        _upload(client, counting, b"location,sku,quantity\nA-01,\xff\xfe\xff,1\n")
    sheet = CountSheetImport.objects.get()
    assert sheet.state == ImportState.INVALID
    message = sheet.errors[0]["errors"][0]
    assert "codec" not in message and "0xff" not in message
    assert "encoding" in message or "编码" in message


def test_a_late_check_job_never_turns_an_imported_sheet_valid_again(client, baseline, counting):
    """A repeated or late check must not reopen a sheet: it could then be imported twice."""
    from apps.inventory_counts import services

    client.force_login(baseline.manager)
    _upload(client, counting, _sheet(["A-01,TEA-1,98"]))
    sheet = CountSheetImport.objects.get()
    client.post(reverse("inventory_counts:sheet-confirm", args=[sheet.pk]))
    sheet.refresh_from_db()
    assert sheet.state == ImportState.IMPORTED, sheet.errors

    services.check_count_sheet(sheet_id=sheet.pk)  # the late job

    sheet.refresh_from_db()
    assert sheet.state == ImportState.IMPORTED
    assert CountEntry.objects.filter(sheet=sheet).count() == 1
