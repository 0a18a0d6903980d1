"""Why the change journal is in alarm, as event kinds (rendered in each reader's language).

Shared by the capture process and the health check, so neither imports the other.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.events import register_event_kind

JOURNAL_ALARM = "backups.journal.alarm"
JOURNAL_RECOVERED = "backups.journal.recovered"
# Why the journal is in alarm (``JournalState.last_error_event``, the alarm's ``reason``).
SLOT_GONE = "backups.journal.slot_gone"
WAL_RETAINED = "backups.journal.wal_retained"
JOURNAL_STALE = "backups.journal.stale"
SLOT_AHEAD = "backups.journal.slot_ahead"


def register_events() -> None:
    register_event_kind(
        JOURNAL_ALARM,
        _("Backup"),
        _("Change journal alarm: %(reason)s"),
        icon="⚠",
    )
    register_event_kind(
        JOURNAL_RECOVERED, _("Backup"), _("The change journal is healthy again."), icon="💾"
    )
    register_event_kind(SLOT_GONE, _("Backup"), _("the replication slot %(slot)s is gone"))
    register_event_kind(
        WAL_RETAINED,
        _("Backup"),
        _("the order system keeps %(mb)s MB of WAL for the journal (limit %(limit)s MB)"),
    )
    register_event_kind(
        JOURNAL_STALE, _("Backup"), _("the journal process has not run since %(when)s")
    )
    register_event_kind(
        SLOT_AHEAD,
        _("Backup"),
        _(
            "the slot was confirmed past the journal (%(confirmed)s > %(written)s): "
            "changes in between are missing from the journal"
        ),
    )
