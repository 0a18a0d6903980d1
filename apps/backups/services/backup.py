"""Making a backup: the file name, the queued run, the worker's encrypted write and remote copy."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from apps.accounts.models import User
from apps.core.errors import DomainError, JobFailure
from apps.core.events import message as event_message
from apps.core.jobs import Progress, start_job
from apps.core.timeline import post_to_timeline

from .. import engine, errors, events
from ..choices import PLAN_KIND_WORDS, BackupKind, CopyState, RunState
from ..errors import BackupsError
from ..models import BackupPolicy, BackupRun, BackupScope
from .common import RUN_FAILURES, explain, sha256_of, step_text
from .keys import get_keyring


# --- names -----------------------------------------------------------------------------------
def backup_file_name(*, scope: BackupScope, kind: str, when: datetime, n: int = 1) -> str:
    """The plan's rule <date><scope><type>.bak; a second file on one day gets -2, and so on."""
    day = timezone.localtime(when).strftime("%Y%m%d")
    suffix = "" if n == 1 else f"-{n}"
    if settings.BACKUP_NAME_STYLE == "ascii":
        return f"{day}-{scope.slug}-{kind}{suffix}.bak"
    return f"{day}{scope.name_zh}{PLAN_KIND_WORDS[BackupKind(kind)]}{suffix}.bak"


def _reserve_file_name(run: BackupRun) -> str:
    """Claim a unique name in the database (the unique constraint settles races)."""
    local_dir = Path(settings.BACKUP_LOCAL_DIR)
    for n in range(1, 10000):
        name = backup_file_name(scope=run.scope, kind=run.kind, when=run.created_at, n=n)
        if (local_dir / name).exists():
            continue
        try:
            with transaction.atomic():
                updated = BackupRun.objects.filter(pk=run.pk).update(file_name=name)
        except IntegrityError:
            continue
        if updated:
            return name
    raise DomainError(BackupsError.NO_FREE_NAME)


# --- backup ----------------------------------------------------------------------------------
def default_kind(scope: BackupScope) -> str:
    policy = scope.policies.filter(is_default=True).first() or scope.policies.first()
    return policy.kind if policy else BackupKind.DAILY


@transaction.atomic
def start_backup(
    *, scope: BackupScope, kind: str | None = None, by: User | None = None
) -> BackupRun:
    kind = kind or default_kind(scope)
    if kind not in BackupKind.values:
        raise DomainError(BackupsError.UNKNOWN_KIND, params={"kind": kind}, field="kind")
    run = BackupRun.objects.create(scope=scope, kind=kind, started_by=by)
    run.job = start_job(
        kind="backup",
        title=event_message(events.BACKUP_TITLE, scope=scope.name, kind=run.kind),
        func="apps.backups.jobs.backup_job",
        kwargs={"run_id": run.pk},
        queue="backups",
        by=by,
    )
    run._change_reason = "backup queued"
    run.save(update_fields=["job"])
    return run


@transaction.atomic
def start_backups(
    due: Sequence[tuple[BackupScope, str]], *, by: User | None = None
) -> list[BackupRun]:
    """Back up several scopes (what the scheduler finds due): those read from the order
    system's database go in ONE job that reads one moment of it (``perform_backups``).

    Started as one job each, orders and transactions were read at different moments: under
    load the transactions backup held payments of orders the orders backup lacked, and
    restoring the two together failed its foreign key check."""
    together = [(scope, kind) for scope, kind in due if scope.tables and not scope.is_logs]
    if len(together) < 2:
        return [start_backup(scope=scope, kind=kind, by=by) for scope, kind in due]
    runs = {
        scope.pk: BackupRun.objects.create(scope=scope, kind=kind, started_by=by)
        for scope, kind in together
    }
    job = start_job(
        kind="backup",
        title=event_message(
            events.BACKUP_GROUP_TITLE, scopes=", ".join(str(s.name) for s, _ in together)
        ),
        func="apps.backups.jobs.backup_group_job",
        kwargs={"run_ids": [run.pk for run in runs.values()]},
        queue="backups",
        by=by,
    )
    for run in runs.values():
        run.job = job
        run._change_reason = "backup queued"
        run.save(update_fields=["job"])
    return [
        runs[scope.pk] if scope.pk in runs else start_backup(scope=scope, kind=kind, by=by)
        for scope, kind in due
    ]


class ShareOfProgress:
    """One run's share of a job's progress bar (several backups in one job)."""

    def __init__(self, progress: Progress, index: int, total: int) -> None:
        self.progress, self.index, self.total = progress, index, total

    def update(self, percent: int | None = None, step: Any = None) -> None:
        scaled = None
        if percent is not None:
            scaled = int((self.index + max(0, min(100, percent)) / 100) * 100 / self.total)
        self.progress.update(percent=scaled, step=step)

    __call__ = update

    def log(self, line: Any) -> None:
        self.progress.log(line)


@contextlib.contextmanager
def order_system_moment() -> Iterator[engine.SharedSnapshot | None]:
    """One moment of the order system held for several backups (None on SQLite, or when it
    cannot be reached: each backup then fails with its own reason)."""
    with contextlib.ExitStack() as stack:
        try:
            snapshot = stack.enter_context(
                engine.shared_snapshot(settings.ORDER_SYSTEM_DATABASE_URL)
            )
        except engine.EngineError:
            snapshot = None
        yield snapshot


def perform_backups(*, run_ids: list[int], progress: Progress) -> dict[str, Any]:
    """Worker side of ``start_backups``: each run in turn, all in one held moment of the order
    system (``engine.shared_snapshot``); a run that fails is recorded and the others go on."""
    failed: list[int] = []
    with order_system_moment() as snapshot:
        for index, run_id in enumerate(run_ids):
            try:
                perform_backup(
                    run_id=run_id,
                    progress=ShareOfProgress(progress, index, len(run_ids)),  # type: ignore[arg-type]
                    snapshot=snapshot,
                )
            except (JobFailure, DomainError):  # recorded on its run
                failed.append(run_id)
    if failed:
        scopes = BackupRun.objects.filter(pk__in=failed).values_list("scope__slug", flat=True)
        raise JobFailure(
            event_message(events.BACKUP_GROUP_FAILED, scopes=", ".join(sorted(scopes))),
            result={"backup_ids": run_ids},
        )
    return {"backup_ids": run_ids}


def _policy(run: BackupRun) -> BackupPolicy | None:
    return run.scope.policies.filter(kind=run.kind).first()


def perform_backup(
    *, run_id: int, progress: Progress, snapshot: engine.SharedSnapshot | None = None
) -> dict[str, Any]:
    """Worker side: write the encrypted file atomically, copy it to the remote store, verify.

    ``snapshot``: the moment a full backup holds, so all its scopes fit together."""
    run = BackupRun.objects.select_related("scope").get(pk=run_id)
    BackupRun.objects.filter(pk=run.pk).update(state=RunState.RUNNING)
    try:
        keyring = get_keyring()
        local_dir = Path(settings.BACKUP_LOCAL_DIR)
        local_dir.mkdir(parents=True, exist_ok=True)
        engine.remove_stale_partials(local_dir, older_than=6 * 3600)
        name = _reserve_file_name(run)
        progress.log(event_message(events.LOG_WRITING, name=name))
        scope = run.scope
        result = engine.run_backup(
            source_url=settings.ORDER_SYSTEM_DATABASE_URL,
            tables=list(scope.tables),
            out_path=local_dir / name,
            keyring=keyring,
            log_dir=(scope.log_dir or settings.ORDER_SYSTEM_LOG_DIR) if scope.is_logs else None,
            log_pattern=scope.log_pattern or None,
            scope=scope.slug,
            kind=run.kind,
            progress=lambda pct, step: progress.update(
                percent=int(pct * 0.85), step=step_text(step)
            ),
            level=settings.BACKUP_COMPRESSION_LEVEL,
            max_rate=settings.BACKUP_MAX_RATE,
            snapshot=None if scope.is_logs else snapshot,
        )
        BackupRun.objects.filter(pk=run.pk).update(
            local_path=str(result.path),
            size=result.size,
            sha256=result.sha256,
            key_id=result.manifest.get("key_id", keyring.current()[0]),
            manifest=result.manifest,
        )
        progress.log(
            event_message(events.LOG_LOCAL_WRITTEN, size=result.size, sha=result.sha256[:16])
        )
        policy = _policy(run)
        remote_state, remote_name = str(CopyState.NONE), ""
        if policy is None or policy.keep_remote:
            progress.update(percent=88, step=gettext_lazy("Copying to the remote store"))
            remote_name, remote_state = _copy_to_remote(result.path, result.sha256)
            progress.log(event_message(events.LOG_REMOTE_VERIFIED, name=remote_name))
    except RUN_FAILURES as exc:
        _fail_backup(run.pk, exc)
        raise errors.job_failure(exc) from exc
    except Exception as exc:
        _fail_backup(run.pk, exc)
        raise
    now = timezone.now()
    with transaction.atomic():
        run = BackupRun.objects.select_for_update().select_related("scope").get(pk=run.pk)
        if run.state != RunState.RUNNING:
            # Declared dead (heartbeat silent) while it was still working: "failed" stands.
            progress.log(event_message(events.LOG_BACKUP_STAYS_FAILED))
            if run.error_code:
                raise JobFailure(BackupsError(run.error_code), params=run.error_params)
            raise JobFailure(run.error or BackupsError.BACKUP_ALREADY_FAILED)
        run.state = RunState.COMPLETE
        run.remote_name = remote_name
        run.remote_state = remote_state
        run.finished_at = now
        run.last_verified_at = now
        run.last_verify_ok = True
        run._change_reason = "backup complete"
        run.save()
    post_to_timeline(
        kind="backup.completed",
        name=run.file_name,
        scope=run.scope.name,
        by=run.started_by,
    )
    return {
        "backup_id": run.pk,
        "file_name": run.file_name,
        "local_path": run.local_path,
        "size": run.size,
    }


def _fail_backup(run_id: int, exc: BaseException) -> None:
    """Record why, as a code shown in each reader's language (and as text, for the log)."""
    run = BackupRun.objects.get(pk=run_id)
    run.state = RunState.FAILED
    run.error = explain(exc)
    run.error_code, run.error_params = errors.classify(exc)
    run.finished_at = timezone.now()
    run._change_reason = "backup failed"
    run.save()


def _copy_to_remote(path: Path, sha256: str) -> tuple[str, str]:
    """Copy to the remote storage and read it back: a copy that was not verified is no copy."""
    storage = storages["backups_remote"]
    try:
        with open(path, "rb") as f:
            name = storage.save(path.name, f)
        with storage.open(name, "rb") as f:
            remote_sha = sha256_of(f)
    except Exception as exc:  # noqa: BLE001 - any storage backend error means "remote down"
        raise DomainError(BackupsError.REMOTE_STORE_FAILED, params={"error": str(exc)}) from exc
    if remote_sha != sha256:
        raise DomainError(BackupsError.REMOTE_COPY_DIFFERS)
    return name, CopyState.VERIFIED
