"""The catalogue takes over products, warehouses and bins from inventory_counts, rows and all.

Nothing is copied: the models (and their django-simple-history tables) join this app's state
pointing at the tables inventory_counts made (``db_table``), inventory_counts 0003 and
manual_orders 0005 re-point their foreign keys in state only, and catalog 0002 then renames the
tables to ``catalog_*``. A rename keeps every row, primary key, sequence and foreign key (PostgreSQL
foreign keys follow a renamed table), and leaves the tables named after their owner, so nobody
later reads ``inventory_counts_product`` as counts' own; a permanent ``db_table`` would have
kept the misleading name for ever.
"""

import django.db.models.deletion
import simple_history.models
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('inventory_counts', '0002_unit_of_measure_approval_note'),
    ]

    # State only: the tables exist already (made by inventory_counts 0001); catalog takes them
    # over under their old names here, and 0002 renames them.
    operations = [migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
        migrations.CreateModel(
            name='Product',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sku', models.CharField(max_length=64, unique=True, verbose_name='SKU')),
                ('barcode', models.CharField(blank=True, db_index=True, max_length=64, verbose_name='barcode')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('category', models.CharField(blank=True, db_index=True, max_length=80, verbose_name='category')),
                ('unit', models.CharField(default='pcs', max_length=20, verbose_name='unit')),
                ('unit_of_measure', models.CharField(choices=[('piece', 'Piece (whole numbers)'), ('weight', 'Weight'), ('length', 'Length')], default='piece', help_text='Pieces are counted in whole numbers; weights and lengths may have decimals.', max_length=10, verbose_name='unit of measure')),
                ('unit_cost', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=12, verbose_name='unit cost')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
            ],
            options={
                'db_table': 'inventory_counts_product',
                'verbose_name': 'product',
                'verbose_name_plural': 'products',
                'ordering': ['sku'],
            },
        ),
        migrations.CreateModel(
            name='Warehouse',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=30, unique=True, verbose_name='code')),
                ('name', models.CharField(max_length=120, verbose_name='name')),
            ],
            options={
                'db_table': 'inventory_counts_warehouse',
                'verbose_name': 'warehouse',
                'verbose_name_plural': 'warehouses',
                'ordering': ['code'],
            },
        ),
        migrations.CreateModel(
            name='HistoricalProduct',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('sku', models.CharField(db_index=True, max_length=64, verbose_name='SKU')),
                ('barcode', models.CharField(blank=True, db_index=True, max_length=64, verbose_name='barcode')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('category', models.CharField(blank=True, db_index=True, max_length=80, verbose_name='category')),
                ('unit', models.CharField(default='pcs', max_length=20, verbose_name='unit')),
                ('unit_of_measure', models.CharField(choices=[('piece', 'Piece (whole numbers)'), ('weight', 'Weight'), ('length', 'Length')], default='piece', help_text='Pieces are counted in whole numbers; weights and lengths may have decimals.', max_length=10, verbose_name='unit of measure')),
                ('unit_cost', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=12, verbose_name='unit cost')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'inventory_counts_historicalproduct',
                'verbose_name': 'historical product',
                'verbose_name_plural': 'historical products',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalWarehouse',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('code', models.CharField(db_index=True, max_length=30, verbose_name='code')),
                ('name', models.CharField(max_length=120, verbose_name='name')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'inventory_counts_historicalwarehouse',
                'verbose_name': 'historical warehouse',
                'verbose_name_plural': 'historical warehouses',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalLocation',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('code', models.CharField(max_length=40, verbose_name='code')),
                ('barcode', models.CharField(blank=True, max_length=64, verbose_name='barcode')),
                ('name', models.CharField(blank=True, max_length=120, verbose_name='name')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('warehouse', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalog.warehouse', verbose_name='warehouse')),
            ],
            options={
                'db_table': 'inventory_counts_historicallocation',
                'verbose_name': 'historical location',
                'verbose_name_plural': 'historical locations',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='Location',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.CharField(max_length=40, verbose_name='code')),
                ('barcode', models.CharField(blank=True, max_length=64, verbose_name='barcode')),
                ('name', models.CharField(blank=True, max_length=120, verbose_name='name')),
                ('warehouse', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='locations', to='catalog.warehouse', verbose_name='warehouse')),
            ],
            options={
                'db_table': 'inventory_counts_location',
                'verbose_name': 'location',
                'verbose_name_plural': 'locations',
                'ordering': ['warehouse', 'code'],
                'constraints': [models.UniqueConstraint(fields=('warehouse', 'code'), name='inv_location_code_unique'), models.UniqueConstraint(condition=models.Q(('barcode', ''), _negated=True), fields=('warehouse', 'barcode'), name='inv_location_barcode_unique')],
            },
        ),
    ])]
