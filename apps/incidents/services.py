"""The incident use cases: every write goes through one of these, inside a transaction.

Each service checks the plan's rules, writes the rows, leaves an audit trail (history rows on the
models, a timeline entry on the incident) and raises ``DomainError`` with a message staff can read.
Concurrent edits are caught by a ``version`` number: the caller says which version it edited, the
service locks the row and refuses when someone else saved in between.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role, roles_of
from apps.core.errors import DomainError
from apps.core.events import event, json_safe, localized
from apps.core.notifications import send_notification

from . import events
from .choices import (
    ALLOWED_TRANSITIONS,
    AUTOMATIC_READINESS_ITEMS,
    CAUSE_TREE,
    RESOURCE_TRANSITIONS,
    STATE_TIMESTAMP_FIELD,
    TASK_OWNER_ROLES,
    TASK_TRANSITIONS,
    TEAM_ROLE_REQUIRES,
    IncidentState,
    ReadinessItemKind,
    ReadinessItemState,
    ReadinessResult,
    ResourceState,
    Severity,
    TaskState,
    TeamRole,
)
from .models import (
    ASSESSMENT_FIELDS,
    Incident,
    IncidentTransition,
    Meeting,
    MeetingDecision,
    ReadinessCheck,
    ReadinessItem,
    ResourceAllocation,
    Task,
    TaskTemplate,
    TeamMember,
    TimelineEntry,
)

logger = logging.getLogger(__name__)

# Clocks of staff machines drift a little; a minute ahead is still "now".
CLOCK_SKEW = timedelta(minutes=1)


# --- helpers --------------------------------------------------------------------------------------


def _not_in_future(at: datetime, *, field: str | None = None) -> None:
    if at > timezone.now() + CLOCK_SKEW:
        raise DomainError(_("That time is in the future: record what has happened."), field=field)


def _not_before_declaration(at: datetime, incident: Incident, *, field: str | None = None) -> None:
    if at < incident.declared_at - CLOCK_SKEW:
        raise DomainError(_("That time is before the incident was declared."), field=field)


def _require_open(incident: Incident, *, allow_closed: bool = False) -> None:
    """Refuse changes to a closed or reviewed incident (reads the row under a lock).

    ``allow_closed`` lets a closed incident still take notes for its review; a reviewed incident
    is final.
    """
    state = Incident.objects.select_for_update().values_list("state", flat=True).get(pk=incident.pk)
    if state == IncidentState.REVIEWED:
        raise DomainError(_("This incident has been reviewed and can no longer be changed."))
    if state == IncidentState.CLOSED and not allow_closed:
        raise DomainError(_("This incident is closed."))


def _to_minute(at: datetime | None) -> datetime | None:
    """Due times are kept to the minute: the ``datetime-local`` widget posts no seconds."""
    return at.replace(second=0, microsecond=0) if at is not None else None


def _lock(model: type[models.Model], obj: models.Model, version: int | str | None):
    """Lock the row; refuse when it changed since the caller read ``version``."""
    if version is not None:
        try:
            version = int(version)
        except (TypeError, ValueError):
            raise DomainError(
                _("The form was incomplete. Reload the page and try again.")
            ) from None
    locked = model.objects.select_for_update().get(pk=obj.pk)
    if version is not None and locked.version != version:
        raise DomainError(
            _("Someone else changed this in the meantime. Reload the page and try again.")
        )
    return locked


def _check_cause(category: str, detail: str) -> None:
    if detail and detail not in CAUSE_TREE.get(category, []):
        raise DomainError(
            _("That sub-cause does not belong to the chosen cause."), field="cause_detail"
        )


def _holds_any(user, roles: set[str]) -> bool:
    return bool({r.value for r in roles_of(user)} & {str(r) for r in roles})


def post_event(
    *,
    kind: str,
    text: str = "",
    by=None,
    incident: Incident | None = None,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> TimelineEntry | None:
    """Write one timeline entry on ``incident`` (default: the open incident, if any).

    ``kind`` + ``params`` are rendered in the reader's language (``apps.core.events``);
    ``text`` is kept for free text typed by staff and as the fallback of unregistered kinds.
    """
    from .selectors import get_open_incident

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
    sender, *, kind: str, text="", by=None, params=None, data=None, **kwargs
) -> bool:
    """Receiver of ``apps.core.timeline.timeline_event``: other apps' events land here.

    It writes in a savepoint: whatever fails here rolls back to it, never the caller's work.
    """
    with transaction.atomic():
        entry = post_event(kind=kind, text=str(text), by=by, params=params or data)
    return entry is not None


# --- declaring and assessing ----------------------------------------------------------------------


@transaction.atomic
def declare_incident(
    *,
    title: str,
    severity: str,
    detected_at: datetime,
    by,
    description: str = "",
    cause_category: str = "",
    cause_detail: str = "",
    **assessment: Any,
) -> Incident:
    """Open an incident, give it the plan's checklists as tasks and start its timeline."""
    now = timezone.now()
    _not_in_future(detected_at, field="detected_at")
    if detected_at > now:
        detected_at = now
    _check_cause(cause_category, cause_detail)
    incident = Incident(
        title=title,
        description=description,
        severity=severity,
        detected_at=detected_at,
        declared_at=now,
        declared_by=by,
        cause_category=cause_category,
        cause_detail=cause_detail,
        **{k: v for k, v in assessment.items() if k in ASSESSMENT_FIELDS},
    )
    incident.full_clean()
    incident._change_reason = "declared"
    incident._history_user = by
    incident.save()
    IncidentTransition.objects.create(
        incident=incident, from_state="", to_state=IncidentState.DECLARED, at=now, by=by
    )
    instantiate_templates(incident=incident)
    post_event(
        incident=incident,
        kind=events.DECLARED,
        params={"title": title, "severity": incident.severity},
        by=by,
        at=now,
    )
    return incident


def instantiate_templates(*, incident: Incident) -> list[Task]:
    """Copy every active checklist template onto the incident as a task."""
    tasks = [
        Task(
            incident=incident,
            phase=t.phase,
            title_zh=t.title_zh,
            title_en=t.title_en,
            template=t,
            team_role=t.team_role,
            due_at=_to_minute(incident.declared_at + timedelta(minutes=t.due_after_minutes)),
        )
        for t in TaskTemplate.objects.filter(is_active=True)
    ]
    return Task.objects.bulk_create(tasks)


@transaction.atomic
def update_assessment(*, incident: Incident, version: int | None, by, **fields: Any) -> Incident:
    """Refine cause and impact as the investigation goes."""
    incident = _lock(Incident, incident, version)
    _require_open(incident)
    changes = {k: v for k, v in fields.items() if k in ASSESSMENT_FIELDS}
    for name, value in changes.items():
        setattr(incident, name, value)
    _check_cause(incident.cause_category, incident.cause_detail)
    incident.version += 1
    incident.full_clean()
    incident._change_reason = "assessment"
    incident._history_user = by
    incident.save()
    if incident.cause_detail:
        cause = event(
            events.CAUSE_WITH_DETAIL,
            category=incident.cause_category,
            detail=incident.cause_detail,
        )
    else:
        cause = event(events.CAUSE, category=incident.cause_category)
    post_event(
        incident=incident,
        kind=events.ASSESSMENT,
        params={
            "cause": cause,
            "business": incident.impact_business,
            "stability": incident.impact_stability,
            "reputation": incident.impact_reputation,
        },
        by=by,
    )
    return incident


# --- the state machine ----------------------------------------------------------------------------


def allowed_next_states(incident: Incident) -> list[str]:
    return [s for s in IncidentState.values if s in ALLOWED_TRANSITIONS[incident.state]]


@transaction.atomic
def transition(
    *,
    incident: Incident,
    to: str,
    by,
    at: datetime | None = None,
    note: str = "",
    version: int | None = None,
) -> Incident:
    """Move the incident to ``to``; the first time of each state is recorded once and kept."""
    incident = _lock(Incident, incident, version)
    if to not in IncidentState.values:
        raise DomainError(_("Unknown state."))
    if to not in ALLOWED_TRANSITIONS[incident.state]:
        raise DomainError(
            _("An incident cannot go from “%(from)s” to “%(to)s”.")
            % {
                "from": IncidentState(incident.state).label,
                "to": IncidentState(to).label,
            }
        )
    if (
        to == IncidentState.TEAM_ASSEMBLED
        and not incident.team.filter(team_role=TeamRole.LEADER).exists()
    ):
        raise DomainError(_("Name a leader before declaring the team assembled."))
    now = timezone.now()
    at = at or now
    _not_in_future(at, field="at")
    _not_before_declaration(at, incident, field="at")
    last = incident.transitions.order_by("-at", "-pk").first()
    if last and at < last.at:
        raise DomainError(
            _("That time is before the previous state change (%(when)s).")
            % {"when": timezone.localtime(last.at).strftime("%Y-%m-%d %H:%M")},
            field="at",
        )
    from_state = incident.state
    IncidentTransition.objects.create(
        incident=incident, from_state=from_state, to_state=to, at=at, by=by, note=note
    )
    field = STATE_TIMESTAMP_FIELD[to]
    if getattr(incident, field) is None:
        setattr(incident, field, at)
    incident.state = to
    incident.version += 1
    incident._change_reason = f"{from_state} → {to}"
    incident._history_user = by
    incident.save()
    post_event(
        incident=incident,
        kind=events.STATE,
        params={"from": from_state, "to": to, "note": note or ""},
        by=by,
        at=at,
        data={"from": from_state, "to": to},
    )
    return incident


# --- the emergency team ---------------------------------------------------------------------------


ASSIGNMENT_SUBJECT = _("Emergency team: you are %(role)s for incident %(incident)s")
ASSIGNMENT_BODY = _(
    "%(by)s assigned you as %(role)s for incident %(incident)s (severity: %(severity)s).\n"
    "Please acknowledge on the incident page: %(url)s"
)
ASSIGNMENT_SMS = _(
    "Emergency team: you are %(role)s for incident %(incident)s. Acknowledge: %(url)s"
)


@transaction.atomic
def assign_member(
    *, incident: Incident, user, team_role: str, by, incident_url: str = ""
) -> TeamMember:
    """Put ``user`` on the team; refuse people without the role; notify by e-mail and SMS."""
    _require_open(incident)
    if team_role not in TeamRole.values:
        raise DomainError(_("Unknown team role."), field="team_role")
    if not user.is_active or not _holds_any(user, TEAM_ROLE_REQUIRES[team_role]):
        raise DomainError(
            _("%(user)s does not hold a role that may serve as %(role)s.")
            % {"user": user, "role": TeamRole(team_role).label},
            field="user",
        )
    if TeamMember.objects.filter(incident=incident, user=user, team_role=team_role).exists():
        raise DomainError(_("%(user)s is already on the team in that role.") % {"user": user})
    member = TeamMember.objects.create(
        incident=incident, user=user, team_role=team_role, assigned_by=by
    )
    Task.objects.filter(
        incident=incident,
        team_role=team_role,
        owner__isnull=True,
        state__in=TaskState.open_states(),
    ).update(owner=user)
    post_event(
        incident=incident,
        kind=events.TEAM_JOINED,
        params={"user": str(user), "role": team_role},
        by=by,
        data={"user": user.pk, "team_role": team_role},
    )
    params = {
        "role": TeamRole(team_role).label,
        "incident": str(incident),
        "severity": Severity(incident.severity).label,
        "by": str(by) if by else "",
        "url": incident_url,
    }
    # Labels are lazy: send_notification renders them in the member's language.
    if user.email:
        send_notification(
            channel="email",
            recipient=user,
            subject=ASSIGNMENT_SUBJECT,
            body=ASSIGNMENT_BODY,
            params=params,
            by=by,
        )
    if user.phone:
        send_notification(
            channel="sms", recipient=user, subject="", body=ASSIGNMENT_SMS, params=params, by=by
        )
    return member


@transaction.atomic
def acknowledge_assignment(*, member: TeamMember, by) -> TeamMember:
    """The member confirms the assignment; the first acknowledgement is the one kept."""
    member = TeamMember.objects.select_for_update().get(pk=member.pk)
    if member.user_id != by.pk:
        raise DomainError(_("Only the member can acknowledge their own assignment."))
    if member.acknowledged_at is None:
        member.acknowledged_at = timezone.now()
        member.save(update_fields=["acknowledged_at"])
        post_event(
            incident=member.incident,
            kind=events.TEAM_ACKNOWLEDGED,
            params={"user": str(member.user), "role": member.team_role},
            by=by,
        )
    return member


@transaction.atomic
def add_note(*, incident: Incident, text: str, by, decision: bool = False) -> TimelineEntry:
    """A note or decision on the timeline; still allowed while closed, for the review."""
    _require_open(incident, allow_closed=True)
    text = text.strip()
    if not text:
        raise DomainError(_("Write something first."), field="text")
    return post_event(
        incident=incident,
        kind=events.DECISION if decision else events.NOTE,
        text=text,
        by=by,
    )


# --- tasks ----------------------------------------------------------------------------------------


def _check_owner(owner, team_role: str) -> None:
    if owner is None:
        return
    roles = TEAM_ROLE_REQUIRES[team_role] if team_role else TASK_OWNER_ROLES
    if not owner.is_active or not _holds_any(owner, roles):
        raise DomainError(
            _("%(user)s does not hold the role this task needs.") % {"user": owner},
            field="owner",
        )


def _check_due(due_at: datetime | None, incident: Incident) -> None:
    if due_at is not None and due_at < incident.declared_at - CLOCK_SKEW:
        raise DomainError(
            _("A task cannot be due before the incident was declared."), field="due_at"
        )


@transaction.atomic
def add_task(
    *,
    incident: Incident,
    title: str,
    phase: str,
    by,
    owner=None,
    due_at: datetime | None = None,
    team_role: str = "",
    decision: MeetingDecision | None = None,
) -> Task:
    _require_open(incident)
    if decision is not None:
        # Lock the decision so two people turning it into a task at once make one task.
        decision = MeetingDecision.objects.select_for_update().get(pk=decision.pk)
        if decision.task_id:
            raise DomainError(_("This decision already has a task."))
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
    version: int | None,
    by,
    owner=None,
    due_at: datetime | None = None,
    state: str | None = None,
) -> Task:
    """Change owner, due time and state of a task; refuse stale edits and unfit owners."""
    task = _lock(Task, task, version)
    _require_open(task.incident)
    if state and state not in TaskState.values:
        raise DomainError(_("Unknown state."), field="state")
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
                _("A task cannot go from “%(from)s” to “%(to)s”.")
                % {"from": TaskState(task.state).label, "to": TaskState(state).label}
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


def set_task_state(*, task: Task, state: str, by, version: int | None) -> Task:
    return update_task(
        task=task, version=version, by=by, owner=task.owner, due_at=task.due_at, state=state
    )


# --- resources ------------------------------------------------------------------------------------


@transaction.atomic
def request_resource(
    *,
    incident: Incident,
    kind: str,
    description: str,
    quantity: Decimal,
    by,
    unit: str = "",
    at: datetime | None = None,
) -> ResourceAllocation:
    _require_open(incident)
    at = at or timezone.now()
    _not_in_future(at, field="at")
    _not_before_declaration(at, incident, field="at")
    if quantity <= 0:
        raise DomainError(_("The quantity must be more than zero."), field="quantity")
    resource = ResourceAllocation(
        incident=incident,
        kind=kind,
        description=description,
        quantity=quantity,
        unit=unit,
        requested_at=at,
        requested_by=by,
    )
    try:
        resource.full_clean()
    except ValidationError as exc:
        # E.g. a quantity with more digits than the column holds: say so instead of a 500.
        field, errors = next(iter(exc.message_dict.items()))
        raise DomainError(errors[0], field=field) from None
    resource.save()
    post_event(
        incident=incident,
        kind=events.RESOURCE_REQUESTED,
        params=_resource_params(resource),
        by=by,
        data={"resource": resource.pk},
    )
    return resource


_RESOURCE_EVENT = {
    ResourceState.ALLOCATED: events.RESOURCE_ALLOCATED,
    ResourceState.RELEASED: events.RESOURCE_RELEASED,
    ResourceState.CANCELLED: events.RESOURCE_CANCELLED,
}


def _resource_params(resource: ResourceAllocation) -> dict[str, Any]:
    return {
        "kind": resource.kind,
        "description": resource.description,
        "quantity": str(resource.quantity),
    }


@transaction.atomic
def move_resource(
    *, resource: ResourceAllocation, to: str, by, at: datetime | None = None
) -> ResourceAllocation:
    """Allocate, release or cancel a resource request, recording when and by whom."""
    resource = ResourceAllocation.objects.select_for_update().get(pk=resource.pk)
    _require_open(resource.incident)
    if to not in ResourceState.values:
        raise DomainError(_("Unknown state."))
    if to not in RESOURCE_TRANSITIONS.get(resource.state, set()):
        raise DomainError(
            _("A resource cannot go from “%(from)s” to “%(to)s”.")
            % {"from": resource.get_state_display(), "to": ResourceState(to).label}
        )
    at = at or timezone.now()
    _not_in_future(at, field="at")
    if at < resource.requested_at or (resource.allocated_at and at < resource.allocated_at):
        raise DomainError(_("That time is before the resource's previous step."), field="at")
    resource.state = to
    if to == ResourceState.ALLOCATED:
        resource.allocated_at, resource.allocated_by = at, by
    elif to == ResourceState.RELEASED:
        resource.released_at, resource.released_by = at, by
    resource.save()
    post_event(
        incident=resource.incident,
        kind=_RESOURCE_EVENT[to],
        params=_resource_params(resource),
        by=by,
        at=at,
        data={"resource": resource.pk, "state": to},
    )
    return resource


# --- meetings -------------------------------------------------------------------------------------


@transaction.atomic
def record_meeting(
    *,
    incident: Incident,
    held_at: datetime,
    title: str,
    attendees,
    minutes: str,
    decisions: list[str],
    by,
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
    *, decision: MeetingDecision, phase: str, by, owner=None, due_at: datetime | None = None
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


# --- upgrade readiness ----------------------------------------------------------------------------


@dataclass
class CheckOutcome:
    state: str
    detail: str


def check_order_db_reachable() -> CheckOutcome:
    """Open a connection to the order system's database with a short timeout."""
    from apps.backups.engine.sources import parse_url

    try:
        db = parse_url(settings.ORDER_SYSTEM_DATABASE_URL)
        if db.engine == "postgresql":
            import psycopg

            with psycopg.connect(db.url, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        else:
            from pathlib import Path

            if not Path(db.path).exists():
                raise OSError(f"no database file at {db.path}")
            conn = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True, timeout=3)
            try:
                conn.execute("SELECT 1")
            finally:
                conn.close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", with the reason
        return CheckOutcome(ReadinessItemState.FAILED, f"{type(exc).__name__}: {exc}"[:500])
    return CheckOutcome(ReadinessItemState.PASSED, db.display)


def check_recent_backups() -> CheckOutcome:
    """Every backup scope has a complete, verified backup finished within the window."""
    from apps.backups.choices import RunState
    from apps.backups.models import BackupRun, BackupScope

    hours = getattr(settings, "READINESS_BACKUP_MAX_AGE_HOURS", 24)
    since = timezone.now() - timedelta(hours=hours)
    scopes = list(BackupScope.objects.all())
    if not scopes:
        return CheckOutcome(ReadinessItemState.FAILED, str(_("No backup scopes are defined.")))
    missing = [
        s.name
        for s in scopes
        if not BackupRun.objects.filter(
            scope=s, state=RunState.COMPLETE, last_verify_ok=True, finished_at__gte=since
        ).exists()
    ]
    if missing:
        return CheckOutcome(
            ReadinessItemState.FAILED,
            str(
                _("No verified backup in the last %(hours)s hours: %(scopes)s")
                % {"hours": hours, "scopes": ", ".join(missing)}
            ),
        )
    return CheckOutcome(
        ReadinessItemState.PASSED,
        str(
            _("Verified backups of all %(n)s scopes within %(hours)s hours.")
            % {"n": len(scopes), "hours": hours}
        ),
    )


AUTOMATIC_CHECKS = {
    ReadinessItemKind.ORDER_DB_REACHABLE: check_order_db_reachable,
    ReadinessItemKind.RECENT_BACKUPS: check_recent_backups,
}
NOT_AUTOMATIC_YET = {
    ReadinessItemKind.OPERATORS_TRAINED: _(
        "Not checked automatically yet (needs the drills app): confirm by hand."
    ),
}


@transaction.atomic
def start_readiness_check(*, title: str, by, planned_for: datetime | None = None) -> ReadinessCheck:
    check = ReadinessCheck.objects.create(title=title, planned_for=planned_for, created_by=by)
    for kind in ReadinessItemKind.values:
        ReadinessItem.objects.create(
            readiness=check,
            kind=kind,
            automatic=kind in AUTOMATIC_READINESS_ITEMS,
            detail=str(NOT_AUTOMATIC_YET.get(kind, "")),
        )
    run_automatic_checks(check=check)
    return check


@transaction.atomic
def run_automatic_checks(*, check: ReadinessCheck) -> ReadinessCheck:
    if check.result != ReadinessResult.PENDING:
        raise DomainError(_("This check is already signed off."))
    now = timezone.now()
    for item in check.items.filter(automatic=True):
        outcome = AUTOMATIC_CHECKS[item.kind]()
        item.state, item.detail, item.checked_at, item.checked_by = (
            outcome.state,
            outcome.detail,
            now,
            None,
        )
        item.save()
    return check


@transaction.atomic
def record_readiness_item(
    *, item: ReadinessItem, passed: bool, by, detail: str = ""
) -> ReadinessItem:
    item = ReadinessItem.objects.select_for_update().get(pk=item.pk)
    if item.readiness.result != ReadinessResult.PENDING:
        raise DomainError(_("This check is already signed off."))
    if item.automatic:
        raise DomainError(_("The system checks this item itself: run the automatic checks again."))
    item.state = ReadinessItemState.PASSED if passed else ReadinessItemState.FAILED
    item.detail = detail
    item.checked_by, item.checked_at = by, timezone.now()
    item.save()
    return item


@transaction.atomic
def sign_off_readiness(*, check: ReadinessCheck, go: bool, by, note: str = "") -> ReadinessCheck:
    """Go only when every item passed; no-go may always be said."""
    check = ReadinessCheck.objects.select_for_update().get(pk=check.pk)
    if check.result != ReadinessResult.PENDING:
        raise DomainError(_("This check is already signed off."))
    if not _holds_any(by, {Role.MANAGER, Role.EMERGENCY_LEAD}):
        raise DomainError(_("Only a manager or the emergency lead can sign off an upgrade."))
    if go and check.items.exclude(state=ReadinessItemState.PASSED).exists():
        raise DomainError(_("Every item must pass before the upgrade can go ahead."))
    check.result = ReadinessResult.GO if go else ReadinessResult.NO_GO
    check.signed_off_by, check.signed_off_at, check.sign_off_note = by, timezone.now(), note
    check.save()
    return check


# --- checklist templates --------------------------------------------------------------------------


@transaction.atomic
def save_task_template(*, template: TaskTemplate, by) -> TaskTemplate:
    template.full_clean()
    template._change_reason = "edited on the templates page"
    template._history_user = by
    template.save()
    return template
