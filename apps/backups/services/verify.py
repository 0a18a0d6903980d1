"""Locating a backup's file (local or remote, checked against its SHA-256) and verifying it."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import storages
from django.utils import timezone
from django.utils.translation import gettext_lazy

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.core.events import message as event_message
from apps.core.events import render_event
from apps.core.jobs import start_job
from apps.core.models import JobRecord

from .. import engine, events
from ..errors import BackupsError, classify, error_text
from ..models import BackupAudit, BackupRun
from .common import sha256_of
from .keys import get_keyring

logger = logging.getLogger(__name__)


# --- locating and verifying files ---------------------------------------------------------------
def check_backup_name(name: str) -> str:
    """A backup is named by its file name alone: anything path-like is refused."""
    name = (name or "").strip()
    if (
        not name
        or name in (".", "..")
        or any(ch in name for ch in ("/", "\\", "\x00"))
        or Path(name).name != name
    ):
        raise DomainError(BackupsError.NOT_A_BACKUP_NAME, params={"name": repr(name)})
    return name


def find_backup(name: str) -> BackupRun | None:
    """The backup with this file name; ``DomainError`` for a path instead of a name."""
    return BackupRun.objects.filter(file_name=check_backup_name(name)).first()


def _matches_record(path: Path, run: BackupRun) -> bool:
    with open(path, "rb") as f:
        return sha256_of(f) == run.sha256


def verified_file_for(run: BackupRun) -> Path:
    """A copy whose SHA-256 is the one recorded when the backup was made.

    A damaged local copy is replaced by the remote one (itself checked); when neither
    matches, nothing is served. Downloads and restores use this.
    """
    local = Path(run.local_path) if run.local_path else None
    if local is not None and local.exists():
        if not run.sha256 or _matches_record(local, run):
            return local
        logger.warning("local copy of %s is damaged; fetching the remote copy", run.file_name)
        BackupAudit.record(
            run,
            BackupAudit.Action.VERIFY,
            detail=gettext_lazy("The local copy was damaged; it was replaced by the remote copy."),
        )
    return local_file_for(run, ignore_local=True)


def local_file_for(run: BackupRun, *, ignore_local: bool = False) -> Path:
    """The local file, fetched back from the remote store when the local copy is gone."""
    if not ignore_local and run.local_path and Path(run.local_path).exists():
        return Path(run.local_path)
    if run.remote_name:
        storage = storages["backups_remote"]
        try:
            exists = storage.exists(run.remote_name)
        except Exception as exc:  # noqa: BLE001
            raise DomainError(BackupsError.REMOTE_STORE_FAILED, params={"error": str(exc)}) from exc
        if exists:
            target = Path(settings.BACKUP_LOCAL_DIR) / run.file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.fetch")
            with storage.open(run.remote_name, "rb") as src, open(tmp, "wb") as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    dst.write(block)
                dst.flush()
                os.fsync(dst.fileno())
            with open(tmp, "rb") as f:
                if sha256_of(f) != run.sha256:
                    tmp.unlink()
                    raise DomainError(
                        BackupsError.REMOTE_COPY_DAMAGED, params={"name": run.file_name}
                    )
            os.replace(tmp, target)
            BackupRun.objects.filter(pk=run.pk).update(local_path=str(target))
            return target
    if ignore_local and run.local_path and Path(run.local_path).exists():
        raise DomainError(BackupsError.LOCAL_DAMAGED, params={"name": run.file_name})
    raise DomainError(BackupsError.BACKUP_MISSING, params={"name": run.file_name})


# Errors that prove the file itself is bad (as opposed to this host lacking a key or a store).
_DAMAGE = (
    engine.TamperedError,
    engine.TruncatedError,
    engine.PayloadError,
    engine.BadFormatError,
    engine.WrongKeyError,
    engine.ChecksumMismatchError,
)


@dataclass
class VerifyOutcome:
    """A verification's outcome: intact, or a ``BackupsError`` code and its parameters."""

    ok: bool
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    report: engine.VerifyReport | None = None

    @property
    def message(self) -> str:
        """The outcome in the active language."""
        if self.ok:
            return render_event(events.VERIFY_INTACT, self.params)
        return error_text(self.code, self.params)

    def as_message(self) -> Any:
        """The outcome as data for an audit row, re-rendered in each reader's language."""
        if self.ok:
            return event_message(events.VERIFY_INTACT, **self.params)
        return DomainError(BackupsError(self.code), params=self.params).message

    @classmethod
    def failed(cls, exc: BaseException) -> VerifyOutcome:
        code, params = classify(exc)
        return cls(False, code, params)


def verify_backup(*, name: str, by: User | None = None) -> VerifyOutcome:
    """End-to-end check of one backup, by name, without restoring; recorded on its run."""
    try:
        run = find_backup(name)
    except DomainError as exc:
        return VerifyOutcome.failed(exc)
    if run is None:
        return VerifyOutcome(False, BackupsError.NO_SUCH_BACKUP, {"name": repr(name)})
    try:
        path = local_file_for(run)
    except DomainError as exc:
        outcome, damaged = VerifyOutcome.failed(exc), False
    else:
        outcome, damaged = _verify(path, run)
    fields: dict[str, Any] = {"last_verified_at": timezone.now()}
    if outcome.ok or damaged:
        fields["last_verify_ok"] = outcome.ok
    BackupRun.objects.filter(pk=run.pk).update(**fields)
    BackupAudit.record(run, BackupAudit.Action.VERIFY, by=by, detail=outcome.as_message())
    return outcome


def verify_file(*, path: str) -> VerifyOutcome:
    """An operator's explicit check of a file outside the stores (``verify_backup --file``).

    Nothing is recorded: the file is no backup of this site until it is in a store.
    """
    file = Path(path)
    if not file.is_file():
        return VerifyOutcome(False, BackupsError.NO_SUCH_FILE, {"path": path})
    outcome, _damaged = _verify(file, None)
    return outcome


def _verify(path: Path, run: BackupRun | None) -> tuple[VerifyOutcome, bool]:
    """The outcome, and whether it proves the file damaged (not just unreadable here)."""
    try:
        report = engine.verify_file(path, get_keyring())
    except _DAMAGE as exc:
        return VerifyOutcome.failed(exc), True
    except (engine.EngineError, OSError, DomainError) as exc:
        # A missing key or an unreachable store says nothing about the file itself.
        return VerifyOutcome.failed(exc), False
    if run is not None and run.sha256 and report.sha256 != run.sha256:
        return VerifyOutcome(False, BackupsError.SHA_DIFFERS_FROM_RECORD), True
    figures = {
        "tables": len(report.tables),
        "rows": sum(t.rows for t in report.tables),
        "size": report.size,
    }
    return VerifyOutcome(True, "", figures, report), False


def start_verify(*, run: BackupRun, by: User | None = None) -> JobRecord:
    """Verify on a worker: a large file (maybe fetched from the remote store) takes a while."""
    return start_job(
        kind="backup.verify",
        title=event_message(events.VERIFY_TITLE, name=run.file_name),
        func="apps.backups.jobs.verify_job",
        kwargs={"run_id": run.pk, "by_id": by.pk if by else None},
        queue="backups",
        by=by,
    )


def record_download(*, run: BackupRun, by: User | None) -> None:
    BackupAudit.record(run, BackupAudit.Action.DOWNLOAD, by=by)
