"""The incident timeline: entries written by the incident services and by other apps."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError

from ..choices import EntryKind
from ..models import Incident, TimelineEntry
from .common import _require_open

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from apps.accounts.models import User


def post_event(
    *,
    kind: str,
    text: StrOrPromise,
    by: User | None = None,
    incident: Incident | None = None,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEntry | None:
    """Write one timeline entry on ``incident`` (default: the open incident, if any)."""
    from ..selectors import get_open_incident

    incident = incident or get_open_incident()
    if incident is None:
        return None
    return TimelineEntry.objects.create(
        incident=incident,
        kind=kind,
        text=str(text),
        by=by if getattr(by, "pk", None) else None,
        at=at or timezone.now(),
        data=data or {},
    )


def on_timeline_event(
    sender: object,
    *,
    kind: str,
    text: StrOrPromise,
    by: User | None = None,
    data: dict[str, Any] | None = None,
    **kwargs: Any,
) -> bool:
    """Receiver of ``apps.core.timeline.timeline_event``: other apps' events land here."""
    return post_event(kind=kind, text=str(text), by=by, data=data) is not None


@transaction.atomic
def add_note(*, incident: Incident, text: str, by: User, decision: bool = False) -> TimelineEntry:
    """A note or decision on the timeline; still allowed while closed, for the review."""
    _require_open(incident, allow_closed=True)
    text = text.strip()
    if not text:
        raise DomainError(_("Write something first."), field="text")
    entry = post_event(
        incident=incident,
        kind=EntryKind.DECISION if decision else EntryKind.NOTE,
        text=text,
        by=by,
    )
    assert entry is not None  # the incident is given, so the entry is always written
    return entry
