"""Tasks of an incident: added by hand, from a meeting decision or from a template."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.events import event, localized

from .. import events
from ..choices import TASK_OWNER_ROLES, TASK_TRANSITIONS, TEAM_ROLE_REQUIRES, TaskState
from ..errors import IncidentsError
from ..models import Incident, MeetingDecision, Task
from .common import CLOCK_SKEW, _holds_any, _lock, _require_open, _to_minute
from .timeline import post_event

if TYPE_CHECKING:
    from apps.accounts.models import User


def _check_owner(owner: User | None, team_role: str) -> None:
    if owner is None:
        return
    roles = TEAM_ROLE_REQUIRES[team_role] if team_role else TASK_OWNER_ROLES
    if not owner.is_active or not _holds_any(owner, roles):
        raise DomainError(IncidentsError.OWNER_ROLE, params={"user": str(owner)}, field="owner")


def _check_due(due_at: datetime | None, incident: Incident) -> None:
    if due_at is not None and due_at < incident.declared_at - CLOCK_SKEW:
        raise DomainError(IncidentsError.DUE_BEFORE_DECLARATION, field="due_at")


@transaction.atomic
def add_task(
    *,
    incident: Incident,
    title: str,
    phase: str,
    by: User,
    owner: User | None = None,
    due_at: datetime | None = None,
    team_role: str = "",
    decision: MeetingDecision | None = None,
) -> Task:

    _require_open(incident)
    if decision is not None:
        # Lock the decision so two people turning it into a task at once make one task.
        decision = MeetingDecision.objects.select_for_update().get(pk=decision.pk)
        if decision.task_id:
            raise DomainError(IncidentsError.DECISION_HAS_TASK)
    _check_owner(owner, team_role)
    _check_due(due_at, incident)
    task = Task(
        incident=incident,
        phase=phase,
        title_zh=title,
        team_role=team_role,
        owner=owner,
        due_at=due_at,
    )
    task.full_clean()
    task.save()
    if decision is not None:
        decision.task = task
        decision.save(update_fields=["task"])
    post_event(
        incident=incident,
        kind=events.TASK_ADDED,
        params={"task": title},
        by=by,
        data={"task": task.pk},
    )
    return task


@transaction.atomic
def update_task(
    *,
    task: Task,
    version: int | str | None,
    by: User,
    owner: User | None = None,
    due_at: datetime | None = None,
    state: str | None = None,
) -> Task:
    """Change owner, due time and state of a task; refuse stale edits and unfit owners."""
    task = _lock(Task, task, version)
    _require_open(task.incident)
    if state and state not in TaskState.values:
        raise DomainError(IncidentsError.UNKNOWN_STATE, field="state")
    _check_owner(owner, task.team_role)
    _check_due(due_at, task.incident)
    changes: list[dict[str, Any]] = []
    if owner != task.owner:
        task.owner = owner
        changes.append(event(events.TASK_OWNER, user=str(owner) if owner else "—"))
    # The form shows and posts minutes only: an unchanged minute keeps the stored time.
    if _to_minute(due_at) != _to_minute(task.due_at):
        task.due_at = _to_minute(due_at)
        changes.append(event(events.TASK_DUE))
    if state and state != task.state:
        if state not in TASK_TRANSITIONS[task.state]:
            raise DomainError(
                IncidentsError.TASK_TRANSITION,
                params={"from": TaskState(task.state).label, "to": TaskState(state).label},
            )
        task.state = state
        if state == TaskState.DONE:
            task.completed_at, task.completed_by = timezone.now(), by
        else:
            task.completed_at, task.completed_by = None, None
        changes.append(event(events.TASK_STATE, state=state))
    if not changes:
        return task
    task.version += 1
    task._history_user = by
    task.save()
    post_event(
        incident=task.incident,
        kind=events.TASK_UPDATED,
        params={"task": localized(en=task.title_en, zh=task.title_zh), "changes": changes},
        by=by,
        data={"task": task.pk, "state": task.state},
    )
    return task


def set_task_state(*, task: Task, state: str, by: User, version: int | str | None) -> Task:
    return update_task(
        task=task, version=version, by=by, owner=task.owner, due_at=task.due_at, state=state
    )
