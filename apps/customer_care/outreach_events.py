"""Outreach's event kinds (case timeline lines, job titles and steps), rendered when shown."""

from django.db.models import Choices
from django.utils.translation import gettext_lazy as _

from apps.core.events import register_event_kind

from .outreach_choices import CompensationKind, FollowUpReason

COMPENSATED = "care.compensated"
SURVEY_SENT = "care.survey_sent"
SURVEY_ANSWERED = "care.survey_answered"
FOLLOW_UP = "care.follow_up"
NOTICE_TITLE = "care.job.notice"
NOTICE_STEP = "care.job.notice_step"
NOTICE_PAUSED = "care.job.notice_paused"
NOTICE_SENT = "care.notice_sent"
AUDIENCE_TITLE = "care.job.notice_audience"
AUDIENCE_FROM_BACKUP = "care.job.notice_audience_backup"
BULK_TITLE = "care.job.bulk_grant"
BULK_STEP = "care.job.bulk_grant_step"
STATUS_UPDATED = "care.status_updated"


def register() -> None:
    add = register_event_kind
    choices: dict[str, type[Choices]] = {"grant": CompensationKind, "reason": FollowUpReason}
    add(
        COMPENSATED,
        _("Compensation"),
        _("%(grant)s granted, worth %(cost)s."),
        icon="🎁",
        choices=choices,
    )
    add(SURVEY_SENT, _("Survey"), _("Satisfaction survey sent to %(address)s."), icon="☆")
    add(SURVEY_ANSWERED, _("Survey"), _("The customer rated the service %(score)s of 5."), icon="★")
    add(
        FOLLOW_UP,
        _("Follow-up"),
        _("Follow-up for the lead: %(reason)s."),
        icon="⚑",
        choices=choices,
    )
    add(NOTICE_TITLE, _("Notice"), _("Send the notice “%(title)s”"))
    add(NOTICE_STEP, _("Notice"), _("%(done)s of %(total)s messages handled"))
    add(AUDIENCE_TITLE, _("Notice"), _("Read the customers of the notice “%(title)s”"))
    add(
        AUDIENCE_FROM_BACKUP,
        _("Notice"),
        _("The order system does not answer (%(problem)s): reading its latest backup."),
    )
    add(NOTICE_PAUSED, _("Notice"), _("Paused after %(done)s of %(total)s messages"))
    add(
        NOTICE_SENT,
        _("Notice sent"),
        _("Notice “%(title)s” sent to %(sent)s customers (%(failed)s failed)."),
        icon="📣",
    )
    add(BULK_TITLE, _("Compensation"), _("Grant compensation to %(customers)s customers"))
    add(BULK_STEP, _("Compensation"), _("%(done)s of %(total)s customers"))
    add(STATUS_UPDATED, _("Status page"), _("Public status page updated."), icon="🌐")
