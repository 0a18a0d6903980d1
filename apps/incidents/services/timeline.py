"""The incident timeline: entries written by the incident services and by other apps."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.events import json_safe

from .. import events
from ..errors import IncidentsError
from ..models import Incident, TimelineEntry
from .common import _require_open

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from apps.accounts.models import User


def post_event(
    *,
    kind: str,
    text: StrOrPromise = "",
    by: User | None = None,
    incident: Incident | None = None,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> TimelineEntry | None:
    """Write one timeline entry on ``incident`` (default: the open incident, if any).

    ``kind`` + ``params`` are rendered in the reader's language (``apps.core.events``);
    ``text`` is kept for free text typed by staff and as the fallback of unregistered kinds.
    """
    from ..selectors import get_open_incident

    incident = incident or get_open_incident()
    if incident is None:
        return None
    return TimelineEntry.objects.create(
        incident=incident,
        kind=str(kind),
        text=str(text),
        params=json_safe(params or {}),
        by=by if getattr(by, "pk", None) else None,
        at=at or timezone.now(),
        data=data or {},
    )


def on_timeline_event(
    sender: object,
    *,
    kind: str,
    text: StrOrPromise = "",
    by: User | None = None,
    params: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    **kwargs: Any,
) -> bool:
    """Receiver of ``apps.core.timeline.timeline_event``: other apps' events land here.

    It writes in a savepoint: whatever fails here rolls back to it, never the caller's work.
    """
    with transaction.atomic():
        entry = post_event(kind=kind, text=str(text), by=by, params=params or data)
    return entry is not None


@transaction.atomic
def add_note(*, incident: Incident, text: str, by: User, decision: bool = False) -> TimelineEntry:
    """A note or decision on the timeline; still allowed while closed, for the review."""
    _require_open(incident, allow_closed=True)
    text = text.strip()
    if not text:
        raise DomainError(IncidentsError.EMPTY_NOTE, field="text")
    entry = post_event(
        incident=incident,
        kind=events.DECISION if decision else events.NOTE,
        text=text,
        by=by,
    )
    assert entry is not None  # the incident is given, so the entry is always written
    return entry
