"""The backups app's timeline event kinds (rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

from apps.core.events import register_event_kind


def register() -> None:
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
