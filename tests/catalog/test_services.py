"""The catalogue's services: the one way products, warehouses and bins are written."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.catalog import services
from apps.catalog.choices import UnitOfMeasure
from apps.catalog.errors import CatalogError
from apps.catalog.models import Location, Product, Warehouse
from apps.catalog.services import LocationData, ProductData, WarehouseData
from apps.core.errors import DomainError

from .factories import LocationFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def test_upsert_products_creates_new_skus_and_updates_known_ones_with_history(make_user):
    admin = make_user(username="loader")
    ProductFactory(sku="TEA-1", name="Tea", barcode="690001", unit_cost=Decimal("4.00"))
    result = services.upsert_products(
        products=[
            ProductData(sku="TEA-1", name="Green tea", category="drinks"),
            ProductData(sku="RICE", name="Rice", unit="kg"),
        ],
        by=admin,
        reason="test load",
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    tea, rice = Product.objects.get(sku="TEA-1"), Product.objects.get(sku="RICE")
    assert result.ids == {"TEA-1": tea.pk, "RICE": rice.pk}
    # Not given: barcode and unit cost are kept; a new product's measure follows its unit.
    assert (tea.name, tea.barcode, tea.unit_cost) == ("Green tea", "690001", Decimal("4.00"))
    assert rice.unit_of_measure == UnitOfMeasure.WEIGHT
    last = tea.history.first()
    assert (last.history_type, last.history_user, last.history_change_reason) == (
        "~",
        admin,
        "test load",
    )
    assert rice.history.get().history_type == "+"


def test_loading_the_same_products_again_changes_nothing_and_writes_no_history():
    rows = [ProductData(sku=f"S-{n}", name=f"Product {n}") for n in range(5)]
    services.upsert_products(products=rows, by=None)
    again = services.upsert_products(products=rows, by=None)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert Product.history.count() == 5


def test_the_last_row_of_a_repeated_sku_wins():
    services.upsert_products(
        products=[ProductData(sku="X", name="first"), ProductData(sku="X", name="second")],
        by=None,
    )
    assert Product.objects.get(sku="X").name == "second"


def test_an_invalid_product_row_is_refused_by_code_and_nothing_is_written():
    with pytest.raises(DomainError) as exc:
        services.upsert_products(
            products=[ProductData(sku="OK", name="fine"), ProductData(sku="BAD", name="")],
            by=None,
        )
    assert exc.value.code == CatalogError.INVALID_PRODUCT
    assert exc.value.params["sku"] == "BAD" and exc.value.field == "name"
    assert not Product.objects.exists()


def test_upsert_warehouses_renames_by_code():
    WarehouseFactory(code="SH01", name="Old")
    result = services.upsert_warehouses(
        warehouses=[WarehouseData(code="SH01", name="Shanghai"), WarehouseData("GZ01", "Canton")],
        by=None,
    )
    assert (result.created, result.updated) == (1, 1)
    assert dict(Warehouse.objects.values_list("code", "name")) == {
        "SH01": "Shanghai",
        "GZ01": "Canton",
    }


def test_upsert_locations_keys_bins_by_warehouse_and_code():
    east, west = WarehouseFactory(code="E"), WarehouseFactory(code="W")
    LocationFactory(warehouse=west, code="A-01", barcode="W-A01")
    services.upsert_locations(
        warehouse=east,
        locations=[LocationData("A-01", barcode="E-A01"), LocationData("A-02")],
        by=None,
    )
    assert sorted(Location.objects.filter(warehouse=east).values_list("code", "barcode")) == [
        ("A-01", "E-A01"),
        ("A-02", ""),
    ]
    assert Location.objects.get(warehouse=west).barcode == "W-A01"


def test_upsert_locations_can_leave_existing_bins_as_they_are():
    wh = WarehouseFactory()
    LocationFactory(warehouse=wh, code="A-01", barcode="KEEP")
    result = services.upsert_locations(
        warehouse=wh,
        locations=[LocationData("A-01", barcode="NEW")],
        by=None,
        update_existing=False,
    )
    assert result.unchanged == 1 and Location.objects.get().barcode == "KEEP"


def test_a_barcode_another_bin_carries_is_refused_and_nothing_is_written():
    wh = WarehouseFactory(code="SH")
    LocationFactory(warehouse=wh, code="A-01", barcode="DUP")
    with pytest.raises(DomainError) as exc:
        services.upsert_locations(
            warehouse=wh,
            locations=[LocationData("A-02"), LocationData("A-03", barcode="DUP")],
            by=None,
        )
    assert exc.value.code == CatalogError.BARCODE_TAKEN
    assert Location.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_loads_of_the_same_new_products_at_once_neither_fail_nor_duplicate():
    rows = [ProductData(sku=f"P-{n:03d}", name=f"Product {n}") for n in range(200)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def load(order):
        try:
            start.wait(timeout=10)
            services.upsert_products(products=order, by=None)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=load, args=(rows,)),
        threading.Thread(target=load, args=(rows[::-1],)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert Product.objects.count() == 200
