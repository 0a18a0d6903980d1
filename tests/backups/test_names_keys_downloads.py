"""Backups are named, not located by path; keys and copies are checked before they are used."""

import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone, translation

from apps.accounts.roles import Role
from apps.backups import events, services
from apps.backups.choices import BackupKind, RunState
from apps.backups.errors import BackupsError
from apps.backups.models import BackupAudit, BackupRun, BackupScope, RestoreRun
from apps.core.choices import JobState
from apps.core.models import JobRecord

from .factories import BackupRunFactory


def scope(slug):
    return BackupScope.objects.get(slug=slug)


def backup_inline(slug) -> BackupRun:
    run = services.start_backup(scope=scope(slug))
    run.refresh_from_db()
    assert run.state == RunState.COMPLETE, run.error
    return run


@pytest.mark.django_db
def test_restore_backup_refuses_a_path_even_when_its_file_name_matches_a_backup(order_db, tmp_path):
    run = backup_inline("users")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(run.local_path, elsewhere / run.file_name)
    for given in (
        f"../../../../{elsewhere}/{run.file_name}",
        str(elsewhere / run.file_name),
        f"./{run.file_name}",
        "..",
    ):
        with pytest.raises(CommandError) as refused:
            call_command("restore_backup", "--scope", "users", "--backup", given, "--yes")
        assert refused.value.__cause__.code == BackupsError.NOT_A_BACKUP_NAME
    assert not RestoreRun.objects.exists()


@pytest.mark.django_db
def test_verify_backup_takes_a_name_and_reads_other_files_only_with_file(order_db, tmp_path):
    run = backup_inline("products")
    call_command("verify_backup", run.file_name)
    audits = BackupAudit.objects.count()
    for path in (run.local_path, "/etc/passwd"):
        assert services.verify_backup(name=path).code == BackupsError.NOT_A_BACKUP_NAME
        with pytest.raises(CommandError):
            call_command("verify_backup", path)
    outside = tmp_path / "copy-from-the-safe.bak"
    shutil.copy(run.local_path, outside)
    call_command("verify_backup", "--file", str(outside))
    outside.write_bytes(b"not a backup")
    with pytest.raises(CommandError):
        call_command("verify_backup", "--file", str(outside))
    assert BackupAudit.objects.count() == audits  # an explicit file is no backup's record


@pytest.mark.django_db
def test_the_proposal_skips_backups_whose_key_is_not_in_the_keyring_and_says_so():
    orders = scope("orders")
    usable = BackupRunFactory(scope=orders, kind=BackupKind.REALTIME, key_id="test-k1")
    lost = BackupRunFactory(scope=orders, kind=BackupKind.REALTIME, key_id="retired-key")
    assert lost.finished_at >= usable.finished_at
    proposal = services.propose_restore(scope=orders)
    assert proposal.backup == usable
    assert proposal.why.kind == events.REASON_WITH_SKIPPED
    assert "retired-key" in proposal.reason and lost.file_name in proposal.reason
    with translation.override("zh-hans"):
        assert "retired-key" in services.propose_restore(scope=orders).reason
    BackupRun.objects.filter(pk=usable.pk).delete()
    assert services.propose_restore(scope=orders).backup is None


@pytest.mark.django_db
def test_a_download_of_a_damaged_local_copy_serves_the_verified_remote_copy(
    client, make_user, order_db
):
    run = backup_inline("users")
    good = Path(run.local_path).read_bytes()
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0x01
    Path(run.local_path).write_bytes(bytes(damaged))
    client.force_login(make_user(Role.TECH_SUPPORT))
    response = client.get(reverse("backups:backup-download", args=[run.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == good
    assert Path(run.local_path).read_bytes() == good


@pytest.mark.django_db
def test_a_damaged_copy_with_no_good_remote_is_never_served(client, make_user, order_db, settings):
    run = backup_inline("users")
    Path(run.local_path).write_bytes(b"damaged" + Path(run.local_path).read_bytes()[7:])
    shutil.rmtree(settings.BACKUP_REMOTE_DIR)
    client.force_login(make_user(Role.TECH_SUPPORT))
    url = reverse("backups:backup-download", args=[run.pk])
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response["Location"] == reverse("backups:backup-detail", args=[run.pk])
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "is damaged" in page
    assert not BackupAudit.objects.filter(action=BackupAudit.Action.DOWNLOAD).exists()


@pytest.mark.django_db
def test_a_backup_declared_dead_stays_failed_when_its_worker_finishes_after_all(
    order_db, settings, monkeypatch
):
    """The reaper runs while the worker is still copying to a slow remote store."""
    settings.JOB_STALE_AFTER_SECONDS = 0
    copy = services.backup._copy_to_remote

    def slow_remote(path, sha256):
        assert services.reconcile_runs() == 1  # the heartbeat looked silent: declared dead
        return copy(path, sha256)

    monkeypatch.setattr(services.backup, "_copy_to_remote", slow_remote)
    run = services.start_backup(scope=scope("products"))
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert JobRecord.objects.get(pk=run.job_id).state == JobState.FAILED
    assert services.propose_restore(scope=scope("products")).backup is None


@pytest.mark.django_db
def test_a_page_view_never_overwrites_a_backup_its_worker_has_just_completed(make_user):
    """The page's copy says running, the job record says failed (declared dead), but the worker
    completed the run in the meantime: the completed row stands."""
    user = make_user("tech_support")
    job = JobRecord.objects.create(
        kind="t", title="t", started_by=user, state=JobState.FAILED, finished_at=timezone.now()
    )
    run = BackupRunFactory(state=RunState.COMPLETE, job=job)
    seen_by_the_page = type(run).objects.get(pk=run.pk)
    seen_by_the_page.state = RunState.RUNNING  # what the page loaded before the worker finished

    services.refresh_run_state(seen_by_the_page)

    run.refresh_from_db()
    assert run.state == RunState.COMPLETE and not run.error


@pytest.mark.django_db
def test_a_restore_declared_dead_that_commits_after_all_says_the_target_was_changed(
    client, make_user, order_db, settings, monkeypatch
):
    """The reaper runs while the worker is still checking a restore whose data has committed:
    "failed" stands, but the page must not claim that nothing was changed."""
    import sys

    restore_module = sys.modules["apps.backups.services.restore"]
    checks = restore_module.run_checks

    def slow_checks(**kwargs):
        # What the reaper writes when the heartbeat looked silent (this in-caller run has no
        # job record to go stale): the run is failed while its data has already committed.
        assert RestoreRun.objects.filter(state=RunState.RUNNING).update(
            state=RunState.FAILED, error="The worker running this job stopped responding."
        )
        return checks(**kwargs)

    backup_inline("products")
    monkeypatch.setattr(restore_module, "run_checks", slow_checks)
    restore = services.start_restore(scopes=[scope("products")], target="rehearsal")
    restore.refresh_from_db()
    assert restore.state == RunState.FAILED
    assert restore.report["committed_after_failure"] is True
    client.force_login(make_user(Role.TECH_SUPPORT))
    url = reverse("backups:restore-detail", args=[restore.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "WAS written into the target" in page
    assert "Nothing was changed in the target" not in page
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已经写入目标" in page
