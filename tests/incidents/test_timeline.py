"""Other apps post to the open incident's timeline through apps.core.timeline.post_to_timeline."""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from apps.accounts.roles import Role
from apps.core.timeline import post_to_timeline
from apps.incidents import services as incident_services
from apps.incidents.choices import IncidentState, TeamRole
from apps.incidents.models import Incident, TimelineEntry

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
    assert entry.text == "Manual order taking opened" and entry.params == {"orders": 0}
    assert entry.message == "Manual order taking opened"  # an unregistered kind shows its text
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
    assert run.file_name in entry.message


def _timeline(client, incident, language: str) -> str:
    url = reverse("incidents:incident-detail", args=[incident.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    return page.split('data-testid="timeline"', 1)[1].split("</ul>", 1)[0]


def test_a_timeline_entry_written_in_english_reads_in_chinese_and_the_other_way_round(
    client, make_user
):
    lead = make_user(Role.EMERGENCY_LEAD)
    incident = IncidentFactory()
    client.force_login(lead)
    # Written by someone working in English …
    client.post(
        reverse("incidents:team-assign", args=[incident.pk]),
        {"team_role": TeamRole.LEADER, "user": lead.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    # … and by someone working in Chinese.
    member = incident.team.get()
    client.post(
        reverse("incidents:team-acknowledge", args=[incident.pk, member.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    client.post(
        reverse("incidents:incident-transition", args=[incident.pk]),
        {"to": IncidentState.TEAM_ASSEMBLED, "version": incident.version, "at": ""},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    chinese = _timeline(client, incident, "zh-hans")
    assert f"{lead} 以组长身份加入小组。" in chinese
    assert f"{lead} 已确认担任组长。" in chinese
    assert "状态：已宣布 → 小组已集结。" in chinese
    assert "joined" not in chinese and "acknowledged" not in chinese
    english = _timeline(client, incident, "en")
    assert f"{lead} joined the team as Leader." in english
    assert f"{lead} acknowledged the assignment as Leader." in english
    assert "State: Declared → Team assembled." in english
    assert "组长" not in english


def test_an_event_from_another_app_is_rendered_in_the_readers_language(client, make_user):
    incident = IncidentFactory()
    with translation.override("en"):
        post_to_timeline(kind="manual_orders.hand_back", pushed=3, conflicts=1)
    client.force_login(make_user(Role.EMERGENCY_LEAD))
    assert "手工订单已回传" in _timeline(client, incident, "zh-hans")
    assert "Manual orders handed back: 3 pushed, 1 in conflict." in _timeline(
        client, incident, "en"
    )


def test_old_entries_with_only_text_still_display(client, make_user):
    incident = IncidentFactory()
    TimelineEntry.objects.create(incident=incident, kind="task", text="Task added: Call DBA.")
    # A registered kind whose parameters are missing falls back to the stored text too.
    TimelineEntry.objects.create(incident=incident, kind="incident.state", text="State: old.")
    TimelineEntry.objects.create(incident=incident, kind="gone.kind", text="An old line.")
    client.force_login(make_user(Role.EMERGENCY_LEAD))
    for language, badge in (("en", "Task"), ("zh-hans", "任务")):
        timeline = _timeline(client, incident, language)
        assert "Task added: Call DBA." in timeline and f">{badge}</span>" in timeline
        assert "State: old." in timeline and "An old line." in timeline


@pytest.mark.django_db(transaction=True)
def test_a_failing_timeline_receiver_never_aborts_the_callers_transaction(make_user, monkeypatch):
    """The receiver writes in a savepoint: an IntegrityError there leaves the caller's work."""
    incident = IncidentFactory()
    first = incident_services.post_event(incident=incident, kind="note", text="first")

    def duplicate_row(**kwargs):
        return TimelineEntry.objects.create(pk=first.pk, incident=incident, kind="note")

    # The receiver calls the timeline module's own post_event (services is a package now).
    from apps.incidents.services import timeline as timeline_services

    monkeypatch.setattr(timeline_services, "post_event", duplicate_row)
    with transaction.atomic():
        user = make_user("business_support")  # the caller's own work, before and after
        assert post_to_timeline(kind="note", text="x", by=user) == 0
        Incident.objects.filter(pk=incident.pk).update(title="still writable")
    assert get_user_model().objects.filter(pk=user.pk).exists()
    incident.refresh_from_db()
    assert incident.title == "still writable"
    assert list(incident.timeline.values_list("text", flat=True)) == ["first"]
