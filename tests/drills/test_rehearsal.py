"""Restore rehearsals: the latest backups into a scratch database through a real worker, timed."""

from datetime import timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apps.accounts.roles import Role
from apps.backups import services as backups
from apps.backups.models import BackupScope, RestoreRun
from apps.core.choices import JobState
from apps.core.errors import DomainError
from apps.core.models import JobRecord, Notification
from apps.drills import services
from apps.drills.choices import RehearsalState
from apps.drills.errors import DrillsError
from apps.drills.models import RestoreRehearsal
from apps.incidents.models import TimelineEntry
from tests.backups.conftest import worker_env
from tests.backups.factories import BackupRunFactory
from tests.conftest import pg_server_url
from tests.incidents.factories import IncidentFactory

from .factories import RestoreRehearsalFactory

ALL_SCOPES = ["users", "products", "orders", "transactions", "logs"]


def _database_exists(url: str) -> bool:
    name = url.rsplit("/", 1)[-1]
    with psycopg.connect(pg_server_url("postgres"), autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            is not None
        )


def _backup_everything():
    for slug in ALL_SCOPES:
        backups.start_backup(scope=BackupScope.objects.get(slug=slug))


def test_a_rehearsal_through_a_real_worker_records_rto_rpo_and_drops_the_scratch_database(
    rq_worker, settings, order_db, scratch_db, tmp_path, make_user
):
    worker_env(rq_worker, settings)
    rq_worker.env["VAR_DIR"] = str(tmp_path / "var")
    _backup_everything()
    rq_worker.run_burst()
    tech = make_user(Role.TECH_SUPPORT)

    rehearsal = services.start_rehearsal(by=tech, target="rehearsal")
    assert rehearsal.state == RehearsalState.QUEUED and rehearsal.job_id
    rq_worker.run_burst()
    rehearsal.refresh_from_db()

    assert rehearsal.state == RehearsalState.PASSED, (rehearsal.error, rehearsal.scopes)
    order = [row["scope"] for row in rehearsal.scopes]
    assert set(order) == set(ALL_SCOPES)
    # Foreign keys: customers and products before orders, orders before payments.
    assert order.index("orders") > max(order.index("users"), order.index("products"))
    assert order.index("transactions") > order.index("orders")
    for row in rehearsal.scopes:
        assert row["ok"] and row["rto_seconds"] > 0 and row["rpo_seconds"] >= 0
        restore = RestoreRun.objects.get(pk=row["restore_id"])
        assert not restore.into_order_system and restore.checks_passed is not False
    assert rehearsal.rto_seconds >= sum(r["rto_seconds"] for r in rehearsal.scopes) * 0.99
    assert rehearsal.rpo_seconds == max(r["rpo_seconds"] for r in rehearsal.scopes)
    assert rehearsal.scratch_dropped and not _database_exists(scratch_db)
    assert JobRecord.objects.get(pk=rehearsal.job_id).state == JobState.SUCCEEDED


def test_a_rehearsal_refuses_the_order_systems_own_database_loudly(settings, order_db, db):
    before = RestoreRehearsal.objects.count()
    for target in (order_db, settings.ORDER_SYSTEM_DATABASE_URL):
        with pytest.raises(DomainError) as exc:
            services.start_rehearsal(by=None, target=target)
        assert exc.value.code == DrillsError.NOT_SCRATCH
    settings.BACKUP_SCRATCH_TARGETS = {"looks-harmless": order_db}
    with pytest.raises(DomainError) as exc:
        services.start_rehearsal(by=None, target="looks-harmless")
    assert exc.value.code == DrillsError.NOT_SCRATCH
    assert RestoreRehearsal.objects.count() == before
    with pytest.raises(CommandError, match="not a scratch database|不是临时数据库"):
        call_command("rehearse_restore", "--target", order_db)


def test_a_rehearsal_refuses_the_sites_own_database_and_unknown_targets(db, settings, scratch_db):
    from django.db import connection

    own = pg_server_url(connection.settings_dict["NAME"])
    with pytest.raises(DomainError) as exc:
        services.start_rehearsal(by=None, target=own)
    assert exc.value.code == DrillsError.NOT_SCRATCH
    with pytest.raises(DomainError) as exc:
        services.start_rehearsal(by=None, target="nowhere")
    assert exc.value.code == DrillsError.UNKNOWN_TARGET
    settings.BACKUP_SCRATCH_TARGETS = {}
    with pytest.raises(DomainError) as exc:
        services.start_rehearsal(by=None)
    assert exc.value.code == DrillsError.NO_SCRATCH_TARGET


@pytest.mark.django_db
def test_the_command_prints_one_line_per_scope_and_rto_and_rpo(order_db, scratch_db, capsys):
    for slug in ("users", "products", "orders"):
        backups.start_backup(scope=BackupScope.objects.get(slug=slug))
    call_command("rehearse_restore", "--scope", "orders", "--scope", "users", "--scope", "products")
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["users", "products", "orders"]
    assert all(" RTO " in line and " RPO " in line and line.endswith("ok") for line in lines[:3])
    last = lines[-1].split()
    assert last[0] == "RTO" and last[2] == "s" and last[3] == "RPO" and last[5] == "s"
    assert float(last[1]) > 0
    rehearsal = RestoreRehearsal.objects.get()
    assert rehearsal.state == RehearsalState.PASSED and not _database_exists(scratch_db)


@pytest.mark.django_db
def test_a_failed_rehearsal_alarms_tech_support_and_posts_to_the_timeline(
    order_db, scratch_db, make_user
):
    tech = make_user(Role.TECH_SUPPORT, language="en")
    make_user(Role.WAREHOUSE_CLERK)
    incident = IncidentFactory()
    # No backup of any scope exists: nothing can be rehearsed.
    rehearsal = services.start_rehearsal(by=None, target="rehearsal")
    assert rehearsal.state == RehearsalState.FAILED
    assert "No intact backup" in rehearsal.error or "备份" in rehearsal.error
    alarms = Notification.objects.filter(recipient=tech)
    assert {n.channel for n in alarms} == {"email", "sms"}
    assert "FAILED" in alarms.get(channel="email").subject
    assert not Notification.objects.exclude(recipient=tech).exists()
    assert TimelineEntry.objects.filter(incident=incident, kind="drills.rehearsal.failed").exists()
    assert JobRecord.objects.get(pk=rehearsal.job_id).state == JobState.FAILED
    assert rehearsal.scratch_dropped and not _database_exists(scratch_db)


@pytest.mark.django_db
def test_the_restore_order_follows_the_backups_foreign_keys():
    scopes = list(
        BackupScope.objects.filter(slug__in=["transactions", "orders", "users", "products"])
    )
    manifests = {
        "orders": {"tables": [{"name": "orders", "references": ["customers", "products"]}]},
        "transactions": {"tables": [{"name": "payments", "references": ["orders"]}]},
        "users": {"tables": [{"name": "customers"}]},
        "products": {"tables": [{"name": "products"}]},
    }
    runs = {slug: BackupRunFactory.build(manifest=m) for slug, m in manifests.items()}
    reversed_positions = sorted(scopes, key=lambda s: -s.position)
    ordered = [s.slug for s in services.restore_order(runs, reversed_positions)]
    assert ordered.index("orders") > ordered.index("users")
    assert ordered.index("orders") > ordered.index("products")
    assert ordered.index("transactions") > ordered.index("orders")


@pytest.mark.django_db
def test_the_periodic_rehearsal_starts_once_per_interval(settings, order_db, scratch_db):
    settings.DRILLS_REHEARSAL_EVERY_HOURS = 24
    first = services.rehearse_if_due()
    assert first is not None and first.started_by is None
    assert services.rehearse_if_due() is None  # the second call finds the first
    RestoreRehearsal.objects.update(created_at=timezone.now() - timedelta(hours=25))
    call_command("rehearse_if_due")
    assert RestoreRehearsal.objects.count() == 2


def test_the_schedules_and_their_commands_are_registered():
    from apps.core.schedules import get_schedule

    assert get_schedule("drills.rehearse_restore").task == "apps.drills.services.rehearse_if_due"
    assert get_schedule("drills.certificate_reminders").task.endswith("run_expiry_reminders")


@pytest.mark.django_db
def test_the_readiness_backup_item_needs_a_passing_rehearsal_within_the_set_age(settings):
    from apps.drills.readiness import restore_rehearsal_finding

    settings.DRILLS_REHEARSAL_MAX_AGE_HOURS = 48
    assert not restore_rehearsal_finding().ok
    RestoreRehearsalFactory(state=RehearsalState.FAILED)
    assert not restore_rehearsal_finding().ok
    old = RestoreRehearsalFactory(finished_at=timezone.now() - timedelta(hours=49))
    assert not restore_rehearsal_finding().ok
    old.finished_at = timezone.now() - timedelta(hours=47)
    old.save()
    assert restore_rehearsal_finding().ok


@pytest.mark.django_db
def test_the_rehearsal_page_shows_the_rto_rpo_trend_as_a_server_side_svg(client, make_user):
    for n in range(3):
        RestoreRehearsalFactory(rto_seconds=60 * (n + 1), rpo_seconds=120)
    client.force_login(make_user(Role.TECH_SUPPORT))
    html = client.get("/drills/rehearsals/").content.decode()
    assert "<svg" in html and "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert html.count("#") >= 3


@pytest.mark.django_db
def test_the_worker_refuses_a_target_that_stopped_being_a_scratch_database(
    settings, order_db, make_user
):
    from apps.core.errors import JobFailure
    from apps.core.jobs import Progress
    from tests.backups.conftest import fingerprint

    backups.start_backup(scope=BackupScope.objects.get(slug="users"))
    make_user(Role.TECH_SUPPORT)
    queued = RestoreRehearsal.objects.create(target="rehearsal")
    job = JobRecord.objects.create(kind="rehearsal", title="t")
    # Between queueing and running, the configuration was pointed at the order system.
    settings.BACKUP_SCRATCH_TARGETS = {"rehearsal": order_db}
    before = fingerprint(order_db)
    with pytest.raises(JobFailure):
        services.perform_rehearsal(rehearsal_id=queued.pk, progress=Progress(job.pk))
    queued.refresh_from_db()
    assert queued.state == RehearsalState.FAILED and queued.error_code == DrillsError.NOT_SCRATCH
    assert not RestoreRun.objects.exists()
    assert fingerprint(order_db) == before and _database_exists(order_db)
    assert Notification.objects.filter(channel="email").exists()
