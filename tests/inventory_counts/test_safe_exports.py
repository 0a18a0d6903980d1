"""Issue 12 §6: count sheets and the variance report never export a live formula, and a
negative variance stays a number."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from apps.inventory_counts import services

pytestmark = pytest.mark.django_db


def _counted_with_hostile_name(baseline, counting):
    baseline.tea.name = "=1+1"
    baseline.tea.save()
    services.record_entry(
        session=counting,
        location=baseline.bin_a,
        product=baseline.tea,
        quantity=Decimal(98),
        by=baseline.clerk,
    )
    return services.close_counting(session=counting, by=baseline.manager)


def test_variance_report_xlsx_has_text_not_formulas_and_a_negative_variance_as_a_number(
    client, baseline, counting
):
    session = _counted_with_hostile_name(baseline, counting)
    client.force_login(baseline.manager)
    response = client.get(
        reverse("inventory_counts:variance-export", args=[session.pk]), {"format": "xlsx"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    tea = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("sku")].value == "TEA-1")
    name = tea[header.index("name")]
    assert (name.value, name.data_type) == ("'=1+1", "s")
    variance = tea[header.index("variance_qty")]
    assert variance.data_type == "n" and variance.value == -2


def test_variance_report_csv_neutralises_text_and_keeps_negative_numbers(
    client, baseline, counting
):
    session = _counted_with_hostile_name(baseline, counting)
    client.force_login(baseline.manager)
    response = client.get(
        reverse("inventory_counts:variance-export", args=[session.pk]), {"format": "csv"}
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    tea = next(r for r in rows if r["sku"] == "TEA-1")
    assert tea["name"] == "'=1+1"
    assert Decimal(tea["variance_qty"]) == -2  # "-2.000", not "'-2.000"


def test_a_blank_count_sheet_export_neutralises_product_names(client, baseline, counting):
    _counted_with_hostile_name(baseline, counting)
    client.force_login(baseline.manager)
    response = client.get(
        reverse("inventory_counts:sheet-export", args=[counting.pk]), {"format": "xlsx"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    names = [c for c in sheet["D"][1:] if c.value]
    assert "'=1+1" in [c.value for c in names]
    assert all(c.data_type == "s" for c in names)
