"""Other apps post to the open incident's timeline through apps.core.timeline.post_to_timeline."""

import pytest
from django.utils import timezone

from apps.core.timeline import post_to_timeline
from apps.incidents.choices import IncidentState
from apps.incidents.models import TimelineEntry

from .factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_another_app_posts_an_event_to_the_open_incidents_timeline(make_user):
    user = make_user("business_support")
    older = IncidentFactory(declared_at=timezone.now() - timezone.timedelta(hours=2))
    current = IncidentFactory()
    IncidentFactory(state=IncidentState.CLOSED)
    recorded = post_to_timeline(
        kind="manual_orders.opened", text="Manual order taking opened", by=user, orders=0
    )
    assert recorded == 1
    (entry,) = TimelineEntry.objects.filter(kind="manual_orders.opened")
    assert entry.incident == current and entry.by == user
    assert entry.text == "Manual order taking opened" and entry.data == {"orders": 0}
    assert not older.timeline.exists()


def test_posting_with_no_open_incident_records_nothing():
    IncidentFactory(state=IncidentState.REVIEWED)
    assert post_to_timeline(kind="inventory.count_approved", text="Count approved") == 0
    assert not TimelineEntry.objects.exists()


def test_entries_come_back_in_the_order_things_happened():
    incident = IncidentFactory()
    for n in range(3):
        post_to_timeline(kind="backup.completed", text=f"backup {n}")
    texts = [e.text for e in incident.timeline.all()]
    assert texts == ["backup 0", "backup 1", "backup 2"]


def test_a_finished_backup_lands_on_the_timeline_through_the_backups_service(
    make_user, settings, tmp_path
):
    """The backups app's own code path (start_backup → perform_backup) posts backup.completed."""
    import sqlite3

    from apps.backups import services as backups
    from apps.backups.models import BackupScope
    from tests.backups.conftest import key_spec

    db = tmp_path / "orders.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO products (name) VALUES ('tea')")
    conn.commit()
    conn.close()
    settings.ORDER_SYSTEM_DATABASE_URL = f"sqlite:///{db}"
    settings.BACKUP_LOCAL_DIR = str(tmp_path / "local")
    settings.BACKUP_REMOTE_DIR = str(tmp_path / "remote")
    settings.STORAGES = {
        **settings.STORAGES,
        "backups_remote": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "remote")},
        },
    }
    settings.BACKUP_MASTER_KEYS = key_spec()
    settings.BACKUP_KEY_FILE = ""
    incident = IncidentFactory()
    run = backups.start_backup(
        scope=BackupScope.objects.get(slug="products"), by=make_user("tech_support")
    )
    run.refresh_from_db()
    assert run.state == "complete", run.error
    entry = incident.timeline.get(kind="backup.completed")
    assert run.file_name in entry.text
