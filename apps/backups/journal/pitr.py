"""Point-in-time restore: the newest full backup before TIME, then the journal up to TIME.

Everything happens in ONE transaction on the target (``engine.restore_files`` with the replay as
its ``before_commit``): the backups are loaded and checked (counts, checksums), then the journal's
transactions that each backup does not hold (decided by the backup's recorded snapshot) and that
committed at or before TIME are applied (in batches: ``engine.Replayer``), the row counts are
checked against the backup's plus the journal's inserts and deletes, and only then are the foreign
keys re-validated: scopes' backups taken one after the other under load do not fit together
(newer payments of older orders) until the journal fills the gap. A gap in the journal (a missing, damaged or
unreadable segment) stops the replay at the last consistent point and says so; it never skips.
Then the scopes' checks run like after any restore.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.backups import engine, events, services
from apps.backups.choices import RunState
from apps.backups.engine import gateway
from apps.backups.errors import BackupsError, as_stored_error, classify, error_text
from apps.backups.models import BackupRun, BackupScope, JournalSegment, JournalState, RestoreRun
from apps.core.errors import DomainError, JobFailure
from apps.core.events import Message, as_stored
from apps.core.events import message as event_message
from apps.core.jobs import Progress, start_job

from .capture import _qualified, journal_dir

logger = logging.getLogger(__name__)

_DB_ERRORS: tuple[type[BaseException], ...] = tuple(gateway.DB_ERRORS)
_RESTORE_ERRORS: tuple[type[BaseException], ...] = (
    engine.EngineError,
    OSError,
    DomainError,
    *_DB_ERRORS,
)
_CHECK_ERRORS: tuple[type[BaseException], ...] = (engine.EngineError, *_DB_ERRORS)


@dataclass
class Plan:
    """What a point-in-time restore would use, and how far the journal reaches."""

    until: datetime
    backups: list[BackupRun]
    segments: list[JournalSegment]
    covered_until: datetime | None  # the last journaled commit the segments reach
    gap: Message | None = None  # why the chain stops early (None when it reaches TIME)
    notes: list[str] = field(default_factory=list)

    @property
    def seconds_after_backup(self) -> float:
        newest = max((b.finished_at for b in self.backups if b.finished_at), default=None)
        end = min(self.until, self.covered_until) if self.covered_until else None
        if newest is None or end is None:
            return 0.0
        return max(0.0, (end - newest).total_seconds())


def _stored(reason: Message | None) -> dict[str, Any]:
    """A message as a restore stores it (``as_stored``; empty for none)."""
    return as_stored(reason) if reason is not None else {}


def _snapshot_of(run: BackupRun) -> tuple[str | None, int | None]:
    source = (run.manifest or {}).get("source") or {}
    lsn = source.get("wal_lsn")
    return source.get("txid_snapshot"), engine.parse_lsn(lsn) if lsn else None


def base_backup(scope: BackupScope, until: datetime) -> BackupRun:
    """The newest complete, intact backup of ``scope`` finished at or before ``until`` that
    records its snapshot (made while the journal ran)."""
    candidates = (
        BackupRun.objects.filter(scope=scope, state=RunState.COMPLETE, finished_at__lte=until)
        .exclude(last_verify_ok=False)
        .order_by("-finished_at", "-pk")
    )
    for run in candidates:
        snapshot, lsn = _snapshot_of(run)
        if snapshot and lsn is not None:
            return run
    raise DomainError(
        BackupsError.NO_JOURNAL_BASE,
        params={
            "scope": scope.name,
            "when": timezone.localtime(until).strftime("%Y-%m-%d %H:%M:%S"),
        },
    )


def plan_point_in_time(*, scopes: list[BackupScope], until: datetime) -> Plan:
    backups = [base_backup(scope, until) for scope in scopes]
    start = min(lsn for lsn in (_snapshot_of(b)[1] for b in backups) if lsn is not None)
    state = JournalState.objects.filter(slot=settings.JOURNAL_SLOT_NAME).first()
    plan = Plan(until=until, backups=backups, segments=[], covered_until=None)
    if state is None or state.start_lsn > start:
        plan.gap = event_message(events.GAP_JOURNAL_STARTED_LATER)
        return plan
    segments = JournalSegment.objects.filter(
        slot=settings.JOURNAL_SLOT_NAME, end_lsn__gt=start
    ).order_by("end_lsn")
    previous_end = None
    for segment in segments:
        if previous_end is None and segment.start_lsn > start:
            plan.gap = event_message(events.GAP_AFTER_BACKUP)
            break
        if previous_end is not None and segment.start_lsn != previous_end:
            plan.gap = event_message(events.GAP_AFTER_SEGMENT, name=plan.segments[-1].file_name)
            break
        plan.segments.append(segment)
        previous_end = segment.end_lsn
        if segment.last_commit_at:
            plan.covered_until = segment.last_commit_at
        if segment.first_commit_at and segment.first_commit_at > until:
            break
    return plan


def _segment_file(segment: JournalSegment) -> Path:
    """The segment's local file if its SHA-256 matches the record, else the remote copy."""
    local = Path(segment.local_path) if segment.local_path else None
    if local is not None and local.exists():
        with open(local, "rb") as f:
            if services.sha256_of(f) == segment.sha256:
                return local
    if segment.remote_name:
        storage = storages["backups_remote"]
        target = journal_dir() / segment.file_name
        tmp = target.with_name(f".{target.name}.fetch")
        with storage.open(segment.remote_name, "rb") as src, open(tmp, "wb") as dst:
            for block in iter(lambda: src.read(1 << 20), b""):
                dst.write(block)
        with open(tmp, "rb") as f:
            if services.sha256_of(f) == segment.sha256:
                tmp.replace(target)
                JournalSegment.objects.filter(pk=segment.pk).update(local_path=str(target))
                return target
        tmp.unlink()
    raise engine.JournalGapError(
        f"Journal segment {segment.file_name} is damaged or missing (its SHA-256 differs from "
        "the one recorded)."
    )


@dataclass
class PitrOutcome:
    restore: RestoreRun
    achieved: datetime
    stopped_early: str
    replay: engine.ReplayResult


def _target_url(target: str | None, target_url: str | None) -> str:
    if target_url:
        return target_url
    if target in (None, services.ORDER_SYSTEM):
        return settings.ORDER_SYSTEM_DATABASE_URL
    targets = services.scratch_targets()
    if target not in targets:
        raise DomainError(BackupsError.UNKNOWN_TARGET, params={"target": target}, field="target")
    return targets[target]


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """The journal read into memory is tens of thousands of small acyclic objects; Python's
    cycle collector walked them again and again while they were made (every other restore at
    the bench: 0.05 s of CPU on top of a 0.09 s replay). Reference counting frees them all."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def perform_point_in_time_restore(
    *,
    restore_id: int,
    until: str,
    target: str | None = None,
    target_url: str | None = None,
    progress: Progress,
) -> dict[str, Any]:
    """Worker side (or the caller's process, for a URL): see the module's docstring."""
    with _without_cycle_collection():
        return _perform(
            restore_id=restore_id,
            until=until,
            target=target,
            target_url=target_url,
            progress=progress,
        )


def _perform(
    *,
    restore_id: int,
    until: str,
    target: str | None,
    target_url: str | None,
    progress: Progress,
) -> dict[str, Any]:
    restore = RestoreRun.objects.get(pk=restore_id)
    until_at = datetime.fromisoformat(until)
    backups = list(restore.backups.select_related("scope").order_by("scope__position"))
    scopes = [b.scope for b in backups]
    url = _target_url(target, target_url)
    if not restore.into_order_system:
        services.ensure_scratch_database(url)
    RestoreRun.objects.filter(pk=restore.pk).update(state=RunState.RUNNING)
    plan = plan_point_in_time(scopes=scopes, until=until_at)
    snapshots: dict[str, engine.TxidSnapshot | None] = {}
    base_rows: dict[str, int] = {}
    for backup in backups:
        text, _lsn = _snapshot_of(backup)
        for table in (backup.manifest or {}).get("tables", []):
            snapshots[_qualified(table["name"])] = engine.TxidSnapshot(text) if text else None
            base_rows[_qualified(table["name"])] = int(table["rows"])
    stopped: list[Message | None] = [plan.gap]
    floor = [0]
    replayer_box: list[engine.Replayer] = []
    # The journal up to TIME is read first (stopping at a gap): a table whose journaled
    # changes are only inserts gets them loaded with the table itself when the restore creates
    # it (before its keys and indexes are built); the replay applies everything else.
    txns: list[engine.Txn] = []
    total = max(len(plan.segments), 1)
    for n, segment in enumerate(plan.segments):
        try:
            _manifest, read = engine.read_segment(
                _segment_file(segment), services.get_keyring(), runs=True
            )
        except (engine.EngineError, OSError) as exc:
            stopped[0] = event_message(
                events.GAP_UNREADABLE_SEGMENT,
                name=segment.file_name,
                error=as_stored_error(exc),
            )
            break
        txns.extend(engine.iter_until(read, until_at))
        percent = 5 * int(2 * (n + 1) / total)
        if percent > floor[0]:  # 5 % and 10 %, not a write per segment (hundreds of them)
            floor[0] = percent
            progress.update(
                percent=percent,
                step=event_message(events.STEP_READ_JOURNAL, name=segment.file_name),
            )
        if read and read[-1].commit_time > until_at:
            break
    appends = engine.inserts_only(txns, snapshots)

    def replay(target: Any) -> None:
        conn = engine.target_connection(target)
        loaded = {table: rows.rows for table, rows in appends.items() if rows.taken}
        replayer = engine.Replayer(conn, snapshots, loaded)
        replayer_box.append(replayer)
        progress.update(percent=85, step=event_message(events.STEP_REPLAY, name=f"{len(txns)} tx"))
        replayer.apply_all(txns)
        replayer.reset_sequences()  # (applies the last pending batches first)
        result = replayer.result
        # A table that took its journaled rows with it (and nothing else of the journal):
        # the server's count of what it loaded, instead of counting the whole table again.
        for table, count in loaded.items():
            if appends[table].loaded != count:
                raise engine.RestoreError(
                    f"{table} took {appends[table].loaded} journaled rows, expected {count}."
                )
        counts = engine.count_table_rows(conn, [t for t in snapshots if t not in loaded])
        for table, rows in counts.items():
            if table in result.truncated:
                continue
            expected = base_rows[table] + result.net_rows(table)
            if rows != expected:
                raise engine.RestoreError(
                    f"After replaying the journal {table} holds {rows} rows, expected {expected}."
                )

    try:
        paths = [services.verified_file_for(b) for b in backups]
        engine.restore_files(
            paths,
            target_url=url,
            keyring=services.get_keyring(),
            # Reading the journal took 0-10 %, the load 10-80 %, the replay runs before the
            # foreign keys: never report going back.
            progress=lambda pct, step: progress.update(
                percent=max(10 + int(pct * 0.7), floor[0]), step=services.step_text(step)
            ),
            expected_sha256=[b.sha256 or None for b in backups],
            before_commit=replay,
            appends=appends,
        )
    except _RESTORE_ERRORS as exc:
        code, params = classify(exc)
        RestoreRun.objects.filter(pk=restore.pk).update(
            state=RunState.FAILED,
            error=error_text(code, params),
            error_code=code,
            error_params=params,
            finished_at=timezone.now(),
        )
        raise JobFailure(BackupsError(code), params=params) from exc
    result = replayer_box[0].result
    base_time = max(b.finished_at for b in backups if b.finished_at)
    achieved = result.last_commit or base_time
    if not stopped[0] and achieved < until_at:
        achieved = until_at  # every change up to TIME was in the journal
    try:
        checks = services.run_checks(url=url, scopes=scopes)
    except _CHECK_ERRORS as exc:
        checks = [
            {"name": _("Checks"), "name_en": "Checks", "error": services.explain(exc), "ok": False}
        ]
    report: dict[str, Any] = {
        "point_in_time": {
            "until": until_at.isoformat(),
            "achieved": achieved.isoformat(),
            # The text as written (the command prints it); the same as data below.
            "stopped_early": str(stopped[0] or ""),
            "stopped_early_event": _stored(stopped[0]),
            "transactions": result.transactions,
            "skipped_in_backup": result.skipped_in_backup,
            "inserted": result.inserted,
            "updated": result.updated,
            "deleted": result.deleted,
            # tables whose journaled rows (inserts only) went in with the table itself
            "loaded_with_table": sorted(t for t, rows in appends.items() if rows.taken),
            "segments": [s.file_name for s in plan.segments],
        },
        "tables": [],
        "checks": checks,
    }
    with transaction.atomic():
        restore = RestoreRun.objects.select_for_update().get(pk=restore.pk)
        restore.state = RunState.COMPLETE
        restore.report = report
        restore.finished_at = timezone.now()
        if stopped[0]:
            restore.error = str(stopped[0])
            restore.error_code = BackupsError.JOURNAL_STOPPED_EARLY
            restore.error_params = {"reason": _stored(stopped[0])}
        restore._change_reason = "point-in-time restore complete"
        restore.save()
    return {"restore_id": restore.pk, **report["point_in_time"]}


def start_point_in_time_restore(
    *,
    scopes: list[BackupScope],
    until: datetime,
    target: str | None = None,
    target_url: str | None = None,
    by: Any = None,
) -> RestoreRun:
    """Record the restore and run it (in this process when a URL is given: it never goes to
    Redis, as it may carry a password)."""
    if not scopes:
        raise DomainError(BackupsError.NO_SCOPE_CHOSEN, field="scopes")
    if until > timezone.now():
        raise DomainError(BackupsError.POINT_IN_FUTURE, field="until")
    with transaction.atomic():
        plan = plan_point_in_time(scopes=scopes, until=until)
        url = _target_url(target, target_url)
        reasons = [
            event_message(
                events.REASON_POINT_IN_TIME,
                until=timezone.localtime(until).strftime("%Y-%m-%d %H:%M:%S"),
                backups=", ".join(b.file_name for b in plan.backups),
                seconds=int(plan.seconds_after_backup),
            )
        ]
        if plan.gap:
            reasons.append(plan.gap)
        restore = RestoreRun.objects.create(
            target_label=services.target_label(url),
            into_order_system=url == settings.ORDER_SYSTEM_DATABASE_URL,
            started_by=by,
            reason="\n".join(str(r) for r in reasons),
            reasons=[_stored(r) for r in reasons],
        )
        restore.backups.set(plan.backups)
        restore.job = start_job(
            in_caller=bool(target_url),
            kind="restore",
            title=event_message(events.RESTORE_TITLE, id=restore.pk, target=restore.target_label),
            func="apps.backups.journal.pitr.pitr_job",
            kwargs={
                "restore_id": restore.pk,
                "until": until.isoformat(),
                **({"target_url": target_url} if target_url else {"target": target}),
            },
            queue="backups",
            by=by,
        )
        restore.save(update_fields=["job"])
    return restore


def pitr_job(
    *,
    progress: Progress,
    restore_id: int,
    until: str,
    target: str | None = None,
    target_url: str | None = None,
) -> dict[str, Any]:
    return perform_point_in_time_restore(
        restore_id=restore_id,
        until=until,
        target=target,
        target_url=target_url,
        progress=progress,
    )


@dataclass
class JournalCoverage:
    """What the proposal says for a journaled scope: latest backup + journal to now."""

    scope: BackupScope
    backup: BackupRun | None
    seconds: int
    gap: Message | None


def journal_coverage(scope: BackupScope) -> JournalCoverage | None:
    """For a scope the journal covers: its newest backup and how many seconds of journaled
    changes after it a restore "to now" would add (None: not journaled)."""
    if not JournalState.objects.filter(slot=settings.JOURNAL_SLOT_NAME).exists():
        return None
    try:
        plan = plan_point_in_time(scopes=[scope], until=timezone.now())
    except DomainError:
        return JournalCoverage(scope, None, 0, None)
    return JournalCoverage(scope, plan.backups[0], int(plan.seconds_after_backup), plan.gap)
