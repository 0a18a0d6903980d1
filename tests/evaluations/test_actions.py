"""Improvement actions: created from a finding, moved along, reminded before and after due."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.schedules import get_schedule
from apps.evaluations.choices import ActionState, ReminderKind
from apps.evaluations.errors import EvaluationError
from apps.evaluations.models import ActionReminder, EvaluationReport
from apps.evaluations.services import (
    compute_report,
    create_improvement_action,
    send_action_reminders,
    set_action_state,
)
from tests.incidents.factories import IncidentFactory

from .factories import ImprovementActionFactory

pytestmark = pytest.mark.django_db


def _due(days: int):
    return timezone.localdate() + timedelta(days=days)


def test_an_action_links_generically_to_the_finding_that_caused_it(manager):
    report = compute_report(incident=IncidentFactory(), by=manager)
    action = create_improvement_action(
        title="Rehearse restores monthly",
        category="drills",
        owner=manager,
        due=_due(14),
        source=report,
        finding="recovery",
        by=manager,
    )
    action.refresh_from_db()
    assert action.source == report
    assert action.source_type == ContentType.objects.get_for_model(EvaluationReport)
    assert action.finding == "recovery" and action.state == ActionState.OPEN


def test_an_action_from_any_other_row_works_too_for_drills_and_care(manager):
    incident = IncidentFactory()  # a drill is an incident; a care case is any row
    action = create_improvement_action(
        title="t", category="process", owner=manager, due=_due(1), source=incident, by=manager
    )
    assert action.source == incident


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"category": "nonsense"}, EvaluationError.UNKNOWN_CATEGORY),
        ({"due": "past"}, EvaluationError.DUE_IN_PAST),
    ],
)
def test_an_action_with_bad_input_is_refused_with_a_code(manager, kwargs, code):
    values = {"title": "t", "category": "process", "owner": manager, "due": _due(3), "by": manager}
    values.update(kwargs)
    if values["due"] == "past":
        values["due"] = _due(-1)
    with pytest.raises(DomainError) as exc:
        create_improvement_action(**values)
    assert exc.value.code == code


def test_an_inactive_owner_is_refused(manager, make_user):
    gone = make_user("logistics", is_active=False)
    with pytest.raises(DomainError) as exc:
        create_improvement_action(title="t", category="people", owner=gone, due=_due(3), by=manager)
    assert exc.value.code == EvaluationError.OWNER_INACTIVE


def test_actions_follow_their_allowed_transitions(manager):
    action = ImprovementActionFactory()
    action = set_action_state(action=action, state="done", version=action.version, by=manager)
    assert action.done_at is not None
    with pytest.raises(DomainError) as exc:
        set_action_state(action=action, state="cancelled", version=action.version, by=manager)
    assert exc.value.code == EvaluationError.ACTION_TRANSITION


def test_reminders_go_once_before_due_and_once_when_overdue(locmem_mail, settings):
    settings.EVALUATION_REMINDER_DAYS_BEFORE = 3
    soon = ImprovementActionFactory(due=_due(2))
    ImprovementActionFactory(due=_due(10))  # not yet
    assert send_action_reminders() == 1
    assert send_action_reminders() == 0  # a rerun sends nothing twice
    assert [m.to for m in mail.outbox] == [[soon.owner.email]]
    assert soon.title in mail.outbox[0].subject

    later = timezone.localdate() + timedelta(days=3)
    assert send_action_reminders(today=later) == 1  # now overdue (due yesterday)
    kinds = sorted(ActionReminder.objects.filter(action=soon).values_list("kind", flat=True))
    assert kinds == [ReminderKind.BEFORE_DUE, ReminderKind.OVERDUE]
    assert send_action_reminders(today=later) == 0


def test_reminders_are_written_in_the_owners_language(locmem_mail, make_user):
    owner = make_user("manager", language="zh-hans")
    ImprovementActionFactory(owner=owner, due=_due(1), title="演练")
    send_action_reminders()
    assert "改进措施" in mail.outbox[0].subject


def test_done_and_cancelled_actions_are_not_reminded(locmem_mail):
    ImprovementActionFactory(due=_due(-2), state=ActionState.DONE)
    ImprovementActionFactory(due=_due(1), state=ActionState.CANCELLED)
    assert send_action_reminders() == 0


def test_reminders_are_a_registered_schedule_and_a_command(locmem_mail, capsys):
    schedule = get_schedule("evaluations.action_reminders")
    assert schedule.task == "apps.evaluations.services.send_action_reminders"
    ImprovementActionFactory(due=_due(0))
    call_command("remind_improvement_actions")
    assert "1 reminder(s) sent" in capsys.readouterr().out
