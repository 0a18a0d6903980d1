"""One small function for any app to post an event to the open incident's timeline.

The incidents app connects a receiver to ``timeline_event``; with no receiver (no incident app
installed, or no incident open) posting is a no-op, so callers never need to check.
"""

from __future__ import annotations

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

timeline_event = Signal()


def post_to_timeline(*, kind: str, text: str, by=None, **data) -> int:
    """Send ``kind``/``text`` to every receiver; returns how many recorded it."""
    recorded = 0
    for _receiver, result in timeline_event.send_robust(
        sender=None, kind=kind, text=text, by=by, data=data
    ):
        if isinstance(result, Exception):
            logger.warning("timeline receiver failed for %s: %s", kind, result)
        elif result:
            recorded += 1
    return recorded
