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

from apps.backups import engine
from apps.backups.choices import CopyState
from apps.backups.models import JournalSegment, JournalState
from apps.core.events import Message, as_stored, event, message
from apps.core.timeline import post_to_timeline

from .capture import copy_segment_to_remote, journal_available
from .reasons import (  # noqa: F401 - the kinds are imported from here too
    JOURNAL_ALARM,
    JOURNAL_RECOVERED,
    JOURNAL_STALE,
    SLOT_AHEAD,
    SLOT_GONE,
    WAL_RETAINED,
    register_events,
)

logger = logging.getLogger(__name__)


def _alarm_reason(state: JournalState, info: dict[str, Any] | None) -> Message | None:
    """Why ``state`` is in alarm, as data (rendered in each reader's language); None: healthy."""
    if info is None:
        return message(SLOT_GONE, slot=state.slot)
    if info["retained_bytes"] > settings.JOURNAL_LAG_ALARM_BYTES:
        return message(
            WAL_RETAINED,
            mb=info["retained_bytes"] // 2**20,
            limit=settings.JOURNAL_LAG_ALARM_BYTES // 2**20,
        )
    stale = timezone.now() - timedelta(seconds=settings.JOURNAL_STALE_SECONDS)
    if state.heartbeat_at is None or state.heartbeat_at < stale:
        when = (
            timezone.localtime(state.heartbeat_at).strftime("%Y-%m-%d %H:%M:%S")
            if state.heartbeat_at
            else "-"
        )
        return message(JOURNAL_STALE, when=when)
    return None


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
        fields: dict[str, Any] = {"lag_checked_at": timezone.now(), "alarm": reason is not None}
        if info is not None:
            fields.update(lag_bytes=info["lag_bytes"], retained_bytes=info["retained_bytes"])
        if reason is not None:
            alarms += 1
            fields["last_error"] = str(reason)  # the fallback text, as written
            fields["last_error_event"] = as_stored(reason)
            logger.error("change journal alarm on %s: %s", state.slot, reason)
        JournalState.objects.filter(pk=state.pk).update(**fields)
        if reason is not None and not state.alarm:
            post_to_timeline(
                kind=JOURNAL_ALARM, text=str(reason), reason=event(reason.kind, **reason.params)
            )
        elif state.alarm and reason is None:
            post_to_timeline(kind=JOURNAL_RECOVERED)
    for segment in JournalSegment.objects.filter(
        remote_state__in=[CopyState.FAILED, CopyState.NONE]
    ).order_by("end_lsn")[:100]:
        copy_segment_to_remote(segment)
    return alarms
