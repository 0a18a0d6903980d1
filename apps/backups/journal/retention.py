"""Which journal segments retention may delete: those no retained backup needs.

A point-in-time restore replays the segments after its base backup's WAL position, so a segment
that ends before the position of the oldest backup still kept (locally or remotely) of a
journaled scope can go. Its row stays, with ``pruned_at`` set: the record of the deletion.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from apps.backups import engine
from apps.backups.choices import BackupKind, CopyState, RunState
from apps.backups.events import RETENTION_SEGMENT_UNNEEDED
from apps.backups.models import BackupRun, JournalSegment
from apps.core.events import message

JOURNAL = "journal"


def oldest_needed_position() -> int | None:
    """The WAL position of the oldest retained backup of a journaled scope (None: keep all)."""
    positions = []
    runs = BackupRun.objects.filter(
        state=RunState.COMPLETE, scope__policies__kind=BackupKind.REALTIME
    ).distinct()
    for run in runs:
        has_copy = bool(run.local_path and Path(run.local_path).exists()) or (
            run.remote_state == CopyState.VERIFIED
        )
        lsn = ((run.manifest or {}).get("source") or {}).get("wal_lsn")
        if has_copy and lsn:
            positions.append(engine.parse_lsn(lsn))
    return min(positions) if positions else None


def plan_segment_pruning(deletion: Callable[..., Any]) -> list[Any]:
    """``deletion(id, file_name, store, reason)`` makes each planned item (retention's type)."""
    needed_from = oldest_needed_position()
    if needed_from is None:
        return []
    reason = message(RETENTION_SEGMENT_UNNEEDED)
    return [
        deletion(segment.pk, segment.file_name, JOURNAL, reason)
        for segment in JournalSegment.objects.filter(
            pruned_at__isnull=True, end_lsn__lte=needed_from
        ).order_by("end_lsn")
    ]


def delete_segment(deletion: Any) -> None:
    with transaction.atomic():
        segment = JournalSegment.objects.select_for_update().get(pk=deletion.backup_id)
        if segment.pruned_at is not None:
            return
        needed_from = oldest_needed_position()
        if needed_from is None or segment.end_lsn > needed_from:
            deletion.error = gettext_lazy("kept: a retained backup needs it")
            return
        if segment.local_path:
            Path(segment.local_path).unlink(missing_ok=True)
        if segment.remote_name and segment.remote_state == CopyState.VERIFIED:
            storages["backups_remote"].delete(segment.remote_name)
        JournalSegment.objects.filter(pk=segment.pk).update(
            pruned_at=timezone.now(), local_path="", remote_state=CopyState.MISSING
        )
        deletion.done = True
