"""The catalogue took over products, warehouses and bins from the stock counts without losing a
row: migrated from a database that holds them, every row, id and foreign key is still there."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_THE_MOVE = [
    ("inventory_counts", "0002_unit_of_measure_approval_note"),
    ("manual_orders", "0004_reference_import_checked_by_a_job"),
    ("catalog", None),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1]]).apps


@pytest.fixture
def before_the_move():
    """The schema as it was before the catalogue; the latest schema again afterwards."""
    try:
        yield _migrate(BEFORE_THE_MOVE)
    finally:
        _migrate(None)


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_keep_their_ids_and_foreign_keys(before_the_move):
    old = before_the_move
    user = old.get_model("accounts", "User").objects.create(username="old-timer")
    warehouse = old.get_model("inventory_counts", "Warehouse").objects.create(
        code="SH01", name="Shanghai"
    )
    location = old.get_model("inventory_counts", "Location").objects.create(
        warehouse=warehouse, code="A-01", barcode="LOC-A01"
    )
    product = old.get_model("inventory_counts", "Product").objects.create(
        sku="TEA-1", name="Green tea", unit="kg", unit_of_measure="weight"
    )
    session = old.get_model("inventory_counts", "CountSession").objects.create(
        name="Before", warehouse=warehouse, created_by=user, state="approved"
    )
    session.locations.add(location)
    line = old.get_model("inventory_counts", "CountLine").objects.create(
        session=session, location=location, product=product, counted_qty=Decimal("7")
    )
    stock = old.get_model("inventory_counts", "ApprovedStock").objects.create(
        warehouse=warehouse,
        location=location,
        product=product,
        quantity=Decimal("7"),
        session=session,
        approved_at=datetime(2026, 11, 1, tzinfo=UTC),
        approved_by=user,
    )
    price = old.get_model("manual_orders", "ProductPrice").objects.create(
        product=product, price=Decimal("12.50")
    )
    rule = old.get_model("manual_orders", "AllocationRule").objects.create(
        name="East", warehouse=warehouse, carrier="SF"
    )
    old.get_model("inventory_counts", "HistoricalProduct").objects.create(
        id=product.pk,
        sku="TEA-1",
        name="Green tea",
        history_date=datetime.now(UTC),
        history_type="+",
    )
    Permission = old.get_model("auth", "Permission")
    group = old.get_model("auth", "Group").objects.create(name="keepers")
    group.permissions.add(
        Permission.objects.get(
            content_type__app_label="inventory_counts", codename="change_product"
        )
    )

    _migrate(None)

    from django.contrib.auth.models import Group

    from apps.catalog.models import Location, Product, Warehouse
    from apps.inventory_counts.models import ApprovedStock, CountLine, CountSession
    from apps.manual_orders.models import AllocationRule, ProductPrice

    moved = Product.objects.get(pk=product.pk)
    assert (moved.sku, moved.unit_of_measure) == ("TEA-1", "weight")
    assert Warehouse.objects.get(pk=warehouse.pk).code == "SH01"
    assert Location.objects.get(pk=location.pk).warehouse_id == warehouse.pk
    assert CountLine.objects.get(pk=line.pk).product == moved
    assert list(CountSession.objects.get(pk=session.pk).locations.all()) == [
        Location.objects.get(pk=location.pk)
    ]
    assert ApprovedStock.objects.get(pk=stock.pk).location.code == "A-01"
    assert ProductPrice.objects.get(pk=price.pk).product == moved
    assert AllocationRule.objects.get(pk=rule.pk).warehouse.code == "SH01"
    assert moved.history.count() == 1
    # The group still holds the permission, now named after the catalogue.
    assert (
        Group.objects.get(name="keepers")
        .permissions.filter(content_type__app_label="catalog", codename="change_product")
        .exists()
    )
    # The tables are named after their owner, and new rows continue the old ids.
    tables = set(connection.introspection.table_names())
    assert {"catalog_product", "catalog_warehouse", "catalog_location"} <= tables
    assert not {"inventory_counts_product", "inventory_counts_location"} & tables
    assert Product.objects.create(sku="TEA-2", name="Black tea").pk > moved.pk
    # The foreign keys are still enforced by the database: a used product cannot go.
    with pytest.raises(Exception, match="foreign key|protected"):
        Product.objects.filter(pk=moved.pk).delete()
