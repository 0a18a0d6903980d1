"""Drills' improvement actions move into the evaluations' single table (10.2), then the drills'
own table goes.

Every row is copied with its owner, due date, state, creator and creation time; the drill run
becomes the action's finding (generic link) and the category is "drills". The title is the
description's first line (the board shows titles). A row without a recorded creator gets its
owner as creator (the evaluations' column requires one). Each copy gets a history entry saying
where it came from. Reversible: going back copies the drill actions into drills' table again.
"""

from django.db import migrations
from django.utils import timezone

TITLE_LENGTH = 200
REASON = "copied from drills"


def _title(description):
    lines = description.strip().splitlines() or [""]
    first = lines[0].strip()
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1] + "…"


def _drill_run_type(apps, db):
    ContentType = apps.get_model("contenttypes", "ContentType")
    return ContentType.objects.using(db).get_or_create(app_label="drills", model="drillrun")[0]


def copy_to_evaluations(apps, schema_editor):
    db = schema_editor.connection.alias
    Old = apps.get_model("drills", "ImprovementAction")
    New = apps.get_model("evaluations", "ImprovementAction")
    History = apps.get_model("evaluations", "HistoricalImprovementAction")
    old_rows = list(Old.objects.using(db).order_by("pk"))
    if not old_rows:
        return
    run_type = _drill_run_type(apps, db)
    now = timezone.now()
    for old in old_rows:
        new = New.objects.using(db).create(
            title=_title(old.description),
            description=old.description,
            category="drills",
            owner_id=old.owner_id,
            due=old.due_on,
            state=old.state,  # "open" and "done" exist in both
            source_type=run_type,
            source_id=old.run_id,
            created_by_id=old.created_by_id or old.owner_id,
            created_at=old.created_at,
            done_at=now if old.state == "done" else None,
        )
        History.objects.using(db).create(
            id=new.pk,
            title=new.title,
            description=new.description,
            category=new.category,
            due=new.due,
            state=new.state,
            source_id=new.source_id,
            source_type_id=new.source_type_id,
            finding=new.finding,
            created_at=new.created_at,
            done_at=new.done_at,
            version=new.version,
            owner_id=new.owner_id,
            created_by_id=new.created_by_id,
            history_date=now,
            history_type="+",
            history_change_reason=REASON,
            history_user_id=None,
        )


def copy_back_to_drills(apps, schema_editor):
    db = schema_editor.connection.alias
    Old = apps.get_model("drills", "ImprovementAction")
    New = apps.get_model("evaluations", "ImprovementAction")
    run_type = _drill_run_type(apps, db)
    rows = New.objects.using(db).filter(category="drills", source_type=run_type)
    for new in rows.order_by("pk"):
        Old.objects.using(db).create(
            run_id=new.source_id,
            description=new.description or new.title,
            owner_id=new.owner_id,
            due_on=new.due,
            state="done" if new.state == "done" else "open",
            created_by_id=new.created_by_id,
        )
    rows.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("drills", "0002_default_courses"),
        ("evaluations", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_to_evaluations, copy_back_to_drills),
        migrations.RemoveField(model_name="improvementaction", name="created_by"),
        migrations.RemoveField(model_name="improvementaction", name="owner"),
        migrations.RemoveField(model_name="improvementaction", name="run"),
        migrations.DeleteModel(name="HistoricalImprovementAction"),
        migrations.DeleteModel(name="ImprovementAction"),
    ]
