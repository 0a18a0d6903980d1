"""The incident timeline's event kinds: stored as kind + parameters, rendered in the reader's language."""

from django.utils.translation import gettext_lazy as _

from apps.core.events import register_event_kind

from .choices import (
    CauseCategory,
    CauseDetail,
    ImpactLevel,
    IncidentState,
    ResourceKind,
    Severity,
    TaskState,
    TeamRole,
)

DECLARED = "incident.declared"
ASSESSMENT = "incident.assessment"
CAUSE = "incident.cause"
CAUSE_WITH_DETAIL = "incident.cause_detail"
STATE = "incident.state"
NOTE = "note"
DECISION = "decision"
TEAM_JOINED = "team.joined"
TEAM_ACKNOWLEDGED = "team.acknowledged"
TASK_ADDED = "task.added"
TASK_UPDATED = "task.updated"
TASK_OWNER = "task.change.owner"
TASK_DUE = "task.change.due"
TASK_STATE = "task.change.state"
RESOURCE_REQUESTED = "resource.requested"
RESOURCE_ALLOCATED = "resource.allocated"
RESOURCE_RELEASED = "resource.released"
RESOURCE_CANCELLED = "resource.cancelled"
MEETING_RECORDED = "meeting.recorded"

_IMPACT = {"business": ImpactLevel, "stability": ImpactLevel, "reputation": ImpactLevel}
_RESOURCE = {"kind": ResourceKind}


def register() -> None:
    register_event_kind(
        DECLARED,
        _("Declared"),
        _("Incident declared: %(title)s (%(severity)s)."),
        icon="🚨",
        choices={"severity": Severity},
    )
    register_event_kind(
        ASSESSMENT,
        _("Cause and impact"),
        _(
            "Cause and impact updated: %(cause)s; business %(business)s, stability "
            "%(stability)s, reputation %(reputation)s."
        ),
        icon="🔎",
        choices=_IMPACT,
    )
    register_event_kind(CAUSE, _("Cause"), "%(category)s", choices={"category": CauseCategory})
    register_event_kind(
        CAUSE_WITH_DETAIL,
        _("Cause"),
        "%(category)s / %(detail)s",
        choices={"category": CauseCategory, "detail": CauseDetail},
    )
    register_event_kind(
        STATE,
        _("State change"),
        _("State: %(from)s → %(to)s. %(note)s"),
        icon="➡",
        choices={"from": IncidentState, "to": IncidentState},
    )
    # Notes and decisions are typed by staff: their text is stored as it was written.
    register_event_kind(NOTE, _("Note"), icon="📝")
    register_event_kind(DECISION, _("Decision"), icon="⚖")
    register_event_kind(
        TEAM_JOINED,
        _("Team"),
        _("%(user)s joined the team as %(role)s."),
        icon="👥",
        choices={"role": TeamRole},
    )
    register_event_kind(
        TEAM_ACKNOWLEDGED,
        _("Team"),
        _("%(user)s acknowledged the assignment as %(role)s."),
        icon="👥",
        choices={"role": TeamRole},
    )
    register_event_kind(TASK_ADDED, _("Task"), _("Task added: %(task)s."), icon="☑")
    register_event_kind(TASK_UPDATED, _("Task"), _("Task “%(task)s”: %(changes)s."), icon="☑")
    register_event_kind(TASK_OWNER, _("Task"), _("owner: %(user)s"))
    register_event_kind(TASK_DUE, _("Task"), _("due time changed"))
    register_event_kind(TASK_STATE, _("Task"), "%(state)s", choices={"state": TaskState})
    register_event_kind(
        RESOURCE_REQUESTED,
        _("Resource"),
        _("Requested %(kind)s: %(description)s × %(quantity)s."),
        icon="🧰",
        choices=_RESOURCE,
    )
    register_event_kind(
        RESOURCE_ALLOCATED,
        _("Resource"),
        _("Allocated %(kind)s: %(description)s × %(quantity)s."),
        icon="🧰",
        choices=_RESOURCE,
    )
    register_event_kind(
        RESOURCE_RELEASED,
        _("Resource"),
        _("Released %(kind)s: %(description)s × %(quantity)s."),
        icon="🧰",
        choices=_RESOURCE,
    )
    register_event_kind(
        RESOURCE_CANCELLED,
        _("Resource"),
        _("Cancelled the request for %(kind)s: %(description)s × %(quantity)s."),
        icon="🧰",
        choices=_RESOURCE,
    )
    register_event_kind(
        MEETING_RECORDED,
        _("Meeting"),
        _("Coordination meeting recorded: %(title)s."),
        icon="🗓",
    )
    # Entries written before kinds were data: only a badge, their stored text is the message.
    for code, label in (
        ("team", _("Team")),
        ("task", _("Task")),
        ("resource", _("Resource")),
        ("meeting", _("Meeting")),
    ):
        register_event_kind(code, label)
