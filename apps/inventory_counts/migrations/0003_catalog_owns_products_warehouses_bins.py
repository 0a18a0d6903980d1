"""State only: products, warehouses and bins now belong to the catalogue (see catalog 0001).

The foreign keys keep their columns and constraints; only the model they name changes.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0001_initial'),
        ('inventory_counts', '0002_unit_of_measure_approval_note'),
        ('manual_orders', '0005_products_warehouses_from_catalog'),
    ]

    operations = [migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
        migrations.RemoveField(
            model_name='historicalproduct',
            name='history_user',
        ),
        migrations.RemoveField(
            model_name='historicalwarehouse',
            name='history_user',
        ),
        migrations.RemoveField(
            model_name='location',
            name='warehouse',
        ),
        migrations.AlterField(
            model_name='approvedstock',
            name='location',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='catalog.location', verbose_name='location'),
        ),
        migrations.AlterField(
            model_name='countline',
            name='location',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='catalog.location', verbose_name='location'),
        ),
        migrations.AlterField(
            model_name='approvedstock',
            name='product',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='approved_stock', to='catalog.product', verbose_name='product'),
        ),
        migrations.AlterField(
            model_name='countline',
            name='product',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='catalog.product', verbose_name='product'),
        ),
        migrations.AlterField(
            model_name='countsession',
            name='warehouse',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sessions', to='catalog.warehouse', verbose_name='warehouse'),
        ),
        migrations.AlterField(
            model_name='approvedstock',
            name='warehouse',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to='catalog.warehouse', verbose_name='warehouse'),
        ),
        migrations.AlterField(
            model_name='historicalcountsession',
            name='warehouse',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalog.warehouse', verbose_name='warehouse'),
        ),
        migrations.AlterField(
            model_name='countsession',
            name='locations',
            field=models.ManyToManyField(blank=True, help_text='Empty: every location of the warehouse.', related_name='+', to='catalog.location', verbose_name='locations'),
        ),
        migrations.DeleteModel(
            name='HistoricalLocation',
        ),
        migrations.DeleteModel(
            name='HistoricalProduct',
        ),
        migrations.DeleteModel(
            name='HistoricalWarehouse',
        ),
        migrations.DeleteModel(
            name='Location',
        ),
        migrations.DeleteModel(
            name='Product',
        ),
        migrations.DeleteModel(
            name='Warehouse',
        ),
    ])]
