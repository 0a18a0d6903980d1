"""Declaring an incident, assessing it, and moving it through its states."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.events import event

from .. import events
from ..choices import ALLOWED_TRANSITIONS, STATE_TIMESTAMP_FIELD, IncidentState, TeamRole
from ..errors import IncidentsError
from ..models import ASSESSMENT_FIELDS, Incident, IncidentTransition, TaskTemplate
from .checklists import instantiate_templates
from .common import _check_cause, _lock, _not_before_declaration, _not_in_future, _require_open
from .timeline import post_event

if TYPE_CHECKING:
    from apps.accounts.models import User

# --- declaring and assessing ----------------------------------------------------------------------


@transaction.atomic
def declare_incident(
    *,
    title: str,
    severity: str,
    detected_at: datetime,
    by: User,
    description: str = "",
    cause_category: str = "",
    cause_detail: str = "",
    is_drill: bool = False,
    templates: Iterable[TaskTemplate] | None = None,
    **assessment: Any,
) -> Incident:
    """Open an incident, give it the plan's checklists as tasks and start its timeline.

    ``is_drill`` opens a rehearsal (apps.drills) with the drill plan's ``templates``.
    """
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
        is_drill=is_drill,
        **{k: v for k, v in assessment.items() if k in ASSESSMENT_FIELDS},
    )
    incident.full_clean()
    incident._change_reason = "declared"
    incident._history_user = by
    incident.save()
    IncidentTransition.objects.create(
        incident=incident, from_state="", to_state=IncidentState.DECLARED, at=now, by=by
    )
    instantiate_templates(incident=incident, templates=templates)
    post_event(
        incident=incident,
        kind=events.DECLARED,
        params={"title": title, "severity": incident.severity},
        by=by,
        at=now,
    )
    return incident


@transaction.atomic
def update_assessment(
    *, incident: Incident, version: int | None, by: User, **fields: Any
) -> Incident:
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
    by: User,
    at: datetime | None = None,
    note: str = "",
    version: int | None = None,
) -> Incident:
    """Move the incident to ``to``; the first time of each state is recorded once and kept."""
    incident = _lock(Incident, incident, version)
    if to not in IncidentState.values:
        raise DomainError(IncidentsError.UNKNOWN_STATE)
    if to not in ALLOWED_TRANSITIONS[incident.state]:
        raise DomainError(
            IncidentsError.INCIDENT_TRANSITION,
            params={"from": IncidentState(incident.state).label, "to": IncidentState(to).label},
        )
    if (
        to == IncidentState.TEAM_ASSEMBLED
        and not incident.team.filter(team_role=TeamRole.LEADER).exists()
    ):
        raise DomainError(IncidentsError.NO_LEADER)
    now = timezone.now()
    at = at or now
    _not_in_future(at, field="at")
    _not_before_declaration(at, incident, field="at")
    last = incident.transitions.order_by("-at", "-pk").first()
    if last and at < last.at:
        raise DomainError(
            IncidentsError.BEFORE_PREVIOUS_CHANGE,
            params={"when": timezone.localtime(last.at).strftime("%Y-%m-%d %H:%M")},
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


@transaction.atomic
def close_drill_incident(*, incident: Incident, by: User, note: str = "") -> Incident:
    """End a drill (apps.drills): a drill's incident closes when its drill does, from any state.

    Only drills: a real incident keeps the plan's state machine.
    """
    incident = _lock(Incident, incident, None)
    if not incident.is_drill:
        raise DomainError(IncidentsError.NOT_A_DRILL)
    if incident.state in (IncidentState.CLOSED, IncidentState.REVIEWED):
        return incident
    now = timezone.now()
    from_state = incident.state
    IncidentTransition.objects.create(
        incident=incident,
        from_state=from_state,
        to_state=IncidentState.CLOSED,
        at=now,
        by=by,
        note=note,
    )
    incident.state = IncidentState.CLOSED
    incident.closed_at = incident.closed_at or now
    incident.version += 1
    incident._change_reason = f"drill closed: {from_state} → closed"
    incident._history_user = by
    incident.save()
    post_event(
        incident=incident,
        kind=events.STATE,
        params={"from": from_state, "to": IncidentState.CLOSED, "note": note},
        by=by,
        at=now,
        data={"from": from_state, "to": IncidentState.CLOSED},
    )
    return incident
