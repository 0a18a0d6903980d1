"""One small function for any app to post an event to the open incident's timeline.

The incidents app connects a receiver to ``timeline_event``; with no receiver (no incident app
installed, or no incident open) posting is a no-op, so callers never need to check. Events are
data: ``kind`` (registered in ``apps.core.events``) and its parameters are stored and rendered
in the reader's language when shown; ``text`` is only a fallback for kinds nobody registered.
Receivers run their writes in a savepoint, so a failure there never aborts the caller's work.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

from .events import json_safe

logger = logging.getLogger(__name__)

timeline_event = Signal()


def post_to_timeline(*, kind: str, text: Any = "", by=None, **params: Any) -> int:
    """Send ``kind`` + ``params`` (and the fallback ``text``) to every receiver.

    Returns how many recorded it.
    """
    recorded = 0
    for _receiver, result in timeline_event.send_robust(
        sender=None, kind=str(kind), text=str(text), by=by, params=json_safe(params)
    ):
        if isinstance(result, Exception):
            logger.warning("timeline receiver failed for %s: %s", kind, result)
        elif result:
            recorded += 1
    return recorded
