"""The journal's health, checked every minute by the scheduler.

* the slot's lag (WAL the order system keeps for it, and WAL not yet journaled) is measured and
  stored for the pages; past ``JOURNAL_LAG_ALARM_BYTES``, or when the journal process has been
  silent for ``JOURNAL_STALE_SECONDS``, an alarm is raised once (timeline + log) and cleared
  when healthy again;
* segments whose remote copy failed are copied again.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.backups import engine
from apps.backups.choices import CopyState
from apps.backups.models import JournalSegment, JournalState
from apps.core.events import register_event_kind
from apps.core.timeline import post_to_timeline

from .capture import copy_segment_to_remote, journal_available

logger = logging.getLogger(__name__)

JOURNAL_ALARM = "backups.journal.alarm"
JOURNAL_RECOVERED = "backups.journal.recovered"


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


def _alarm_reason(state: JournalState, info: dict[str, Any] | None) -> str:
    if info is None:
        return str(_("the replication slot %(slot)s is gone") % {"slot": state.slot})
    if info["retained_bytes"] > settings.JOURNAL_LAG_ALARM_BYTES:
        return str(
            _("the order system keeps %(mb)s MB of WAL for the journal (limit %(limit)s MB)")
            % {
                "mb": info["retained_bytes"] // 2**20,
                "limit": settings.JOURNAL_LAG_ALARM_BYTES // 2**20,
            }
        )
    stale = timezone.now() - timedelta(seconds=settings.JOURNAL_STALE_SECONDS)
    if state.heartbeat_at is None or state.heartbeat_at < stale:
        return str(
            _("the journal process has not run since %(when)s") % {"when": state.heartbeat_at}
        )
    return ""


def check_journal_health() -> int:
    """Measure every slot's lag, raise or clear alarms, retry remote copies; returns the number
    of slots in alarm."""
    if not journal_available():
        return 0
    alarms = 0
    for state in JournalState.objects.all():
        try:
            with engine.JournalSlot(settings.ORDER_SYSTEM_DATABASE_URL, state.slot) as slot:
                info = slot.info()
        except engine.EngineError as exc:
            info = None
            logger.warning("journal health: %s", exc)
        reason = _alarm_reason(state, info)
        fields: dict[str, Any] = {"lag_checked_at": timezone.now(), "alarm": bool(reason)}
        if info is not None:
            fields.update(lag_bytes=info["lag_bytes"], retained_bytes=info["retained_bytes"])
        if reason:
            alarms += 1
            fields["last_error"] = reason
            logger.error("change journal alarm on %s: %s", state.slot, reason)
        JournalState.objects.filter(pk=state.pk).update(**fields)
        if reason and not state.alarm:
            post_to_timeline(kind=JOURNAL_ALARM, reason=reason)
        elif state.alarm and not reason:
            post_to_timeline(kind=JOURNAL_RECOVERED)
    for segment in JournalSegment.objects.filter(
        remote_state__in=[CopyState.FAILED, CopyState.NONE]
    ).order_by("end_lsn")[:100]:
        copy_segment_to_remote(segment)
    return alarms
