"""Checklist templates: edited by managers, copied onto each new incident as tasks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction

from ..models import Incident, Task, TaskTemplate
from ..signals import checklist_changed, checklist_changing
from .common import _to_minute

if TYPE_CHECKING:
    from apps.accounts.models import User


def instantiate_templates(
    *, incident: Incident, templates: Iterable[TaskTemplate] | None = None
) -> list[Task]:
    """Copy every active checklist template (or the ``templates`` given) onto the incident."""
    chosen = TaskTemplate.objects.filter(is_active=True) if templates is None else templates
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
        for t in chosen
    ]
    return Task.objects.bulk_create(tasks)


@transaction.atomic
def save_task_template(*, template: TaskTemplate, by: User) -> TaskTemplate:
    """Every change of the live checklist (templates page, admin, an approved plan change) comes
    here, so the living plan versions each one (``signals.checklist_changed``)."""
    template.full_clean()
    checklist_changing.send(sender=TaskTemplate, template=template, by=by)
    template._change_reason = "edited on the templates page"
    template._history_user = by
    template.save()
    checklist_changed.send(sender=TaskTemplate, template=template, by=by)
    return template
