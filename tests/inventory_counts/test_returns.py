"""Returned goods go back to the approved stock manual orders sell from (care desk's call)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.catalog.choices import UnitOfMeasure
from apps.core.errors import DomainError
from apps.inventory_counts import services
from apps.inventory_counts.choices import StockSource
from apps.inventory_counts.errors import InventoryError
from apps.inventory_counts.models import ApprovedStock
from apps.inventory_counts.selectors import approved_stock_map

from .factories import LocationFactory, ProductFactory, WarehouseFactory


def current(product, location=None):
    rows = ApprovedStock.objects.filter(product=product, is_current=True)
    if location is not None:
        rows = rows.filter(location=location)
    return rows


def test_returned_units_add_to_the_bin_holding_the_most_and_keep_the_old_row(baseline):
    row = services.return_to_stock(
        warehouse=baseline.warehouse,
        product=baseline.tea,
        quantity=3,
        reason="RMA-17: unopened",
        by=baseline.manager,
    )
    assert (row.location, row.quantity, row.source) == (baseline.bin_a, 103, StockSource.RETURN)
    assert (row.reason, row.approved_by, row.session) == (
        "RMA-17: unopened",
        baseline.manager,
        None,
    )
    assert approved_stock_map([baseline.tea.pk]) == {baseline.tea.pk: Decimal("103")}
    history = ApprovedStock.objects.filter(product=baseline.tea, location=baseline.bin_a)
    assert sorted(history.values_list("quantity", "is_current")) == [(100, False), (103, True)]


def test_returned_units_go_to_the_named_bin_even_one_without_stock_yet(baseline):
    row = services.return_to_stock(
        warehouse=baseline.warehouse,
        product=baseline.tea,
        quantity=2,
        reason="RMA-18",
        by=baseline.manager,
        location=baseline.bin_b,
    )
    assert row.quantity == 2 and row.location == baseline.bin_b
    assert approved_stock_map([baseline.tea.pk]) == {baseline.tea.pk: Decimal("102")}


def test_a_return_without_stock_or_bin_in_the_warehouse_asks_for_the_bin(baseline):
    other = WarehouseFactory(code="GZ1")
    with pytest.raises(DomainError) as exc:
        services.return_to_stock(
            warehouse=other, product=baseline.tea, quantity=1, reason="RMA", by=baseline.manager
        )
    assert exc.value.code == InventoryError.RETURN_NEEDS_LOCATION
    assert not ApprovedStock.objects.filter(warehouse=other).exists()


@pytest.mark.parametrize(
    ("quantity", "reason", "code"),
    [
        (1, "  ", InventoryError.RETURN_REASON_MISSING),
        (0, "RMA", InventoryError.RETURN_NOT_POSITIVE),
        (-4, "RMA", InventoryError.RETURN_NOT_POSITIVE),
        ("abc", "RMA", InventoryError.RETURN_NOT_POSITIVE),
        ("1.5", "RMA", InventoryError.RETURN_NOT_WHOLE),
        (Decimal("99999999999"), "RMA", InventoryError.RETURN_TOO_LARGE),
    ],
)
def test_a_refused_return_changes_no_stock(baseline, quantity, reason, code):
    with pytest.raises(DomainError) as exc:
        services.return_to_stock(
            warehouse=baseline.warehouse,
            product=baseline.tea,
            quantity=quantity,
            reason=reason,
            by=baseline.manager,
        )
    assert exc.value.code == code
    assert list(current(baseline.tea).values_list("quantity", flat=True)) == [100]


def test_a_weighed_product_takes_back_a_decimal_quantity(floor):
    rice = ProductFactory(sku="RICE", unit="kg", unit_of_measure=UnitOfMeasure.WEIGHT)
    row = services.return_to_stock(
        warehouse=floor.warehouse,
        product=rice,
        quantity="1.25",
        reason="RMA-20",
        by=floor.manager,
        location=floor.bin_a,
    )
    assert row.quantity == Decimal("1.25")


def test_a_bin_of_another_warehouse_is_refused(baseline):
    elsewhere = LocationFactory(code="Z-09")
    with pytest.raises(DomainError) as exc:
        services.return_to_stock(
            warehouse=baseline.warehouse,
            product=baseline.tea,
            quantity=1,
            reason="RMA",
            by=baseline.manager,
            location=elsewhere,
        )
    assert exc.value.code == InventoryError.RETURN_LOCATION_ELSEWHERE


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("bin_has_stock", [True, False], ids=["stocked-bin", "empty-bin"])
def test_returns_at_the_same_moment_all_add_up(baseline, bin_has_stock):
    location = baseline.bin_a if bin_has_stock else baseline.bin_b
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def give_back(n):
        try:
            start.wait(timeout=10)
            services.return_to_stock(
                warehouse=baseline.warehouse,
                product=baseline.tea,
                quantity=n,
                reason=f"RMA-{n}",
                by=baseline.manager,
                location=location,
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=give_back, args=(n,)) for n in (1, 2, 3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    before = 100 if bin_has_stock else 0
    assert list(current(baseline.tea, location).values_list("quantity", flat=True)) == [before + 10]
    assert ApprovedStock.objects.filter(source=StockSource.RETURN).count() == 4


def test_returned_units_are_what_manual_orders_can_sell_next(baseline):
    from apps.manual_orders.selectors import available_stock

    assert available_stock([baseline.tea.pk]) == {baseline.tea.pk: Decimal("100")}
    services.return_to_stock(
        warehouse=baseline.warehouse,
        product=baseline.tea,
        quantity=5,
        reason="RMA-21",
        by=baseline.manager,
    )
    assert available_stock([baseline.tea.pk]) == {baseline.tea.pk: Decimal("105")}
