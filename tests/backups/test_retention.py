"""Retention: local files go first, remote later; what must stay stays; every deletion audited."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from django.utils.translation import gettext

from apps.backups.choices import CopyState, RunState
from apps.backups.models import BackupAudit, BackupPolicy, BackupRun, BackupScope
from apps.backups.retention import plan_pruning, prune, start_pruning
from apps.core import schedules
from apps.core.choices import JobState
from apps.core.events import render_event

from .factories import BackupRunFactory, RestoreRunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders_policy():
    policy = BackupPolicy.objects.get(scope__slug="orders", kind="realtime")
    policy.retention, policy.keep_local, policy.keep_remote = 4, True, True
    policy.save()
    return policy


def make_backups(n, settings, *, verified=True, remote=True):
    """``n`` orders backups, oldest first, 15 minutes apart, with files in both stores."""
    remote_dir = Path(settings.BACKUP_REMOTE_DIR)
    remote_dir.mkdir(parents=True, exist_ok=True)
    now = timezone.now()
    runs = []
    for i in range(n):
        run = BackupRunFactory(
            with_file=True,
            finished_at=now - timedelta(minutes=15 * (n - i)),
            last_verify_ok=verified,
        )
        if remote:
            (remote_dir / run.file_name).write_bytes(b"remote copy")
            run.remote_name, run.remote_state = run.file_name, CopyState.VERIFIED
            run.save()
        runs.append(run)
    return runs


def stores(run):
    run.refresh_from_db()
    local = bool(run.local_path) and Path(run.local_path).exists()
    remote = run.remote_state == CopyState.VERIFIED
    return local, remote


def test_old_files_leave_the_local_store_first_and_the_remote_later(settings, orders_policy):
    settings.BACKUP_LOCAL_KEEP = 2
    runs = make_backups(6, settings)  # oldest first

    prune()

    newest_first = [stores(r) for r in reversed(runs)]
    assert newest_first == [
        (True, True),
        (True, True),
        (False, True),
        (False, True),
        (False, False),
        (False, False),
    ]
    remote_dir = Path(settings.BACKUP_REMOTE_DIR)
    assert not (remote_dir / runs[0].file_name).exists()
    assert (remote_dir / runs[2].file_name).exists()


def test_a_dry_run_lists_what_would_go_and_deletes_nothing(settings, orders_policy, capsys):
    settings.BACKUP_LOCAL_KEEP = 2
    runs = make_backups(6, settings)

    call_command("prune_backups", "--dry-run")

    out = capsys.readouterr().out
    assert out.count("would delete") == 6  # 4 local + 2 remote
    assert runs[0].file_name in out
    assert all(stores(r) == (True, True) for r in runs)
    assert not BackupAudit.objects.filter(action=BackupAudit.Action.PRUNE).exists()


def test_every_deletion_is_audited_with_its_reason(settings, orders_policy):
    settings.BACKUP_LOCAL_KEEP = 2
    runs = make_backups(5, settings)

    plan = prune()

    audits = BackupAudit.objects.filter(action=BackupAudit.Action.PRUNE)
    assert audits.count() == sum(1 for d in plan.deletions if d.done) == 4
    oldest = audits.filter(backup=runs[0])
    assert oldest.count() == 2  # local and remote
    history = runs[0].history.first()
    assert history.history_change_reason.startswith("retention:")


def test_retention_reasons_are_shown_in_the_reader_s_language(settings, orders_policy):
    settings.BACKUP_LOCAL_KEEP = 2
    runs = make_backups(5, settings)
    with translation.override("en"):
        job = start_pruning(dry_run=True)
        prune()

    audit = BackupAudit.objects.filter(backup=runs[0], detail__contains="remote store").get()
    reason = next(d["reason"] for d in job.result["deletions"] if d["store"] == "remote")
    with translation.override("zh-hans"):
        older = gettext("older than the %(n)s copies kept") % {"n": 4}
        assert render_event(reason["kind"], reason["params"]) == older
        assert audit.display_detail == gettext(
            "Deleted by retention from the remote store: %(reason)s"
        ) % {"reason": older}
        assert audit.display_detail != audit.detail
    with translation.override("en"):
        assert render_event(reason["kind"], reason["params"]) == "older than the 4 copies kept"
        assert (
            audit.display_detail
            == audit.detail
            == ("Deleted by retention from the remote store: older than the 4 copies kept")
        )


def test_the_newest_verified_backup_is_never_deleted(settings, orders_policy):
    orders_policy.retention = 1
    orders_policy.save()
    settings.BACKUP_LOCAL_KEEP = 1
    good = make_backups(1, settings, verified=True)[0]
    make_backups(3, settings, verified=False)  # newer, but damaged

    prune()

    assert stores(good) == (True, True)


def test_a_file_a_running_restore_reads_is_kept(settings, orders_policy):
    orders_policy.retention = 1
    orders_policy.save()
    runs = make_backups(3, settings)
    restore = RestoreRunFactory(state=RunState.RUNNING)
    restore.backups.add(runs[0])

    plan = prune()

    assert stores(runs[0]) == (True, True)
    assert stores(runs[1]) == (False, False)
    assert plan.kept_because[runs[0].pk] == "in use"


def test_a_local_file_without_a_verified_remote_copy_stays_until_retention_ends(
    settings, orders_policy
):
    settings.BACKUP_LOCAL_KEEP = 1
    runs = make_backups(3, settings, remote=False)

    prune()

    assert [stores(r)[0] for r in runs] == [True, True, True]  # the only copies


def test_a_policy_without_local_copies_keeps_only_remote_ones(settings, orders_policy):
    orders_policy.keep_local = False
    orders_policy.save()
    runs = make_backups(3, settings)

    prune()

    # The newest verified stays whole; the others live on the remote store only.
    assert [stores(r) for r in runs] == [(False, True), (False, True), (True, True)]


def test_retention_runs_as_a_scheduled_job(settings, orders_policy):
    assert schedules.get_schedule("backups.retention").task == (
        "apps.backups.retention.start_pruning"
    )
    settings.BACKUP_LOCAL_KEEP = 2
    make_backups(5, settings)

    job = start_pruning(dry_run=True)

    assert job.state == JobState.SUCCEEDED
    assert job.result["dry_run"] and len(job.result["deletions"]) == 4
    assert job.result["deleted"] == 0
    assert not plan_pruning().kept_because  # nothing protected in this set


def test_scopes_without_a_policy_for_the_kind_are_left_alone(settings):
    BackupPolicy.objects.filter(scope__slug="orders").delete()
    runs = make_backups(3, settings)
    prune()
    assert all(stores(r) == (True, True) for r in runs)
    assert BackupScope.objects.filter(slug="orders").exists()
    assert BackupRun.objects.count() == 3
