"""The content types (and with them the permissions, role groups and admin history) of the moved
models follow them to ``catalog``: ``inventory_counts.view_product`` becomes
``catalog.view_product`` and every group or user that held it still does."""

from django.db import migrations

MODELS = ["product", "warehouse", "location", "historicalproduct", "historicalwarehouse", "historicallocation"]


def _move(apps, schema_editor, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    LogEntry = apps.get_model("admin", "LogEntry")
    db = schema_editor.connection.alias
    for model in MODELS:
        old = ContentType.objects.using(db).filter(app_label=source, model=model).first()
        if old is None:
            continue
        new = ContentType.objects.using(db).filter(app_label=target, model=model).first()
        if new is None:
            old.app_label = target
            old.save(update_fields=["app_label"])
            continue
        # Both exist (permissions were made for the new label already): merge into the new one.
        for perm in Permission.objects.using(db).filter(content_type=old):
            twin = Permission.objects.using(db).filter(content_type=new, codename=perm.codename).first()
            if twin is None:
                perm.content_type = new
                perm.save(update_fields=["content_type"])
            else:
                twin.group_set.add(*perm.group_set.all())
                twin.user_set.add(*perm.user_set.all())
                perm.delete()
        LogEntry.objects.using(db).filter(content_type=old).update(content_type=new)
        old.delete()


def forwards(apps, schema_editor):
    _move(apps, schema_editor, "inventory_counts", "catalog")


def backwards(apps, schema_editor):
    _move(apps, schema_editor, "catalog", "inventory_counts")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_tables_named_after_their_owner"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
