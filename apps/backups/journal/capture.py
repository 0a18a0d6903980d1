"""The journal process: committed changes of the real-time scopes' tables into segments.

``manage.py run_journal`` loops over ``JournalProcess.step``: peek complete transactions after
the slot's confirmed position, write them as one encrypted segment (fsynced, renamed), record
the segment and the new durable position in one database transaction, and only then confirm
the slot. Started again after a crash (SIGKILL included), it first confirms what is already
recorded, and ignores any transaction at or before the recorded position: nothing is lost
(the slot keeps every change until confirmed) and nothing is written twice. Segments are then
copied to the remote store and read back; a copy that failed is retried by the health check.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import storages
from django.db import close_old_connections, transaction
from django.utils import timezone

from apps.backups import engine, services
from apps.backups.choices import BackupKind, CopyState
from apps.backups.engine import gateway
from apps.backups.models import BackupScope, JournalSegment, JournalState
from apps.core.events import as_stored, message

from .reasons import SLOT_AHEAD

logger = logging.getLogger(__name__)


def journal_available() -> bool:
    """The journal needs a PostgreSQL order system (SQLite keeps frequent snapshots)."""
    return settings.ORDER_SYSTEM_DATABASE_URL.startswith(("postgres://", "postgresql://"))


def _qualified(table: str) -> str:
    return table if "." in table else f"public.{table}"


def journal_tables() -> set[str]:
    """The tables of every scope with a real-time policy (``public.`` when unqualified)."""
    scopes = BackupScope.objects.filter(policies__kind=BackupKind.REALTIME).distinct()
    return {_qualified(t) for scope in scopes for t in scope.tables}


def realtime_scope_slugs() -> set[str]:
    return set(
        BackupScope.objects.filter(policies__kind=BackupKind.REALTIME).values_list(
            "slug", flat=True
        )
    )


def segment_file_name(*, end_lsn: int, when) -> str:
    """The plan's rule (date, then what it is) plus the position the segment ends at."""
    day = timezone.localtime(when).strftime("%Y%m%d")
    if settings.BACKUP_NAME_STYLE == "ascii":
        return f"{day}-journal-{end_lsn:016X}.seg"
    return f"{day}实时变更日志-{end_lsn:016X}.seg"


def journal_dir() -> Path:
    path = Path(settings.BACKUP_LOCAL_DIR) / "journal"
    path.mkdir(parents=True, exist_ok=True)
    return path


class JournalProcess:
    def __init__(self, *, url: str | None = None, slot: str | None = None) -> None:
        self.url = url or settings.ORDER_SYSTEM_DATABASE_URL
        self.slot_name = slot or settings.JOURNAL_SLOT_NAME
        self.keyring = services.get_keyring()
        self.slot = engine.JournalSlot(self.url, self.slot_name)
        self.tables = journal_tables()

    def close(self) -> None:
        self.slot.close()

    def start(self) -> JournalState:
        """Create the slot (and the state) on first start; on a restart, confirm on the slot
        what is already durable (a crash may have come between recording and confirming)."""
        if not self.slot.try_lock():
            raise engine.JournalError(
                f"Another journal process is reading slot {self.slot_name}; this one waits."
            )
        confirmed = self.slot.ensure()
        state, created = JournalState.objects.get_or_create(
            slot=self.slot_name,
            defaults={
                "start_lsn": confirmed,
                "written_lsn": confirmed,
                "started_at": timezone.now(),
            },
        )
        if not created and state.written_lsn > confirmed:
            self.slot.advance(state.written_lsn)
        elif not created and state.written_lsn < confirmed:
            # The slot is ahead of what we recorded: changes in between were consumed by
            # someone else and are lost to this journal. Say so; do not pretend continuity.

            reason = message(
                SLOT_AHEAD,
                confirmed=engine.format_lsn(confirmed),
                written=engine.format_lsn(state.written_lsn),
            )
            state.last_error = str(reason)
            state.last_error_event = as_stored(reason)
            state.save(update_fields=["last_error", "last_error_event"])
        self.state = state
        return state

    def step(self) -> JournalSegment | None:
        """Journal what was committed since the last step; the segment, or None if nothing."""
        txns, last_commit = self.slot.peek(
            max_changes=settings.JOURNAL_MAX_CHANGES, tables=self.tables
        )
        written = self.state.written_lsn
        txns = [t for t in txns if t.lsn > written]
        now = timezone.now()
        if last_commit <= written:
            JournalState.objects.filter(pk=self.state.pk).update(heartbeat_at=now)
            return None
        when = txns[-1].commit_time if txns else now
        name = segment_file_name(end_lsn=last_commit, when=when)
        result = engine.write_journal_segment(
            journal_dir() / name,
            txns,
            keyring=self.keyring,
            start_lsn=written,
            end_lsn=last_commit,
        )
        with transaction.atomic():
            segment = JournalSegment.objects.create(
                slot=self.slot_name,
                file_name=name,
                start_lsn=written,
                end_lsn=last_commit,
                first_commit_at=txns[0].commit_time if txns else None,
                last_commit_at=txns[-1].commit_time if txns else None,
                transactions=len(txns),
                changes=sum(len(t.changes) for t in txns),
                tables=result.manifest["tables"],
                local_path=str(result.path),
                size=result.size,
                sha256=result.sha256,
                key_id=result.manifest["key_id"],
            )
            fields: dict[str, Any] = {
                "written_lsn": last_commit,
                "heartbeat_at": now,
                "last_error": "",
                "last_error_event": {},
            }
            if txns:
                fields["last_commit_at"] = txns[-1].commit_time
            # Conditional on the position we started from: never two writers of one chain.
            if not JournalState.objects.filter(pk=self.state.pk, written_lsn=written).update(
                **fields
            ):
                raise engine.JournalError("The journal's position moved under this process.")
        self.state.written_lsn = last_commit
        self.slot.advance(last_commit)  # only now: the segment is durable and recorded
        copy_segment_to_remote(segment)
        return segment

    def run(
        self,
        *,
        stop: threading.Event,
        on_segment: Callable[[JournalSegment], None] | None = None,
    ) -> None:
        if not hasattr(self, "state"):
            self.start()
        while not stop.is_set():
            close_old_connections()
            segment = self.step()
            if segment is not None:
                if on_segment is not None:
                    on_segment(segment)
                continue  # more may be waiting: look again at once
            stop.wait(settings.JOURNAL_POLL_SECONDS)


def copy_segment_to_remote(segment: JournalSegment) -> bool:
    """Copy a segment to the remote store and read it back; False (and FAILED) if that fails."""
    storage = storages["backups_remote"]
    remote = f"journal/{segment.file_name}"
    try:
        with open(segment.local_path, "rb") as f:
            name = storage.save(remote, f)
        with storage.open(name, "rb") as f:
            sha = services.sha256_of(f)
        ok = sha == segment.sha256
    except Exception as exc:  # noqa: BLE001 - any storage failure: retried by the health check
        logger.warning("journal segment %s not copied to the remote store: %s", remote, exc)
        name, ok = "", False
    JournalSegment.objects.filter(pk=segment.pk).update(
        remote_name=name, remote_state=CopyState.VERIFIED if ok else CopyState.FAILED
    )
    return ok


__all__ = ["JournalProcess", "gateway", "journal_available"]
