from django.db import migrations


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS manual_orders_number_seq")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS manual_orders_number_seq")


class Migration(migrations.Migration):
    dependencies = [("manual_orders", "0001_initial")]

    operations = [migrations.RunPython(create_sequence, drop_sequence)]
