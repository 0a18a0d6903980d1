"""Rename the tables catalog took over from inventory_counts to ``catalog_*`` (rows, ids and the
foreign keys pointing at them are kept: PostgreSQL re-points constraints to a renamed table)."""

from django.db import migrations

MODELS = ["product", "warehouse", "location", "historicalproduct", "historicalwarehouse", "historicallocation"]


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("inventory_counts", "0003_catalog_owns_products_warehouses_bins"),
        ("manual_orders", "0005_products_warehouses_from_catalog"),
    ]

    operations = [migrations.AlterModelTable(name=name, table=None) for name in MODELS]
