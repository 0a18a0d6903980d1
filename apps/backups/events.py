"""The backups app's timeline event kinds (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

from apps.core.events import register_event_kind

from .choices import BackupKind

BACKUP_TITLE = "backups.job.backup"
BACKUP_GROUP_TITLE = "backups.job.backup_group"
BACKUP_GROUP_FAILED = "backups.backup_group.failed"
VERIFY_TITLE = "backups.job.verify"
RESTORE_TITLE = "backups.job.restore"
# Why a restore uses the backups it does (``Proposal.why``, ``RestoreRun.reasons``).
REASON_REALTIME = "backups.reason.realtime"
REASON_DAILY = "backups.reason.daily"
REASON_NONE = "backups.reason.none"
REASON_SKIPPED = "backups.reason.skipped"
REASON_WITH_SKIPPED = "backups.reason.with_skipped"
REASON_CHOSEN = "backups.reason.chosen"
REASON_LINE = "backups.reason.line"
# Point-in-time restore: why these backups, and where the journal stops short (``Plan.gap``).
REASON_POINT_IN_TIME = "backups.reason.point_in_time"
GAP_JOURNAL_STARTED_LATER = "backups.gap.journal_started_later"
GAP_AFTER_BACKUP = "backups.gap.after_backup"
GAP_AFTER_SEGMENT = "backups.gap.after_segment"
GAP_UNREADABLE_SEGMENT = "backups.gap.unreadable_segment"
STEP_REPLAY = "backups.step.replay"
STEP_READ_JOURNAL = "backups.step.read_journal"
STEP_REPLAY_ALL = "backups.step.replay_all"
VERIFY_INTACT = "backups.verify.intact"
# Retention: why a file goes (``Deletion.reason``) and its audit row's detail.
RETENTION_BEYOND = "backups.retention.beyond"
RETENTION_LOCAL_LIMIT = "backups.retention.local_limit"
RETENTION_SEGMENT_UNNEEDED = "backups.retention.segment_unneeded"
RETENTION_DELETED_LOCAL = "backups.retention.deleted_local"
RETENTION_DELETED_REMOTE = "backups.retention.deleted_remote"
# Job log lines of backups and restores.
LOG_WRITING = "backups.log.writing"
LOG_LOCAL_WRITTEN = "backups.log.local_written"
LOG_REMOTE_VERIFIED = "backups.log.remote_verified"
LOG_BACKUP_STAYS_FAILED = "backups.log.backup_stays_failed"
LOG_RESTORING = "backups.log.restoring"
LOG_RESTORE_STAYS_FAILED = "backups.log.restore_stays_failed"
# The engine's steps that name a table or a file (its fixed steps are plain lazy translations).
NAMED_STEPS = {
    "Backing up table ": "backups.step.table",
    "Backing up log file ": "backups.step.log_file",
    "Loading table ": "backups.step.load_table",
}


def register() -> None:
    label = _("Retention")
    register_event_kind(RETENTION_BEYOND, label, _("older than the %(n)s copies kept"))
    register_event_kind(
        RETENTION_LOCAL_LIMIT,
        label,
        _("the local store keeps %(n)s copies; the remote copy is verified"),
    )
    register_event_kind(RETENTION_SEGMENT_UNNEEDED, label, _("no retained backup needs it"))
    register_event_kind(
        RETENTION_DELETED_LOCAL, label, _("Deleted by retention from the local store: %(reason)s")
    )
    register_event_kind(
        RETENTION_DELETED_REMOTE,
        label,
        _("Deleted by retention from the remote store: %(reason)s"),
    )
    register_event_kind(
        BACKUP_TITLE,
        _("Backup"),
        _("Backup of %(scope)s (%(kind)s)"),
        choices={"kind": BackupKind},
    )
    register_event_kind(
        BACKUP_GROUP_TITLE, _("Backup"), _("Backup of %(scopes)s (one moment of the order system)")
    )
    register_event_kind(
        BACKUP_GROUP_FAILED,
        _("Backup"),
        _("The backups of %(scopes)s failed; the others are kept."),
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
        REASON_REALTIME, _("Restore"), _("Newest intact real-time backup (%(when)s).")
    )
    register_event_kind(
        REASON_DAILY,
        _("Restore"),
        _("No intact real-time backup: falling back to the newest daily backup (%(when)s)."),
    )
    register_event_kind(REASON_NONE, _("Restore"), _("No intact backup of this scope exists."))
    register_event_kind(
        REASON_SKIPPED,
        _("Restore"),
        _(
            "Skipped %(count)s newer backup(s) made with a master key that is not configured "
            "here (%(keys)s), e.g. %(name)s."
        ),
    )
    register_event_kind(REASON_WITH_SKIPPED, _("Restore"), "%(reason)s %(skipped)s")
    register_event_kind(REASON_CHOSEN, _("Restore"), _("chosen by staff"))
    register_event_kind(REASON_LINE, _("Restore"), "%(scope)s: %(name)s — %(why)s")
    register_event_kind(
        REASON_POINT_IN_TIME,
        _("Restore"),
        _("Point in time %(until)s: %(backups)s, then %(seconds)s seconds of journaled changes."),
    )
    register_event_kind(STEP_REPLAY, _("Restore"), _("Replaying the journal: %(name)s"))
    register_event_kind(STEP_READ_JOURNAL, _("Restore"), _("Reading the journal: %(name)s"))
    register_event_kind(STEP_REPLAY_ALL, _("Restore"), _("Replaying %(n)s journaled transactions"))
    register_event_kind(
        GAP_JOURNAL_STARTED_LATER,
        _("Restore"),
        _("The journal started after the backup; only the backup can be restored."),
    )
    register_event_kind(
        GAP_AFTER_BACKUP, _("Restore"), _("Journal segments are missing right after the backup.")
    )
    register_event_kind(
        GAP_AFTER_SEGMENT, _("Restore"), _("A journal segment is missing after %(name)s.")
    )
    register_event_kind(
        GAP_UNREADABLE_SEGMENT,
        _("Restore"),
        _(
            "Journal segment %(name)s cannot be read (%(error)s): the restore stops at "
            "the last consistent point before it."
        ),
    )
    register_event_kind(
        VERIFY_INTACT,
        _("Backup"),
        _("Intact: %(tables)s tables, %(rows)s rows, %(size)s bytes."),
    )
    register_event_kind(LOG_WRITING, _("Backup"), _("Writing %(name)s"))
    register_event_kind(
        LOG_LOCAL_WRITTEN, _("Backup"), _("Local copy written: %(size)s bytes, SHA-256 %(sha)s")
    )
    register_event_kind(LOG_REMOTE_VERIFIED, _("Backup"), _("Remote copy verified: %(name)s"))
    register_event_kind(
        LOG_BACKUP_STAYS_FAILED,
        _("Backup"),
        _("This backup had already been marked failed; it stays failed."),
    )
    register_event_kind(LOG_RESTORING, _("Restore"), _("Restoring %(name)s"))
    register_event_kind(
        LOG_RESTORE_STAYS_FAILED,
        _("Restore"),
        _("This restore had already been marked failed; it stays failed."),
    )
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
