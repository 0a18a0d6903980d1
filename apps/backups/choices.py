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


# Plan names used in file names: <date><scope><type>.bak, e.g. 20210801订单数据实时备份.bak
PLAN_KIND_WORDS = {BackupKind.REALTIME: "实时备份", BackupKind.DAILY: "每日备份"}


def __getattr__(name: str) -> object:
    """``choices.ErrorCode`` was folded into ``errors.BackupsError`` (same values): old imports work."""
    if name == "ErrorCode":
        from .errors import BackupsError

        return BackupsError
    raise AttributeError(name)
