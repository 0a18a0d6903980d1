"""Issue 12 §6: an exported cell never carries a live formula (CSV, XLSX and JSON)."""

import csv
import io
import json
from decimal import Decimal

import openpyxl
import pytest

from apps.accounts.roles import Role
from apps.manual_orders import services

from .factories import CustomerFactory, priced_product
from .test_hand_back import take

pytestmark = pytest.mark.django_db

HOSTILE_NAMES = ['=HYPERLINK("http://x","y")', "=1+1", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def _orders_with_hostile_names(operator):
    product = priced_product(price="5.00", by=operator)
    for n, name in enumerate(HOSTILE_NAMES):
        take(CustomerFactory(name=name, phone=f"1380000{n:04d}"), operator, product)


def test_order_export_csv_turns_formula_text_into_plain_text(operator):
    _orders_with_hostile_names(operator)
    content, _type = services.export_orders(file_format="csv")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert sorted(r["customer_name"] for r in rows) == sorted("'" + n for n in HOSTILE_NAMES)
    assert all(Decimal(r["order_total"]) == 10 for r in rows)


def test_order_export_xlsx_cells_are_strings_not_formulas_and_totals_stay_numbers(operator):
    _orders_with_hostile_names(operator)
    content, _type = services.export_orders(file_format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    header = [c.value for c in sheet[1]]
    name_col = header.index("customer_name") + 1
    total_col = header.index("order_total") + 1
    names = [sheet.cell(row=r, column=name_col) for r in range(2, sheet.max_row + 1)]
    # (XML turns a carriage return into a line feed.)
    expected = sorted("'" + n.replace("\r", "\n") for n in HOSTILE_NAMES)
    assert sorted(c.value for c in names) == expected
    assert {c.data_type for c in names} == {"s"}  # never "f" (a formula)
    totals = [sheet.cell(row=r, column=total_col).value for r in range(2, sheet.max_row + 1)]
    assert all(isinstance(t, int | float) for t in totals), totals


def test_order_export_json_neutralises_the_same_cells(operator):
    _orders_with_hostile_names(operator)
    content, _type = services.export_orders(file_format="json")
    rows = json.loads(content)
    assert sorted(r["customer_name"] for r in rows) == sorted("'" + n for n in HOSTILE_NAMES)


def test_the_export_page_serves_neutralised_csv(client, operator, make_user):
    take(CustomerFactory(name="=1+1"), operator, priced_product(price="5.00", by=operator))
    client.force_login(make_user(Role.TECH_SUPPORT))
    response = client.get("/orders/hand-back/export/?format=csv")
    assert response.status_code == 200
    assert ",'=1+1," in response.content.decode("utf-8-sig")
