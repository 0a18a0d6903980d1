"""Running a drill (9.2): an incident flagged as a drill, phase times, injects, the close."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import format_lazy

from apps.core.errors import DomainError, StaleRecord
from apps.evaluations import action_selectors as evaluation_actions
from apps.evaluations import services as evaluations
from apps.evaluations.choices import ActionCategory
from apps.evaluations.models import ImprovementAction
from apps.incidents import services as incidents

from .. import events
from ..choices import PHASE_INCIDENT_FIELD, DrillPhase, RunState
from ..errors import DrillsError
from ..models import DrillPlan, DrillRun, PhaseTime
from .common import CLOCK_SKEW, not_in_future

if TYPE_CHECKING:
    from apps.accounts.models import User


def start_drill(*, plan: DrillPlan, by: User) -> DrillRun:
    """Open an incident flagged as a drill with the plan's checklist templates; one running
    drill per plan (a unique partial index: a double click or a second tab gets the first)."""
    try:
        with transaction.atomic():
            plan = DrillPlan.objects.select_for_update().get(pk=plan.pk)
            running = plan.runs.filter(state=RunState.RUNNING).first()
            if running is not None:
                raise DomainError(DrillsError.DRILL_ALREADY_RUNNING, params={"id": running.pk})
            now = timezone.now()
            templates = list(plan.templates.all())
            incident = incidents.declare_incident(
                title=plan.title,
                severity=plan.severity,
                detected_at=now,
                by=by,
                description=plan.objectives,
                cause_category=plan.scenario_category,
                cause_detail=plan.scenario_detail,
                is_drill=True,
                templates=templates or None,
            )
            with transaction.atomic():  # savepoint: the unique index is the last word
                run = DrillRun.objects.create(
                    plan=plan, incident=incident, started_at=incident.declared_at, started_by=by
                )
            PhaseTime.objects.create(
                run=run, phase=DrillPhase.DECLARED, reached_at=incident.declared_at, recorded_by=by
            )
            incidents.post_event(
                incident=incident, kind=events.STARTED, params={"plan": plan.title}, by=by
            )
            return run
    except IntegrityError:
        running = DrillRun.objects.filter(plan=plan, state=RunState.RUNNING).first()
        if running is None:
            raise
        raise DomainError(DrillsError.DRILL_ALREADY_RUNNING, params={"id": running.pk}) from None


def _lock_open(run: DrillRun, version: int | str | None = None) -> DrillRun:
    locked = DrillRun.objects.select_for_update().select_related("plan", "incident").get(pk=run.pk)
    if version not in (None, "") and int(version) != locked.version:
        raise StaleRecord()
    if locked.state != RunState.RUNNING:
        raise DomainError(DrillsError.RUN_CLOSED)
    return locked


@transaction.atomic
def record_phase(*, run: DrillRun, phase: str, at: datetime, by: User) -> PhaseTime:
    """When the drill reached ``phase`` (recorded again: corrected); posted to the timeline."""
    run = _lock_open(run)
    if phase not in DrillPhase.values:
        raise DomainError(DrillsError.EMPTY_TEXT, field="phase")
    not_in_future(at, field="at")
    if at < run.started_at - CLOCK_SKEW:
        raise DomainError(DrillsError.BEFORE_DRILL_START, field="at")
    at = max(at, run.started_at)
    record, _created = PhaseTime.objects.update_or_create(
        run=run, phase=phase, defaults={"reached_at": at, "recorded_by": by}
    )
    target = run.plan.target_minutes(phase)
    incidents.post_event(
        incident=run.incident,
        kind=events.PHASE,
        params={
            "phase": phase,
            "minutes": record.minutes,
            "target": "—" if target is None else target,
        },
        by=by,
        at=at,
    )
    return record


@transaction.atomic
def inject(*, run: DrillRun, text: str, by: User, remark: bool = False) -> None:
    """An observer's injected event (or remark) on the drill's timeline, as typed."""
    run = _lock_open(run)
    text = text.strip()
    if not text:
        raise DomainError(DrillsError.EMPTY_TEXT, field="text")
    incidents.post_event(
        incident=run.incident, kind=events.REMARK if remark else events.INJECT, text=text, by=by
    )


@dataclass
class ActionInput:
    description: str
    owner: User | None
    due_on: date | None


TITLE_LENGTH = 200


def action_title(description: str) -> str:
    """The board's one-line title: the description's first line, shortened if need be."""
    first = description.strip().splitlines()[0].strip()
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1] + "…"


def _add_action(run: DrillRun, action: ActionInput, by: User) -> ImprovementAction:
    """Evaluations owns improvement actions (10.2): a drill's go there with the run as finding."""
    if not action.description.strip() or action.owner is None or action.due_on is None:
        raise DomainError(DrillsError.ACTION_INCOMPLETE, field="description")
    return evaluations.create_improvement_action(
        title=action_title(action.description),
        description=action.description.strip(),
        category=ActionCategory.DRILLS,
        owner=action.owner,
        due=action.due_on,
        source=run,
        by=by,
    )


@transaction.atomic
def add_improvement_action(
    *, run: DrillRun, description: str, owner: User | None, due_on: date | None, by: User
) -> ImprovementAction:
    """An improvement action (owner, due date); allowed after the close too, for the review."""
    run = DrillRun.objects.select_for_update().get(pk=run.pk)
    return _add_action(run, ActionInput(description, owner, due_on), by)


def labels(phases: list[str]) -> list[Any]:
    return [DrillPhase(p).label for p in phases]


def missing_phases(run: DrillRun) -> list[str]:
    have = set(run.phase_times.values_list("phase", flat=True))
    return [p for p in DrillPhase.values if p not in have]


@transaction.atomic
def close_drill(
    *,
    run: DrillRun,
    by: User,
    went_wrong: str = "",
    actions: list[ActionInput] | None = None,
    version: int | str | None = None,
) -> DrillRun:
    """End the drill: every phase needs its time (taken from the incident's own state times
    when staff moved it on the real tools), then the lessons and improvement actions."""
    run = _lock_open(run, version)
    for phase in missing_phases(run):
        at = getattr(run.incident, PHASE_INCIDENT_FIELD[phase])
        if at is not None:
            PhaseTime.objects.create(
                run=run, phase=phase, reached_at=max(at, run.started_at), recorded_by=None
            )
    still = missing_phases(run)
    if still:
        raise DomainError(
            DrillsError.PHASE_TIMES_MISSING,
            # Lazy: the labels are rendered in the reader's language when the message is shown.
            params={"phases": format_lazy(", ".join(["{}"] * len(still)), *labels(still))},
        )
    earlier = evaluation_actions.actions_for(run).count()
    added = [_add_action(run, a, by) for a in actions or [] if a.description.strip()]
    run.state = RunState.CLOSED
    run.closed_at, run.closed_by = timezone.now(), by
    run.went_wrong = went_wrong.strip()
    run.version += 1
    run._change_reason = "closed"
    run.save()
    incidents.post_event(
        incident=run.incident,
        kind=events.CLOSED,
        params={"actions": len(added) + earlier},
        by=by,
    )
    incidents.close_drill_incident(incident=run.incident, by=by)
    return run
