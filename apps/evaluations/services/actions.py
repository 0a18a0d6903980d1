"""Improvement actions (10.2): created from a finding, moved through their states, reminded."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError, StaleRecord
from apps.core.notifications import send_notification

from ..choices import ACTION_TRANSITIONS, ActionCategory, ActionState, ReminderKind
from ..errors import EvaluationError
from ..models import ActionReminder, ImprovementAction

if TYPE_CHECKING:
    from apps.accounts.models import User

logger = logging.getLogger(__name__)

REMINDER_SUBJECT = _("Improvement action due on %(due)s: %(title)s")
REMINDER_BODY = _(
    "The improvement action “%(title)s” (%(category)s) is yours and is due on %(due)s.\n"
    "Update it on the improvement board when it is done."
)
OVERDUE_SUBJECT = _("Improvement action overdue since %(due)s: %(title)s")
OVERDUE_BODY = _(
    "The improvement action “%(title)s” (%(category)s) was due on %(due)s and is still open.\n"
    "Finish it, or agree a new due date with your manager."
)


@transaction.atomic
def create_improvement_action(
    *,
    title: str,
    category: str,
    owner: User,
    due: date,
    by: User,
    source: models.Model | None = None,
    finding: str = "",
    description: str = "",
) -> ImprovementAction:
    """Record an action owed after a finding: a report's dimension, a drill, a care case, …

    ``source`` is any saved row (linked generically); ``finding`` says which part of it (e.g. a
    report's dimension code). Drills and customer care call this too.
    """
    if category not in ActionCategory.values:
        raise DomainError(
            EvaluationError.UNKNOWN_CATEGORY, params={"category": category}, field="category"
        )
    if not owner.is_active:
        raise DomainError(
            EvaluationError.OWNER_INACTIVE, params={"owner": str(owner)}, field="owner"
        )
    if due < timezone.localdate():
        raise DomainError(EvaluationError.DUE_IN_PAST, params={"due": due.isoformat()}, field="due")
    if source is not None and source.pk is None:
        raise DomainError(EvaluationError.UNKNOWN_FINDING)
    action = ImprovementAction(
        title=title.strip(),
        description=description,
        category=category,
        owner=owner,
        due=due,
        finding=finding,
        created_by=by,
    )
    if source is not None:
        action.source_type = ContentType.objects.get_for_model(source)
        action.source_id = source.pk
    action.full_clean()
    action._change_reason = "created"
    action._history_user = by
    action.save()
    return action


@transaction.atomic
def set_action_state(
    *, action: ImprovementAction, state: str, by: User, version: int | None
) -> ImprovementAction:
    """Move an action along (open → in progress → done, or cancelled), refusing stale edits."""
    action = ImprovementAction.objects.select_for_update().get(pk=action.pk)
    if version is not None and int(version) != action.version:
        raise StaleRecord()
    if state not in ACTION_TRANSITIONS.get(action.state, set()):
        raise DomainError(
            EvaluationError.ACTION_TRANSITION,
            params={
                "from": ActionState(action.state).label,
                "to": ActionState(state).label if state in ActionState.values else state,
            },
            field="state",
        )
    action.state = state
    action.done_at = timezone.now() if state == ActionState.DONE else None
    action.version += 1
    action._change_reason = f"state → {state}"
    action._history_user = by
    action.save()
    return action


def _remind(action: ImprovementAction, kind: str) -> bool:
    """Send one reminder unless this (action, kind, due date) already had one."""
    try:
        with transaction.atomic():
            ActionReminder.objects.create(action=action, kind=kind, due=action.due)
            subject, body = (
                (REMINDER_SUBJECT, REMINDER_BODY)
                if kind == ReminderKind.BEFORE_DUE
                else (OVERDUE_SUBJECT, OVERDUE_BODY)
            )
            params: dict[str, Any] = {
                "title": action.title,
                "due": action.due.isoformat(),
                "category": ActionCategory(action.category).label,
            }
            send_notification(
                channel="email", recipient=action.owner, subject=subject, body=body, params=params
            )
    except IntegrityError:
        return False  # another run sent it
    except DomainError:
        logger.warning("improvement action %s: owner has no e-mail address", action.pk)
        return False
    return True


def send_action_reminders(*, today: date | None = None) -> int:
    """Remind owners of open actions due within the notice period, and once more when overdue.

    Safe to run as often as wanted: each (action, kind, due date) is reminded once; moving the
    due date starts over.
    """
    today = today or timezone.localdate()
    notice = timedelta(days=settings.EVALUATION_REMINDER_DAYS_BEFORE)
    sent = 0
    open_actions = ImprovementAction.objects.filter(
        state__in=ActionState.open_states(), due__lte=today + notice
    ).select_related("owner")
    for action in open_actions:
        kind = ReminderKind.OVERDUE if action.due < today else ReminderKind.BEFORE_DUE
        sent += _remind(action, kind)
    return sent
