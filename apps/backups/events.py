"""The backups app's timeline event kinds (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

from apps.core.events import register_event_kind

from .choices import BackupKind

BACKUP_TITLE = "backups.job.backup"
VERIFY_TITLE = "backups.job.verify"
RESTORE_TITLE = "backups.job.restore"
# The engine's steps that name a table or a file (its fixed steps are plain lazy translations).
NAMED_STEPS = {
    "Backing up table ": "backups.step.table",
    "Backing up log file ": "backups.step.log_file",
    "Loading table ": "backups.step.load_table",
}


def register() -> None:
    register_event_kind(
        BACKUP_TITLE,
        _("Backup"),
        _("Backup of %(scope)s (%(kind)s)"),
        choices={"kind": BackupKind},
    )
    register_event_kind(VERIFY_TITLE, _("Backup"), _("Verify %(name)s"))
    register_event_kind(RESTORE_TITLE, _("Restore"), _("Restore #%(id)s into %(target)s"))
    register_event_kind(
        NAMED_STEPS["Backing up table "], _("Backup"), _("Backing up table %(name)s")
    )
    register_event_kind(
        NAMED_STEPS["Backing up log file "], _("Backup"), _("Backing up log file %(name)s")
    )
    register_event_kind(NAMED_STEPS["Loading table "], _("Restore"), _("Loading table %(name)s"))
    register_event_kind(
        "backup.completed", _("Backup"), _("Backup %(name)s completed (%(scope)s)."), icon="💾"
    )
    register_event_kind(
        "restore.verified",
        _("Restore"),
        _("Restore #%(id)s into %(target)s finished: all checks passed."),
        icon="♻",
    )
    register_event_kind(
        "restore.warnings",
        _("Restore"),
        _("Restore #%(id)s into %(target)s finished: some checks failed."),
        icon="⚠",
    )
