"""Managers' settings of the desk: response targets per priority and channel, teams' hours."""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING

from django.db import transaction

from apps.core.errors import full_clean_or_refuse

from ..errors import CareError
from ..models import ResponseTarget, Team
from .common import refuse

if TYPE_CHECKING:
    from apps.accounts.models import User


@transaction.atomic
def save_response_target(
    *,
    priority: str,
    channel: str = "",
    first_response_minutes: int,
    resolution_minutes: int,
    by: User,
) -> ResponseTarget:
    """Set the targets for a priority (and channel); applies to cases opened from now on."""
    if resolution_minutes < first_response_minutes:
        raise refuse(CareError.BAD_TARGET, field="resolution_minutes")
    target = ResponseTarget.objects.select_for_update().filter(
        priority=priority, channel=channel
    ).first() or ResponseTarget(priority=priority, channel=channel)
    target.first_response_minutes = first_response_minutes
    target.resolution_minutes = resolution_minutes
    target._change_reason = f"by {by.pk}"  # type: ignore[attr-defined]
    full_clean_or_refuse(target)
    target.save()
    return target


@transaction.atomic
def save_team(
    *,
    name: str,
    opens_at: time,
    closes_at: time,
    weekdays: list[int],
    round_the_clock: bool = False,
    lead: User | None = None,
    members: list[User] | None = None,
    team: Team | None = None,
    by: User,
) -> Team:
    team = team or Team()
    team.name = name.strip()
    team.opens_at, team.closes_at = opens_at, closes_at
    team.weekdays = sorted({int(d) for d in weekdays})
    team.round_the_clock = round_the_clock
    team.lead = lead
    full_clean_or_refuse(team)
    team.save()
    if members is not None:
        team.members.set(members)
    return team
