"""Outreach's wiring, called from the app's ``ready``: event kinds, the survey sent when a case
is resolved, and the care plan's periodic reminder."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


def _survey_on_resolve(sender, instance, created, **kwargs) -> None:
    """A case's ``care.state`` event to resolved (written by the desk's ``change_state``) sends
    the customer a survey once the change commits."""
    from .choices import CaseState
    from .events import STATE

    if not created or instance.kind != STATE or instance.params.get("to") != CaseState.RESOLVED:
        return
    case_id, by_id = instance.case_id, instance.by_id

    def send() -> None:
        from apps.accounts.models import User

        from .models import Case
        from .services import outreach

        case = Case.objects.select_related("customer").get(pk=case_id)
        by = User.objects.filter(pk=by_id).first() if by_id else None
        outreach.send_survey(case=case, by=by)

    transaction.on_commit(send)


def register() -> None:
    from apps.core.schedules import register_schedule

    from . import outreach_events
    from .models import CaseEvent

    outreach_events.register()
    post_save.connect(_survey_on_resolve, sender=CaseEvent, dispatch_uid="care_outreach_survey")
    register_schedule(
        "customer_care.care_plan_due",
        task="apps.customer_care.outreach_selectors.remind_due_contacts",
        every=timedelta(hours=1),
        label=_("Remind care leads of VIP contacts that are due"),
    )
