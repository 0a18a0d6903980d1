"""Planning drills (9.1): scenario, objectives, target times, people, calendar, invitations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.choices import Channel
from apps.core.errors import DomainError
from apps.core.notifications import send_notification

from ..choices import DrillPhase, Repeat
from ..errors import DrillsError
from ..models import DrillPlan

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.incidents.models import TaskTemplate

INVITE_SUBJECT = _("Drill planned: %(title)s")
INVITE_BODY = _(
    "You are invited to the drill “%(title)s” as %(as)s, first on %(when)s for %(minutes)s "
    "minutes (%(repeat)s).\n\nScenario: %(scenario)s\nObjectives:\n%(objectives)s\n\n"
    "Your calendar feed on the Drills page lists every drill and training session."
)
AS_PARTICIPANT = _("a participant")
AS_OBSERVER = _("an observer")


def _windows(plan: DrillPlan) -> list[tuple[datetime, datetime]]:
    span = timedelta(minutes=plan.duration_minutes)
    return [(start, start + span) for start in plan.occurrences()]


def overlapping_plans(
    plan: DrillPlan, people: set[int], *, exclude: int | None = None
) -> list[DrillPlan]:
    """Other plans with one of ``people`` whose drills overlap one of ``plan``'s in time."""
    mine = _windows(plan)
    if not mine:
        return []
    last = mine[-1][1]
    candidates = (
        DrillPlan.objects.filter(participants__in=people)
        .union(DrillPlan.objects.filter(observers__in=people))
        .values_list("pk", flat=True)
    )
    others = DrillPlan.objects.filter(pk__in=list(candidates), scheduled_at__lt=last).order_by("pk")
    found = []
    for other in others:
        if other.pk == exclude:
            continue
        if any(s < oe and os < e for s, e in mine for os, oe in _windows(other) if os < last):
            found.append(other)
    return found


def _clean_targets(phase_targets: dict[str, Any]) -> dict[str, int]:
    cleaned = {}
    for phase in DrillPhase.values:
        value = phase_targets.get(phase)
        if value in (None, ""):
            continue
        cleaned[phase] = int(value)
    return cleaned


@transaction.atomic
def plan_drill(
    *,
    title: str,
    scheduled_at: datetime,
    participants: Iterable[User],
    by: User,
    observers: Iterable[User] = (),
    templates: Iterable[TaskTemplate] = (),
    scenario_category: str = "",
    scenario_detail: str = "",
    severity: str = "critical",
    objectives: str = "",
    phase_targets: dict[str, Any] | None = None,
    duration_minutes: int = 120,
    repeat: str = Repeat.NONE,
    repeat_until: date | None = None,
    confirm_overlap: bool = False,
) -> DrillPlan:
    """Save a drill plan and invite its people (each in their own language).

    A drill that overlaps another for one of the same people is refused unless
    ``confirm_overlap`` says the planner saw the warning.
    """
    from apps.incidents.services.common import _check_cause

    participants, observers = list(participants), list(observers)
    if not participants:
        raise DomainError(DrillsError.NO_PARTICIPANTS, field="participants")
    if repeat != Repeat.NONE and repeat_until and repeat_until < timezone.localdate(scheduled_at):
        raise DomainError(DrillsError.ENDS_BEFORE_START, field="repeat_until")
    _check_cause(scenario_category, scenario_detail)
    plan = DrillPlan(
        title=title,
        scheduled_at=scheduled_at,
        scenario_category=scenario_category,
        scenario_detail=scenario_detail,
        severity=severity,
        objectives=objectives,
        phase_targets=_clean_targets(phase_targets or {}),
        duration_minutes=duration_minutes,
        repeat=repeat,
        repeat_until=repeat_until if repeat != Repeat.NONE else None,
        created_by=by,
    )
    plan.full_clean()
    people = {u.pk for u in participants + observers}
    clashes = overlapping_plans(plan, people)
    if clashes and not confirm_overlap:
        raise DomainError(
            DrillsError.OVERLAP,
            params={"others": ", ".join(p.title for p in clashes)},
            field="confirm_overlap",
        )
    plan._change_reason = "planned"  # type: ignore[attr-defined]
    plan._history_user = by  # type: ignore[attr-defined]
    plan.save()
    plan.participants.set(participants)
    plan.observers.set(observers)
    plan.templates.set(list(templates))
    for person, role in [(u, AS_PARTICIPANT) for u in participants] + [
        (u, AS_OBSERVER) for u in observers if u not in participants
    ]:
        _invite(plan, person, role, by)
    return plan


def _invite(plan: DrillPlan, person: User, role: Any, by: User) -> None:
    if not person.email:
        return
    send_notification(
        channel=Channel.EMAIL,
        recipient=person,
        subject=INVITE_SUBJECT,
        body=INVITE_BODY,
        params={
            "title": plan.title,
            "as": role,
            "when": f"{timezone.localtime(plan.scheduled_at):%Y-%m-%d %H:%M}",
            "minutes": plan.duration_minutes,
            "repeat": _Lazy(plan.get_repeat_display),
            "scenario": _Lazy(lambda: _scenario(plan)),
            "objectives": plan.objectives or "—",
        },
        by=by,
    )


def _scenario(plan: DrillPlan) -> str:
    parts = [
        str(plan.get_scenario_category_display() or ""),
        str(plan.get_scenario_detail_display() or ""),
    ]
    return " / ".join(p for p in parts if p) or "—"


class _Lazy:
    """A parameter rendered when the message is (in the recipient's language)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def __str__(self) -> str:
        return str(self.fn())
