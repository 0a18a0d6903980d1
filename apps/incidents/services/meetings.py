"""Coordination meetings and the decisions that become tasks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction

from .. import events
from ..models import Incident, Meeting, MeetingDecision, Task
from .common import _not_before_declaration, _require_open
from .tasks import add_task
from .timeline import post_event

if TYPE_CHECKING:
    from apps.accounts.models import User


@transaction.atomic
def record_meeting(
    *,
    incident: Incident,
    held_at: datetime,
    title: str,
    attendees: Iterable[User],
    minutes: str,
    decisions: list[str],
    by: User,
) -> Meeting:
    _require_open(incident)
    _not_before_declaration(held_at, incident, field="held_at")
    meeting = Meeting(
        incident=incident, held_at=held_at, title=title, minutes=minutes, recorded_by=by
    )
    meeting.full_clean()
    meeting.save()
    meeting.attendees.set(attendees)
    for text in decisions:
        if text.strip():
            MeetingDecision.objects.create(meeting=meeting, text=text.strip())
    post_event(
        incident=incident,
        kind=events.MEETING_RECORDED,
        params={"title": title},
        by=by,
        data={"meeting": meeting.pk},
    )
    return meeting


def task_from_decision(
    *,
    decision: MeetingDecision,
    phase: str,
    by: User,
    owner: User | None = None,
    due_at: datetime | None = None,
) -> Task:

    return add_task(
        incident=decision.meeting.incident,
        title=decision.text[:200],
        phase=phase,
        owner=owner,
        due_at=due_at,
        by=by,
        decision=decision,
    )
