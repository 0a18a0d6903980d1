"""Other apps reading data from the latest backups (the order system may be down)."""

import psycopg
import pytest

from apps.backups import services
from apps.backups.errors import BackupsError
from apps.backups.models import BackupScope
from apps.backups.services import latest_backups_opened
from apps.catalog.models import Product
from apps.manual_orders.models import Customer
from apps.manual_orders.services import load_reference_from_latest_backup
from tests.codes import raises_code

from .conftest import table_rows


@pytest.mark.django_db
def test_manual_orders_load_reference_data_from_the_latest_backups(order_db):
    for slug in ("products", "users"):
        services.start_backup(scope=BackupScope.objects.get(slug=slug))
    expected_products = table_rows(order_db, "products")
    expected_customers = table_rows(order_db, "customers")
    with psycopg.connect(order_db) as conn:  # the live system changes after the backups
        conn.execute("UPDATE products SET name = 'changed since the backup'")
    counts = load_reference_from_latest_backup()
    assert counts == {"products": len(expected_products), "customers": len(expected_customers)}
    first = Product.objects.get(sku=expected_products[0][1])
    assert first.name == expected_products[0][2]
    assert Customer.objects.count() == len(expected_customers)


@pytest.mark.django_db
def test_reading_from_backups_that_do_not_exist_is_refused_clearly(order_db):
    with raises_code(BackupsError.NO_INTACT_BACKUP), latest_backups_opened(slugs=["products"]):
        pass


@pytest.mark.django_db
def test_load_reference_command_reads_the_order_system(order_db, capsys):
    from django.core.management import call_command

    call_command("load_reference")
    assert Product.objects.count() == len(table_rows(order_db, "products"))
    assert "customers loaded" in capsys.readouterr().out
