"""State only: products, warehouses and bins now belong to the catalogue (see catalog 0001).

The foreign keys keep their columns and constraints; only the model they name changes.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0001_initial'),
        ('manual_orders', '0004_reference_import_checked_by_a_job'),
    ]

    operations = [migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
        migrations.AlterField(
            model_name='allocationrule',
            name='warehouse',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='catalog.warehouse', verbose_name='warehouse'),
        ),
        migrations.AlterField(
            model_name='historicalallocationrule',
            name='warehouse',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalog.warehouse', verbose_name='warehouse'),
        ),
        migrations.AlterField(
            model_name='historicalproductprice',
            name='product',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalog.product', verbose_name='product'),
        ),
        migrations.AlterField(
            model_name='manualorder',
            name='warehouse',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='catalog.warehouse', verbose_name='warehouse'),
        ),
        migrations.AlterField(
            model_name='orderline',
            name='product',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='catalog.product', verbose_name='product'),
        ),
        migrations.AlterField(
            model_name='productprice',
            name='product',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='selling_price', to='catalog.product', verbose_name='product'),
        ),
    ])]
