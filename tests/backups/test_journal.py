"""The change journal and point-in-time restore on a real PostgreSQL with logical decoding."""

import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from apps.backups import engine, events, services
from apps.backups.choices import RunState
from apps.backups.errors import BackupsError
from apps.backups.journal.capture import JournalProcess
from apps.backups.journal.pitr import plan_point_in_time, start_point_in_time_restore
from apps.backups.models import BackupScope, JournalSegment, JournalState, RestoreRun
from apps.core.errors import DomainError
from tests.conftest import ROOT, create_database, drop_database, subprocess_env, wait_for

from .conftest import fingerprint
from .journal_helpers import (
    change_order,
    delete_order,
    drop_slot,
    first_order_ids,
    place_order,
    wal_flushed,
)

TABLE_SCOPES = ["users", "products", "orders", "transactions"]


@pytest.fixture
def journal(transactional_db, settings, order_db):
    settings.JOURNAL_SLOT_NAME = f"test_journal_{uuid.uuid4().hex[:10]}"
    process = JournalProcess()
    process.start()
    yield process
    process.close()
    drop_slot(order_db, settings.JOURNAL_SLOT_NAME)


def backup_all():
    runs = [services.start_backup(scope=BackupScope.objects.get(slug=s)) for s in TABLE_SCOPES]
    for run in runs:
        run.refresh_from_db()
        assert run.state == RunState.COMPLETE, run.error
    return runs


def journal_everything(process):
    """Step until every commit so far is in a durable segment."""
    wal_flushed(process.url)
    while process.step() is not None:
        pass


def next_second(after):
    """Wait (polling) until the clock is in a later whole second than ``after``."""
    target = after.replace(microsecond=0) + timedelta(seconds=1)
    wait_for(lambda: timezone.now() >= target, timeout=5)
    return target


def pitr(scratch_db, until):
    restore = start_point_in_time_restore(
        scopes=[BackupScope.objects.get(slug=s) for s in TABLE_SCOPES],
        until=until,
        target_url=scratch_db,
    )
    restore = RestoreRun.objects.get(pk=restore.pk)
    assert restore.state == RunState.COMPLETE, restore.error or restore.job.error
    return restore


def test_changes_after_a_full_backup_are_restored_to_an_exact_second(journal, order_db, scratch_db):
    early = first_order_ids(order_db, 3)
    place_order(order_db)
    journal_everything(journal)
    backup_all()

    # After the backup: inserts, an update and a delete, then the moment to restore to.
    kept = place_order(order_db)
    change_order(order_db, early[0], status="shipped")
    delete_order(order_db, early[1])
    moment = next_second(timezone.now())
    at_moment = fingerprint(order_db)
    # Changes after the moment must not come back.
    place_order(order_db)
    change_order(order_db, kept, status="cancelled")
    delete_order(order_db, early[2])
    journal_everything(journal)

    restore = pitr(scratch_db, moment)

    assert fingerprint(scratch_db) == at_moment
    report = restore.report["point_in_time"]
    assert report["stopped_early"] == ""
    assert report["inserted"]["public.orders"] == 1
    assert report["deleted"]["public.orders"] == 1
    assert "public.orders" not in report["loaded_with_table"]  # updated and deleted: replayed
    assert timezone.datetime.fromisoformat(report["achieved"]) == moment
    assert restore.checks_passed


def test_a_restore_until_now_brings_back_everything_journaled(journal, order_db, scratch_db):
    backup_all()
    for _ in range(5):
        place_order(order_db)
    journal_everything(journal)
    after_all = fingerprint(order_db)

    first = pitr(scratch_db, timezone.now())  # into an empty database: the tables are created
    assert fingerprint(scratch_db) == after_all
    again = pitr(scratch_db, timezone.now())  # into the tables now there: replayed after the load

    assert fingerprint(scratch_db) == after_all
    # Only inserts were journaled: a created table takes them before its indexes are built.
    loaded = first.report["point_in_time"]["loaded_with_table"]
    assert loaded == ["public.order_items", "public.orders", "public.payments"]
    assert again.report["point_in_time"]["loaded_with_table"] == []
    assert first.report["point_in_time"]["inserted"] == again.report["point_in_time"]["inserted"]


def test_scopes_backed_up_at_different_moments_restore_together_to_a_point_in_time(
    journal, order_db, scratch_db
):
    """Under writes the transactions backup comes after the orders backup: its payments
    reference orders the orders backup lacks. Restored alone the pair fails the foreign-key
    check; to a point in time the journal adds those orders before the keys are checked."""
    first = ["users", "products", "orders"]
    runs = [services.start_backup(scope=BackupScope.objects.get(slug=s)) for s in first]
    between = place_order(order_db)
    runs.append(services.start_backup(scope=BackupScope.objects.get(slug="transactions")))
    for run in runs:
        run.refresh_from_db()
        assert run.state == RunState.COMPLETE, run.error
    after = place_order(order_db)
    journal_everything(journal)
    at_end = fingerprint(order_db)

    name, full_url = create_database("test_full")
    try:
        full = services.start_restore(
            scopes=[BackupScope.objects.get(slug=s) for s in TABLE_SCOPES], target_url=full_url
        )
        full.refresh_from_db()
        assert full.state == RunState.FAILED
        assert full.error_code == BackupsError.FOREIGN_KEY
        assert f"({between})" in full.error_params["detail"]  # the order the backup lacks
    finally:
        drop_database(name)

    restore = pitr(scratch_db, timezone.now())

    assert fingerprint(scratch_db) == at_end
    report = restore.report["point_in_time"]
    assert report["inserted"]["public.orders"] == 2  # `between` and `after`
    assert report["inserted"]["public.payments"] == 1  # only `after`'s: the backup has the other
    assert after > between
    assert restore.checks_passed


def test_a_damaged_segment_stops_the_restore_at_the_last_consistent_point(
    journal, order_db, scratch_db, settings
):
    backup_all()
    place_order(order_db)
    journal_everything(journal)
    consistent = fingerprint(order_db)
    place_order(order_db)
    journal_everything(journal)
    damaged = JournalSegment.objects.order_by("-end_lsn").first()
    place_order(order_db)
    journal_everything(journal)
    data = bytearray(Path(damaged.local_path).read_bytes())
    data[len(data) // 2] ^= 0x01
    Path(damaged.local_path).write_bytes(bytes(data))
    Path(settings.BACKUP_REMOTE_DIR, damaged.remote_name).write_bytes(bytes(data))

    restore = pitr(scratch_db, timezone.now())

    assert fingerprint(scratch_db) == consistent
    stopped = restore.report["point_in_time"]["stopped_early_event"]
    assert stopped["kind"] == events.GAP_UNREADABLE_SEGMENT
    assert stopped["params"]["name"] == damaged.file_name
    assert restore.error_code == BackupsError.JOURNAL_STOPPED_EARLY
    assert restore.error_params == {"reason": stopped}
    with translation.override("en"):
        english = restore.error_message
    with translation.override("zh-hans"):
        chinese = restore.error_message
    assert damaged.file_name in chinese and chinese != english


def test_a_missing_segment_is_a_gap_named_in_the_plan(journal, order_db):
    backup_all()
    for _ in range(3):
        place_order(order_db)
        journal_everything(journal)
    middle = JournalSegment.objects.order_by("end_lsn")[1]
    JournalSegment.objects.filter(pk=middle.pk).delete()

    plan = plan_point_in_time(scopes=[BackupScope.objects.get(slug="orders")], until=timezone.now())

    assert plan.gap.kind == events.GAP_AFTER_SEGMENT
    assert plan.gap.params["name"] == plan.segments[-1].file_name
    assert all(s.end_lsn < middle.end_lsn for s in plan.segments)


def test_segments_are_encrypted_named_by_the_plan_and_copied_to_the_remote_store(
    journal, order_db, settings
):
    place_order(order_db)
    journal_everything(journal)
    segment = JournalSegment.objects.exclude(transactions=0).get()
    assert segment.file_name.endswith(f"实时变更日志-{segment.end_lsn:016X}.seg")
    raw = Path(segment.local_path).read_bytes()
    assert b"J100" not in raw  # the order number is not readable in the file
    manifest, txns = engine.read_segment(segment.local_path, services.get_keyring())
    assert manifest["tables"] == {"public.orders": 1, "public.order_items": 1, "public.payments": 1}
    assert segment.remote_state == "verified"
    assert Path(settings.BACKUP_REMOTE_DIR, segment.remote_name).read_bytes() == raw
    state = JournalState.objects.get(slot=settings.JOURNAL_SLOT_NAME)
    assert state.written_lsn == segment.end_lsn


def _journal_process(env):
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_journal"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_journal_killed_mid_segment_and_restarted_loses_and_duplicates_nothing(
    transactional_db, order_db, settings
):
    slot = f"test_journal_{uuid.uuid4().hex[:10]}"
    env = subprocess_env(
        ORDER_SYSTEM_DATABASE_URL=order_db,
        BACKUP_LOCAL_DIR=settings.BACKUP_LOCAL_DIR,
        BACKUP_REMOTE_OPTIONS=json.dumps({"location": settings.BACKUP_REMOTE_DIR}),
        BACKUP_MASTER_KEYS=settings.BACKUP_MASTER_KEYS,
        BACKUP_KEY_FILE="",
        JOURNAL_SLOT_NAME=slot,
        JOURNAL_POLL_SECONDS="0.01",
        JOURNAL_MAX_CHANGES="6",  # small segments: a kill lands in the middle of one
    )
    os.makedirs(settings.BACKUP_LOCAL_DIR, exist_ok=True)
    placed = []
    proc = _journal_process(env)
    try:
        wait_for(lambda: JournalState.objects.filter(slot=slot).exists(), timeout=60)
        for _round in range(3):
            for _ in range(15):
                placed.append(place_order(order_db))
            wait_for(lambda: JournalSegment.objects.filter(slot=slot).count() > 1, timeout=30)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            proc = _journal_process(env)
        for _ in range(10):
            placed.append(place_order(order_db))

        wait_for(
            lambda: sorted(journaled_order_ids(slot)) == sorted(placed),
            timeout=60,
            message="the journal did not catch up",
        )
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        drop_slot(order_db, slot)

    segments = list(JournalSegment.objects.filter(slot=slot).order_by("end_lsn"))
    for previous, segment in zip(segments, segments[1:], strict=False):
        assert segment.start_lsn == previous.end_lsn  # one unbroken chain
    assert len(segments) > 6
    assert sorted(journaled_order_ids(slot)) == sorted(placed)  # every order exactly once
    leftovers = list(Path(settings.BACKUP_LOCAL_DIR, "journal").glob(".*.partial"))
    recorded = {Path(s.local_path).name for s in segments}
    assert all(p.name not in recorded for p in leftovers)


def journaled_order_ids(slot):
    """Every order inserted according to the slot's recorded segments (duplicates kept)."""
    keyring = services.get_keyring()
    seen = []
    for segment in JournalSegment.objects.filter(slot=slot).order_by("end_lsn"):
        _manifest, txns = engine.read_segment(segment.local_path, keyring)
        for txn in txns:
            for change in txn.changes:
                if change.table == "public.orders" and change.op == "I":
                    seen.append(int({c[0]: c[2] for c in change.cols}["id"]))
    return seen


def test_restore_backup_until_prints_the_achieved_point(journal, order_db, scratch_db, capsys):
    backup_all()
    place_order(order_db)
    journal_everything(journal)
    moment = next_second(timezone.now())

    call_command(
        "restore_backup",
        *[arg for s in TABLE_SCOPES for arg in ("--scope", s)],
        "--until",
        moment.isoformat(),
        "--target-url",
        scratch_db,
        "--yes",
    )

    out = capsys.readouterr().out
    assert "Restored to" in out and "journaled transaction(s) replayed" in out
    assert fingerprint(scratch_db) == fingerprint(order_db)


def test_the_slot_lag_is_measured_and_an_alarm_raised_past_the_threshold(
    journal, order_db, settings
):
    from apps.backups.journal.health import WAL_RETAINED, check_journal_health

    settings.JOURNAL_LAG_ALARM_BYTES = 1
    journal_everything(journal)  # a fresh heartbeat
    for _ in range(3):
        place_order(order_db)  # not journaled yet: the slot holds WAL for them
    wal_flushed(order_db)

    assert check_journal_health() == 1
    state = JournalState.objects.get(slot=settings.JOURNAL_SLOT_NAME)
    assert state.alarm and state.retained_bytes > 0 and state.lag_checked_at
    assert state.last_error_event["kind"] == WAL_RETAINED
    assert state.last_error_event["params"]["limit"] == 0
    with translation.override("en"):
        english = state.last_error_text
    with translation.override("zh-hans"):
        chinese = state.last_error_text
    assert chinese != english and "0" in chinese  # the stored reason, in the reader's language

    settings.JOURNAL_LAG_ALARM_BYTES = 1024**3
    journal_everything(journal)
    assert check_journal_health() == 0
    state.refresh_from_db()
    assert not state.alarm


def test_a_silent_journal_process_raises_the_alarm(journal, order_db, settings):
    from apps.backups.journal.health import JOURNAL_STALE, check_journal_health

    JournalState.objects.filter(slot=settings.JOURNAL_SLOT_NAME).update(
        heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert check_journal_health() == 1
    state = JournalState.objects.get(slot=settings.JOURNAL_SLOT_NAME)
    assert state.alarm and state.last_error_event["kind"] == JOURNAL_STALE


def test_retention_deletes_only_segments_no_retained_backup_needs(journal, order_db, settings):
    from apps.backups.retention import prune

    place_order(order_db)
    journal_everything(journal)
    before = list(JournalSegment.objects.all())
    backup_all()
    place_order(order_db)
    journal_everything(journal)
    after = list(JournalSegment.objects.exclude(pk__in=[s.pk for s in before]))

    plan = prune(dry_run=True)
    assert {d.file_name for d in plan.deletions if d.store == "journal"} == {
        s.file_name for s in before
    }
    prune()

    for segment in before:
        segment.refresh_from_db()
        assert (
            segment.pruned_at
            and not Path(settings.BACKUP_LOCAL_DIR, "journal", segment.file_name).exists()
        )
    for segment in after:
        segment.refresh_from_db()
        assert segment.pruned_at is None and Path(segment.local_path).exists()


def test_a_second_journal_process_on_the_same_slot_stands_by(journal):
    second = JournalProcess()
    try:
        with pytest.raises(engine.JournalError, match="Another journal process"):
            second.start()
    finally:
        second.close()


def test_the_pages_say_which_mode_a_scope_is_in(journal, order_db, client, make_user, settings):
    from django.urls import reverse

    from apps.accounts.roles import Role

    journal_everything(journal)
    client.force_login(make_user(Role.TECH_SUPPORT))
    page = client.get(reverse("backups:backup-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Continuous journal" in page  # orders, transactions
    assert "Snapshots every 1440 min" in page  # users, products (daily)


def test_the_wizard_restores_to_a_point_in_time_and_shows_the_journal_coverage(
    journal, order_db, scratch_db, client, make_user
):
    from django.urls import reverse

    from apps.accounts.roles import Role

    backup_all()
    place_order(order_db)
    journal_everything(journal)
    moment = next_second(timezone.now())
    at_moment = fingerprint(order_db)
    place_order(order_db)
    journal_everything(journal)
    client.force_login(make_user(Role.TECH_SUPPORT))
    url = reverse("backups:restore-point-in-time")

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "seconds of journaled changes" in page

    response = client.post(
        url,
        {
            "scopes": [BackupScope.objects.get(slug=s).pk for s in TABLE_SCOPES],
            "until": timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S"),
            "target": "rehearsal",
            "confirm": "on",
        },
    )

    restore = RestoreRun.objects.get()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert restore.state == RunState.COMPLETE and not restore.into_order_system
    assert fingerprint(scratch_db) == at_moment


def test_the_wizard_refuses_a_point_in_time_in_the_future(journal, client, make_user):
    from django.urls import reverse

    from apps.accounts.roles import Role

    client.force_login(make_user(Role.TECH_SUPPORT))
    response = client.post(
        reverse("backups:restore-point-in-time"),
        {
            "scopes": [BackupScope.objects.get(slug="orders").pk],
            "until": (timezone.localtime() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
            "target": "order_system",
            "confirm": "on",
        },
    )
    assert response.status_code == 200
    assert not RestoreRun.objects.exists()
    assert "until" in response.context["form"].errors  # shown next to the time typed


def test_a_point_in_time_in_the_future_is_refused_with_its_code(journal):
    with pytest.raises(DomainError) as exc:
        start_point_in_time_restore(
            scopes=[BackupScope.objects.get(slug="orders")],
            until=timezone.now() + timedelta(hours=1),
        )
    assert exc.value.code == BackupsError.POINT_IN_FUTURE and exc.value.field == "until"
    assert not RestoreRun.objects.exists()


def test_no_scope_chosen_is_refused_with_its_code(journal):
    with pytest.raises(DomainError) as exc:
        start_point_in_time_restore(scopes=[], until=timezone.now())
    assert exc.value.code == BackupsError.NO_SCOPE_CHOSEN


def test_a_scope_without_a_journaled_backup_is_refused_with_its_code(journal):
    with pytest.raises(DomainError) as exc:
        plan_point_in_time(scopes=[BackupScope.objects.get(slug="orders")], until=timezone.now())
    assert exc.value.code == BackupsError.NO_JOURNAL_BASE
    assert exc.value.params["scope"] == BackupScope.objects.get(slug="orders").name
