"""What the pages say about a scope's protection: the continuous journal, or snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.backups.choices import BackupKind
from apps.backups.models import BackupScope, JournalState

from .capture import journal_available


@dataclass
class BackupMode:
    continuous: bool
    text: str
    warning: bool = False


def backup_mode(scope: BackupScope) -> BackupMode:
    policies = list(scope.policies.all())
    shortest = min((p.interval_minutes for p in policies), default=None)
    snapshots = (
        _("Snapshots every %(minutes)s min") % {"minutes": shortest}
        if shortest
        else _("Backups by hand only")
    )
    realtime = any(p.kind == BackupKind.REALTIME for p in policies)
    if not realtime or not scope.tables:
        return BackupMode(False, snapshots)
    if not journal_available():
        return BackupMode(False, snapshots + " " + _("(SQLite order system: no journal)"))
    state = JournalState.objects.filter(slot=settings.JOURNAL_SLOT_NAME).first()
    stale = timezone.now() - timedelta(seconds=settings.JOURNAL_STALE_SECONDS)
    if state is None or state.heartbeat_at is None or state.heartbeat_at < stale:
        return BackupMode(
            False, snapshots + " " + _("(the change journal is not running)"), warning=True
        )
    if state.alarm:
        return BackupMode(
            True,
            _("Continuous journal — alarm: %(reason)s") % {"reason": state.last_error_text},
            warning=True,
        )
    return BackupMode(
        True,
        _("Continuous journal (durable up to %(when)s)")
        % {
            "when": timezone.localtime(state.last_commit_at or state.heartbeat_at).strftime(
                "%H:%M:%S"
            )
        },
    )
