from django.db import models
from django.utils.translation import gettext_lazy as _


class BackupKind(models.TextChoices):
    REALTIME = "realtime", _("Real-time")
    DAILY = "daily", _("Daily")


class RunState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETE = "complete", _("Complete")
    FAILED = "failed", _("Failed")


class CopyState(models.TextChoices):
    NONE = "none", _("Not made")
    VERIFIED = "verified", _("Verified")
    MISSING = "missing", _("Missing")
    FAILED = "failed", _("Failed")


class SystemStatus(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    HEALTHY = "healthy", _("Healthy")
    RESTORING = "restoring", _("Restoring")
    RESTORED = "restored", _("Restored and verified")
    RESTORED_WITH_WARNINGS = "warnings", _("Restored, checks found problems")
    RESTORE_FAILED = "restore_failed", _("Restore failed")


class ErrorCode(models.TextChoices):
    """Why a backup, restore or check failed; ``errors.error_text`` renders the sentence."""

    MESSAGE = "message", _("Message")
    WRONG_KEY = "wrong_key", _("Wrong master key")
    UNKNOWN_KEY = "unknown_key", _("Unknown master key")
    TRUNCATED = "truncated", _("Truncated file")
    TAMPERED = "tampered", _("Damaged file")
    BAD_FORMAT = "bad_format", _("Unknown format")
    PAYLOAD = "payload", _("Contents differ from the manifest")
    CHECKSUM = "checksum", _("Checksum mismatch")
    TARGET_UNREACHABLE = "target_unreachable", _("Target unreachable")
    SOURCE_UNREACHABLE = "source_unreachable", _("Order system unreachable")
    FOREIGN_KEY = "foreign_key", _("Missing referenced rows")
    RESTORE_FAILED = "restore_failed", _("Restore failed")
    BACKUP_FAILED = "backup_failed", _("Backup failed")
    DISK_FULL = "disk_full", _("Disk full")
    FILE_NOT_FOUND = "file_not_found", _("File not found")
    CHECK_EMPTY = "check_empty", _("Empty check")
    CHECK_SEVERAL = "check_several", _("Several statements")
    CHECK_NOT_SELECT = "check_not_select", _("Not a SELECT")
    CHECK_SHAPE = "check_shape", _("Not one number")
    CHECK_TIMEOUT = "check_timeout", _("Check timed out")
    CHECK_WRITES = "check_writes", _("Check tried to write")
    CHECK_FAILED = "check_failed", _("Check failed")


# Plan names used in file names: <date><scope><type>.bak, e.g. 20210801订单数据实时备份.bak
PLAN_KIND_WORDS = {BackupKind.REALTIME: "实时备份", BackupKind.DAILY: "每日备份"}
