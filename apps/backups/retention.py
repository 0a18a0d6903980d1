"""Retention: old backup files leave the local store first and the remote store later.

Per policy (a scope and a kind), newest first:

* the remote store keeps the policy's ``retention`` newest copies;
* the local store keeps ``min(retention, BACKUP_LOCAL_KEEP)`` of them when the policy keeps a
  local copy, none when it does not (once the remote copy is verified), and ``retention`` when
  the policy keeps no remote copy (the local file is then the only one);
* a local file whose remote copy is not verified stays until it leaves the retention window:
  it is the only copy.

Never deleted, whatever the counts say: the newest verified backup of each scope and kind, a
file that a queued or running restore (or rehearsal) reads, a file of a full backup under way,
and journal segments still needed by a retained full backup (``journal.retention``).
Every deletion is an audit row (``BackupAudit`` "deleted by retention") and a history row on the
backup; ``plan_pruning`` is the dry run: what would go, and why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import storages
from django.db import transaction
from django.utils.translation import gettext_lazy

from apps.core.events import as_stored, message
from apps.core.jobs import Progress, start_job

from . import events
from .choices import CopyState, RunState
from .models import BackupAudit, BackupPolicy, BackupRun, FullBackup, RestoreRun

logger = logging.getLogger(__name__)

LOCAL, REMOTE = "local", "remote"


@dataclass
class Deletion:
    """One file retention removes: which backup, from which store, and why."""

    backup_id: int
    file_name: str
    store: str  # LOCAL, REMOTE or journal.retention.JOURNAL
    reason: Any  # a ``message(...)``: rendered in the reader's language when shown
    done: bool = False
    error: Any = ""  # a ``message(...)``, a lazy translation or an exception's text

    def as_dict(self) -> dict[str, Any]:
        """For the job's result: reason and error as data (kind + params) beside their text."""
        return {
            "backup_id": self.backup_id,
            "file_name": self.file_name,
            "store": self.store,
            "reason": as_stored(self.reason),
            "done": self.done,
            "error": as_stored(self.error) if self.error else "",
        }


@dataclass
class PruningPlan:
    deletions: list[Deletion] = field(default_factory=list)
    kept_because: dict[int, str] = field(default_factory=dict)


def _busy_backup_ids() -> set[int]:
    """Backups a queued or running restore, rehearsal or full backup is reading or writing."""
    busy = set(
        RestoreRun.objects.filter(state__in=[RunState.QUEUED, RunState.RUNNING]).values_list(
            "backups__id", flat=True
        )
    )
    busy |= set(FullBackup.objects.filter(is_active=True).values_list("backups__id", flat=True))
    busy |= set(
        BackupRun.objects.filter(state__in=[RunState.QUEUED, RunState.RUNNING]).values_list(
            "id", flat=True
        )
    )
    busy.discard(None)
    return busy


def _newest_verified_ids() -> set[int]:
    """The newest verified backup of each scope and kind (what a restore would pick)."""
    ids = set()
    for policy in BackupPolicy.objects.all():
        newest = (
            BackupRun.objects.filter(
                scope_id=policy.scope_id,
                kind=policy.kind,
                state=RunState.COMPLETE,
                last_verify_ok=True,
            )
            .order_by("-finished_at", "-pk")
            .values_list("pk", flat=True)
            .first()
        )
        if newest:
            ids.add(newest)
    return ids


def _has_local(run: BackupRun) -> bool:
    return bool(run.local_path) and Path(run.local_path).exists()


def _has_remote(run: BackupRun) -> bool:
    return bool(run.remote_name) and run.remote_state == CopyState.VERIFIED


def plan_pruning() -> PruningPlan:
    """What retention would delete now (the dry run), without touching anything."""
    plan = PruningPlan()
    busy = _busy_backup_ids()
    newest = _newest_verified_ids()
    for policy in BackupPolicy.objects.select_related("scope").order_by("scope__position", "kind"):
        remote_keep = policy.retention
        if not policy.keep_remote:
            local_keep = policy.retention
        elif policy.keep_local:
            local_keep = min(policy.retention, settings.BACKUP_LOCAL_KEEP)
        else:
            local_keep = 0
        runs = BackupRun.objects.filter(
            scope=policy.scope, kind=policy.kind, state=RunState.COMPLETE
        ).order_by("-finished_at", "-pk")
        for index, run in enumerate(runs):
            if index < local_keep:
                continue
            if run.pk in newest:
                plan.kept_because[run.pk] = "newest verified"
                continue
            if run.pk in busy:
                plan.kept_because[run.pk] = "in use"
                continue
            beyond = index >= remote_keep
            if _has_local(run) and (beyond or _has_remote(run)):
                reason = (
                    message(events.RETENTION_BEYOND, n=remote_keep)
                    if beyond
                    else message(events.RETENTION_LOCAL_LIMIT, n=local_keep)
                )
                plan.deletions.append(Deletion(run.pk, run.file_name, LOCAL, reason))
            if beyond and _has_remote(run):
                plan.deletions.append(
                    Deletion(
                        run.pk,
                        run.file_name,
                        REMOTE,
                        message(events.RETENTION_BEYOND, n=remote_keep),
                    )
                )
    return plan


def _delete(deletion: Deletion, *, by) -> None:
    """Remove one file and record it, with the backup's row locked and the rules checked again."""
    with transaction.atomic():
        run = BackupRun.objects.select_for_update().get(pk=deletion.backup_id)
        if run.pk in _busy_backup_ids() or run.pk in _newest_verified_ids():
            deletion.error = gettext_lazy("kept: it is in use or the newest verified backup")
            return
        if deletion.store == LOCAL:
            if not _has_local(run):
                return
            Path(run.local_path).unlink(missing_ok=True)
            kind = events.RETENTION_DELETED_LOCAL
            run.local_path = ""
        else:
            if not _has_remote(run):
                return
            storages["backups_remote"].delete(run.remote_name)
            kind = events.RETENTION_DELETED_REMOTE
            run.remote_state = CopyState.MISSING
        run._change_reason = f"retention: {deletion.store} copy deleted"
        run.save(update_fields=["local_path", "remote_state"])
        BackupAudit.record(
            run,
            BackupAudit.Action.PRUNE,
            by=by,
            detail=message(kind, reason=as_stored(deletion.reason)),
        )
        deletion.done = True


def prune(*, dry_run: bool = False, by=None, progress: Progress | None = None) -> PruningPlan:
    """Apply retention (or, with ``dry_run``, only say what would go)."""
    plan = plan_pruning()
    from .journal import retention as journal_retention

    plan.deletions.extend(
        journal_retention.plan_segment_pruning(Deletion)
    )  # after the backups' plan
    if dry_run:
        return plan
    total = len(plan.deletions) or 1
    for n, deletion in enumerate(plan.deletions):
        try:
            if deletion.store in (LOCAL, REMOTE):
                _delete(deletion, by=by)
            else:
                journal_retention.delete_segment(deletion)
        except Exception as exc:  # noqa: BLE001 - one store's failure must not stop the others
            logger.warning("retention could not delete %s: %s", deletion.file_name, exc)
            deletion.error = f"{type(exc).__name__}: {exc}"
        if progress is not None:
            progress.update(percent=int((n + 1) * 100 / total), step=deletion.file_name)
    return plan


def prune_job(*, progress: Progress, dry_run: bool = False, by_id: int | None = None) -> dict:
    from django.contrib.auth import get_user_model

    by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    plan = prune(dry_run=dry_run, by=by, progress=progress)
    return {
        "dry_run": dry_run,
        "deleted": sum(1 for d in plan.deletions if d.done),
        "failed": sum(1 for d in plan.deletions if d.error),
        "deletions": [d.as_dict() for d in plan.deletions][:500],
    }


def start_pruning(*, dry_run: bool = False, by=None):
    """Run retention as a tracked job on the backups queue (the scheduler calls this hourly)."""
    return start_job(
        kind="backup.prune",
        title=gettext_lazy("Delete old backup files (retention)"),
        func="apps.backups.retention.prune_job",
        kwargs={"dry_run": dry_run, "by_id": by.pk if by else None},
        queue="backups",
        by=by,
    )
