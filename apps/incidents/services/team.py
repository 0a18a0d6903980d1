"""The emergency team: assignments, notices, acknowledgements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError
from apps.core.notifications import send_notification

from .. import events
from ..choices import TEAM_ROLE_REQUIRES, Severity, TaskState, TeamRole
from ..errors import IncidentsError
from ..models import Incident, Task, TeamMember
from .common import _holds_any, _require_open
from .timeline import post_event

if TYPE_CHECKING:
    from apps.accounts.models import User

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
    *, incident: Incident, user: User, team_role: str, by: User, incident_url: str = ""
) -> TeamMember:
    """Put ``user`` on the team; refuse people without the role; notify by e-mail and SMS."""
    _require_open(incident)
    if team_role not in TeamRole.values:
        raise DomainError(IncidentsError.UNKNOWN_TEAM_ROLE, field="team_role")
    if not user.is_active or not _holds_any(user, TEAM_ROLE_REQUIRES[team_role]):
        raise DomainError(
            IncidentsError.ROLE_NOT_HELD,
            params={"user": str(user), "role": TeamRole(team_role).label},
            field="user",
        )
    if TeamMember.objects.filter(incident=incident, user=user, team_role=team_role).exists():
        raise DomainError(IncidentsError.ALREADY_ON_TEAM, params={"user": str(user)})
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
def acknowledge_assignment(*, member: TeamMember, by: User) -> TeamMember:
    """The member confirms the assignment; the first acknowledgement is the one kept."""
    member = TeamMember.objects.select_for_update().get(pk=member.pk)
    if member.user_id != by.pk:
        raise DomainError(IncidentsError.NOT_YOUR_ASSIGNMENT)
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
