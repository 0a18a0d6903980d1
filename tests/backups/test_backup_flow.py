"""Backups and restores end to end: real PostgreSQL order systems, real workers, real files."""

import shutil
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from apps.backups import engine, events, services
from apps.backups.choices import BackupKind, CopyState, RunState, SystemStatus
from apps.backups.errors import BackupsError
from apps.backups.models import BackupAudit, BackupRun, BackupScope, RestoreRun
from apps.core.choices import JobState
from apps.core.models import JobRecord
from tests.codes import raises_code
from tests.conftest import wait_for

from .conftest import (
    fingerprint,
    key_spec,
    table_rows,
    taking_an_order_after_the_orders_backup,
    worker_env,
)
from .factories import BackupRunFactory

TABLE_SCOPES = ["users", "products", "orders", "transactions"]


def scope(slug):
    return BackupScope.objects.get(slug=slug)


def backup_inline(slug, kind=None) -> BackupRun:
    run = services.start_backup(scope=scope(slug), kind=kind)
    run.refresh_from_db()
    return run


def test_backup_then_restore_into_a_scratch_database_gives_identical_rows(
    rq_worker, settings, order_db, scratch_db
):
    worker_env(rq_worker, settings)
    runs = [services.start_backup(scope=scope(slug)) for slug in TABLE_SCOPES]
    rq_worker.run_burst()
    for run in runs:
        run.refresh_from_db()
        assert run.state == RunState.COMPLETE, run.error
        assert run.remote_state == CopyState.VERIFIED
        assert Path(run.local_path).exists() and len(run.sha256) == 64
        job = JobRecord.objects.get(pk=run.job_id)
        assert (job.state, job.percent) == (JobState.SUCCEEDED, 100)
    orders = BackupRun.objects.get(scope__slug="orders")
    assert orders.file_name.endswith("订单数据实时备份.bak")
    assert {t["name"].split(".")[-1] for t in orders.manifest["tables"]} == {
        "orders",
        "order_items",
    }

    restore = services.start_restore(scopes=[scope(s) for s in TABLE_SCOPES], target="rehearsal")
    rq_worker.run_burst()
    restore.refresh_from_db()
    assert restore.state == RunState.COMPLETE, restore.error
    assert restore.checks_passed
    for table in ("customers", "products", "orders", "order_items", "payments"):
        assert table_rows(scratch_db, table) == table_rows(order_db, table), table
    # A rehearsal does not change the order system's status.
    assert scope("orders").system_status == SystemStatus.UNKNOWN


@pytest.mark.django_db
def test_a_restore_into_the_order_system_updates_the_status_and_reports_checks(order_db):
    run = backup_inline("orders")
    before = fingerprint(order_db)
    with psycopg.connect(order_db) as conn:
        conn.execute("UPDATE order_items SET qty = qty + 1 WHERE id <= 10")
    restore = services.start_restore(scopes=[scope("orders")])
    restore.refresh_from_db()
    assert restore.state == RunState.COMPLETE, restore.error
    assert restore.backups.get() == run
    assert fingerprint(order_db) == before
    assert {c["name_en"] for c in restore.report["checks"]} >= {
        "An order's total equals the sum of its items"
    }
    assert all(c["ok"] for c in restore.report["checks"])
    assert scope("orders").system_status == SystemStatus.RESTORED


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["header", "middle", "end"])
def test_one_flipped_byte_makes_verify_and_restore_refuse(order_db, where):
    run = backup_inline("orders")
    path = Path(run.local_path)
    data = bytearray(path.read_bytes())
    offset = {"header": 20, "middle": len(data) // 2, "end": len(data) - 5}[where]
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    shutil.rmtree(Path(run.local_path).parent.parent / "remote")  # no clean copy to fall back to

    outcome = services.verify_backup(name=run.file_name)
    assert not outcome.ok
    run.refresh_from_db()
    assert run.last_verify_ok is False

    before = fingerprint(order_db)
    restore = services.start_restore(scopes=[scope("orders")], backups={"orders": run})
    restore.refresh_from_db()
    assert restore.state == RunState.FAILED
    assert restore.error
    assert fingerprint(order_db) == before
    assert scope("orders").system_status == SystemStatus.RESTORE_FAILED


@pytest.mark.django_db
def test_a_restore_that_fails_half_way_leaves_the_target_unchanged(order_db):
    backup_inline("orders")
    with psycopg.connect(order_db) as conn:
        # Customer 1 leaves the order system after the backup: the backup's orders still
        # point at it, so re-validating orders -> customers fails after orders and items
        # were already loaded inside the restore's transaction.
        conn.execute(
            "DELETE FROM payments WHERE order_id IN (SELECT id FROM orders WHERE customer_id = 1)"
        )
        conn.execute(
            "DELETE FROM order_items WHERE order_id IN (SELECT id FROM orders WHERE customer_id = 1)"
        )
        conn.execute("DELETE FROM orders WHERE customer_id = 1")
        conn.execute("DELETE FROM customers WHERE id = 1")
        conn.execute("UPDATE orders SET status = 'changed-after-backup' WHERE id = 2")
    before = fingerprint(order_db)
    restore = services.start_restore(scopes=[scope("orders")])
    restore.refresh_from_db()
    assert restore.state == RunState.FAILED
    assert fingerprint(order_db) == before


@pytest.mark.django_db
def test_a_multi_scope_restore_is_all_or_nothing_across_scopes(order_db):
    backup_inline("users")
    orders = backup_inline("orders")
    path = Path(orders.local_path)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01  # the orders file fails only at its very end, after users were loaded
    path.write_bytes(bytes(data))
    BackupRun.objects.filter(pk=orders.pk).update(sha256="")
    with psycopg.connect(order_db) as conn:
        conn.execute("UPDATE customers SET name = 'changed after the backup' WHERE id = 1")
    before = fingerprint(order_db)
    restore = services.start_restore(
        scopes=[scope("users"), scope("orders")], backups={"orders": orders}
    )
    restore.refresh_from_db()
    assert restore.state == RunState.FAILED
    assert fingerprint(order_db) == before


def test_a_worker_killed_mid_backup_leaves_no_complete_looking_artifact(
    rq_worker, settings, order_db
):
    worker_env(rq_worker, settings)
    # Read the order system slowly (a production setting) so the kill lands mid-backup.
    rq_worker.env["BACKUP_MAX_RATE"] = "5000"
    settings.JOB_STALE_AFTER_SECONDS = 3
    run = services.start_backup(scope=scope("orders"))
    rq_worker.start()
    local = Path(settings.BACKUP_LOCAL_DIR)
    wait_for(
        lambda: (
            list(local.glob(".*.partial")) and JobRecord.objects.get(pk=run.job_id).percent >= 1
        ),
        timeout=60,
        message="the backup never got under way",
    )
    rq_worker.kill()
    run.refresh_from_db()
    assert run.state == RunState.RUNNING
    # The file being written has a hidden temporary name; nothing carries the final name.
    assert not (local / run.file_name).exists()
    assert [p.name for p in local.iterdir() if not p.name.startswith(".")] == []
    wait_for(
        lambda: (
            services.refresh_run_state(BackupRun.objects.get(pk=run.pk)).state == RunState.FAILED
        ),
        timeout=30,
        interval=0.5,
        message="the run stayed running",
    )
    run.refresh_from_db()
    assert run.error
    assert JobRecord.objects.get(pk=run.job_id).state == JobState.FAILED
    assert services.propose_restore(scope=scope("orders")).backup is None


@pytest.mark.django_db
def test_the_proposal_prefers_realtime_and_falls_back_to_daily():
    orders = scope("orders")
    daily = BackupRunFactory(scope=orders, kind=BackupKind.DAILY)
    proposal = services.propose_restore(scope=orders)
    assert proposal.backup == daily and proposal.why.kind == events.REASON_DAILY
    old_rt = BackupRunFactory(scope=orders, kind=BackupKind.REALTIME)
    BackupRunFactory(scope=orders, kind=BackupKind.REALTIME, state=RunState.FAILED)
    assert services.propose_restore(scope=orders).backup == old_rt
    new_rt = BackupRunFactory(scope=orders, kind=BackupKind.REALTIME)
    assert services.propose_restore(scope=orders).backup == new_rt
    BackupRun.objects.filter(pk=new_rt.pk).update(last_verify_ok=False)
    assert services.propose_restore(scope=orders).backup == old_rt
    BackupRun.objects.filter(kind=BackupKind.REALTIME).update(last_verify_ok=False)
    proposal = services.propose_restore(scope=orders)
    assert proposal.backup == daily and proposal.why.kind == events.REASON_DAILY
    with translation.override("en"):
        assert "falling back to the newest daily backup" in proposal.reason


@pytest.mark.django_db
def test_two_backups_on_one_day_get_distinct_plan_names(order_db, settings):
    first, second = backup_inline("transactions"), backup_inline("transactions")
    assert first.file_name.endswith("交易数据实时备份.bak")
    assert second.file_name == first.file_name.replace(".bak", "-2.bak")
    settings.BACKUP_NAME_STYLE = "ascii"
    third = backup_inline("transactions", kind=BackupKind.DAILY)
    assert third.file_name.endswith("-transactions-daily.bak")


@pytest.mark.django_db
def test_a_wrong_master_key_is_named_as_the_reason(order_db, settings):
    run = backup_inline("users")
    settings.BACKUP_MASTER_KEYS = key_spec("test-k1")  # same id, different key
    outcome = services.verify_backup(name=run.file_name)
    assert not outcome.ok and outcome.code == BackupsError.WRONG_KEY


@pytest.mark.django_db
def test_a_rotated_master_key_keeps_older_backups_restorable(order_db, settings):
    old = backup_inline("products")
    settings.BACKUP_MASTER_KEYS = f"{key_spec('test-k2')},{settings.BACKUP_MASTER_KEYS}"
    new = backup_inline("products")
    assert (old.key_id, new.key_id) == ("test-k1", "test-k2")
    assert services.verify_backup(name=old.file_name).ok
    assert services.verify_backup(name=new.file_name).ok


@pytest.mark.django_db
def test_a_missing_local_file_is_fetched_back_from_the_remote_store(order_db):
    run = backup_inline("users")
    Path(run.local_path).unlink()
    assert services.verify_backup(name=run.file_name).ok
    assert Path(run.local_path).exists()


@pytest.mark.django_db
def test_a_file_missing_on_both_stores_is_reported_clearly(order_db, settings):
    run = backup_inline("users")
    Path(run.local_path).unlink()
    shutil.rmtree(settings.BACKUP_REMOTE_DIR)
    with translation.override("zh-hans"):
        outcome = services.verify_backup(name=run.file_name)
    assert not outcome.ok and outcome.code == BackupsError.BACKUP_MISSING
    assert "本地和远程" in outcome.message


@pytest.mark.django_db
def test_a_remote_store_that_is_down_fails_the_backup_with_its_reason(order_db, settings, tmp_path):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the remote directory should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "backups_remote": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocked)},
        },
    }
    run = backup_inline("users")
    assert run.state == RunState.FAILED
    # Jobs report in the language of whoever started them (here: the site default, Chinese).
    assert "远程备份存储出错" in run.error


@pytest.mark.django_db
def test_an_unreachable_order_system_fails_the_backup_and_leaves_no_file(settings):
    settings.ORDER_SYSTEM_DATABASE_URL = "postgresql://postgres@127.0.0.1:1/nowhere"
    run = backup_inline("orders")
    assert run.state == RunState.FAILED and run.error
    assert not any(Path(settings.BACKUP_LOCAL_DIR).glob("*.bak"))


@pytest.mark.django_db
def test_log_files_are_backed_up_and_verified(order_db, settings):
    run = backup_inline("logs")
    assert run.state == RunState.COMPLETE, run.error
    assert len(run.manifest["files"]) == 2
    assert services.verify_backup(name=run.file_name).ok


@pytest.mark.django_db
def test_backup_now_waits_and_prints_the_artifact_path_last(order_db, capsys):
    call_command("backup_now", "--scope", "products", "--wait")
    out = capsys.readouterr().out.strip().splitlines()
    run = BackupRun.objects.get()
    assert out[-1] == run.local_path
    call_command("verify_backup", run.file_name)
    Path(run.local_path).write_bytes(b"garbage")
    with pytest.raises(CommandError):
        call_command("verify_backup", "--file", run.local_path)


@pytest.mark.django_db
def test_backup_now_exits_non_zero_when_the_backup_fails(settings):
    settings.ORDER_SYSTEM_DATABASE_URL = "postgresql://postgres@127.0.0.1:1/nowhere"
    with pytest.raises(CommandError):
        call_command("backup_now", "--scope", "orders", "--wait")


@pytest.mark.django_db
def test_restore_backup_command_restores_into_a_target_url(order_db, scratch_db, capsys):
    for slug in TABLE_SCOPES:
        backup_inline(slug)
    for slug in TABLE_SCOPES:
        call_command("restore_backup", "--scope", slug, "--target-url", scratch_db, "--yes")
    assert table_rows(scratch_db, "orders") == table_rows(order_db, "orders")
    assert RestoreRun.objects.filter(state=RunState.COMPLETE).count() == len(TABLE_SCOPES)


@pytest.mark.django_db
def test_downloads_are_audited(client, make_user, order_db):
    from apps.accounts.roles import Role

    run = backup_inline("users")
    user = make_user(Role.TECH_SUPPORT)
    client.force_login(user)
    response = client.get(f"/backups/{run.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == Path(run.local_path).read_bytes()
    assert BackupAudit.objects.get(backup=run).by == user


@pytest.mark.django_db
def test_scopes_due_together_are_read_at_one_moment_and_restore_together(order_db, monkeypatch):
    """The scheduler's backups of the order system's scopes run in one job that holds one
    moment: an order and its payment committed between the orders and the transactions
    backup are in neither, so the two restore together (the foreign key check passes)."""
    from apps.backups.services import backup as backup_service
    from tests.conftest import create_database, drop_database

    monkeypatch.setattr(
        backup_service,
        "perform_backup",
        taking_an_order_after_the_orders_backup(order_db, backup_service.perform_backup),
    )

    runs = {r.scope.slug: r for r in services.start_due_backups()}

    for run in runs.values():
        run.refresh_from_db()
    assert all(r.state == RunState.COMPLETE for r in runs.values())
    database_scopes = [r for slug, r in runs.items() if slug != "logs"]
    assert len({r.job_id for r in database_scopes}) == 1 != len({r.job_id for r in runs.values()})
    assert len({r.manifest["source"]["txid_snapshot"] for r in database_scopes}) == 1
    name, url = create_database("test_together")
    try:
        reports = engine.restore_files(
            [runs["orders"].local_path, runs["transactions"].local_path],
            target_url=url,
            keyring=services.get_keyring(),
        )
        assert all(r.ok for r in reports)
    finally:
        drop_database(name)


@pytest.mark.django_db
def test_policies_start_backups_when_their_interval_has_passed(order_db):
    from datetime import timedelta

    from django.utils import timezone

    first = services.start_due_backups()
    assert sorted(r.scope.slug for r in first) == sorted(
        ["orders", "transactions", "users", "products", "logs"]
    )
    assert all(r.state == RunState.COMPLETE for r in BackupRun.objects.all())
    assert services.start_due_backups() == []
    later = timezone.now() + timedelta(minutes=16)
    assert sorted(p.scope.slug for p in services.due_policies(now=later)) == [
        "orders",
        "transactions",
    ]


@pytest.mark.django_db
def test_a_file_whose_sha256_differs_from_the_record_is_not_restored(order_db):
    run = backup_inline("orders")
    BackupRun.objects.filter(pk=run.pk).update(sha256="0" * 64)
    with psycopg.connect(order_db) as conn:
        conn.execute("UPDATE orders SET status = 'changed since the backup' WHERE id = 3")
    before = fingerprint(order_db)
    restore = services.start_restore(scopes=[scope("orders")])
    restore.refresh_from_db()
    assert restore.state == RunState.FAILED
    assert fingerprint(order_db) == before


@pytest.mark.django_db
def test_a_missing_master_key_does_not_mark_a_good_backup_damaged(order_db, settings):
    run = backup_inline("users")
    keys = settings.BACKUP_MASTER_KEYS
    settings.BACKUP_MASTER_KEYS = key_spec("some-other-kid")
    outcome = services.verify_backup(name=run.file_name)
    assert not outcome.ok
    run.refresh_from_db()
    assert run.last_verify_ok is True
    # Not proposed while its key is missing here (and the reason says so), but not damaged:
    assert services.propose_restore(scope=scope("users")).backup is None
    settings.BACKUP_MASTER_KEYS = keys
    assert services.propose_restore(scope=scope("users")).backup == run


@pytest.mark.django_db
def test_a_second_restore_of_a_scope_under_way_is_refused(order_db):
    run = backup_inline("orders")
    RestoreRun.objects.create(target_label="x", state=RunState.RUNNING).backups.add(run)
    with raises_code(BackupsError.RESTORE_UNDER_WAY):
        services.start_restore(scopes=[scope("orders")])


@pytest.mark.django_db
def test_restore_backup_refuses_a_backup_of_another_scope(order_db):
    run = backup_inline("users")
    with pytest.raises(CommandError):
        call_command("restore_backup", "--scope", "orders", "--backup", run.file_name, "--yes")
