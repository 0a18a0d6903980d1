"""Satisfaction (7.3.2–7.3.3): a one-time survey link when a case is resolved, follow-ups for
low scores and complaints, and the care plan's contacts with affected VIP customers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError

from ... import outreach_events as events
from ...choices import CaseType
from ...models import Case, FollowUp, PlannedContact, Survey
from ...outreach_choices import FollowUpReason, FollowUpState
from ...outreach_errors import OutreachError
from ..common import record
from . import tokens
from .notices import public_url

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.manual_orders.models import Customer

SURVEY_SUBJECT = _("How did we do? (case %(reference)s)")
SURVEY_BODY = _(
    "Your case %(reference)s has been resolved. Please tell us how we did (one click, no sign-in): "
    "%(url)s"
)


def survey_token(survey: Survey) -> str:
    return tokens.make_token(tokens.SURVEY, survey.pk, nonce=survey.nonce)


def survey_url(survey: Survey) -> str:
    return public_url(reverse("care_public:survey", kwargs={"token": survey_token(survey)}))


@transaction.atomic
def send_survey(*, case: Case, by: User | None = None) -> Survey | None:
    """Send the resolved case's customer a survey link (e-mail when there is an address, else
    SMS), in their language. Returns None when the customer cannot be reached."""
    from apps.core.notifications import send_notification

    customer = case.customer
    email = case.reply_address
    phone = customer.phone if customer is not None else case.contact_phone
    if not email and not phone:
        return None
    survey = Survey.objects.create(case=case, nonce=tokens.new_nonce())
    language = customer.language if customer is not None else settings.LANGUAGE_CODE
    params = {"reference": case.reference, "url": survey_url(survey)}
    channel, address = ("email", email) if email else ("sms", phone)
    send_notification(
        channel=channel,
        address=address,
        subject=SURVEY_SUBJECT,
        body=SURVEY_BODY,
        params=params,
        language=language,
        by=by,
    )
    record(case, events.SURVEY_SENT, by=by, address=address)
    return survey


def _survey_from(token: str) -> Survey:
    parts = tokens.read_token(
        tokens.SURVEY,
        token,
        max_age_seconds=timedelta(days=settings.CARE_SURVEY_MAX_AGE_DAYS).total_seconds(),
    )
    if len(parts) != 2 or not parts[0].isdigit():
        raise tokens.bad_link()
    survey = Survey.objects.select_for_update().filter(pk=int(parts[0]), nonce=parts[1]).first()
    if survey is None or survey.answered_at is not None:
        raise tokens.bad_link()
    return survey


@transaction.atomic
def check_survey_token(token: str) -> Survey:
    """The survey a link opens; the same refusal for forged, expired, answered or unknown."""
    return _survey_from(token)


@transaction.atomic
def answer_survey(*, token: str, score: int, comment: str = "") -> Survey:
    """Record a rating once; a low score or a complaint opens a follow-up for the lead."""
    survey = _survey_from(token)
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise DomainError(OutreachError.BAD_SCORE, field="score")
    survey.score = score
    survey.comment = comment.strip()[:4000]
    survey.answered_at = timezone.now()
    survey.save()
    case = Case.objects.get(pk=survey.case_id)
    record(case, events.SURVEY_ANSWERED, by=None, score=score)
    reason = None
    if score <= settings.CARE_SURVEY_FOLLOW_UP_SCORE:
        reason = FollowUpReason.LOW_SCORE
    elif case.case_type == CaseType.COMPLAINT:
        reason = FollowUpReason.COMPLAINT
    if reason is not None:
        FollowUp.objects.create(case=case, survey=survey, reason=reason)
        record(case, events.FOLLOW_UP, by=None, reason=reason)
    return survey


@transaction.atomic
def close_follow_up(*, follow_up: FollowUp, note: str, by: User) -> FollowUp:
    row = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if row.state == FollowUpState.DONE:
        return row
    row.state = FollowUpState.DONE
    row.note = note.strip()
    row.done_by = by
    row.done_at = timezone.now()
    row.save()
    return row


@transaction.atomic
def plan_vip_contacts(
    *, customers: list[Customer], due_at: datetime, purpose: str, by: User
) -> list[PlannedContact]:
    """Schedule a later contact with each affected VIP customer (others are left out)."""
    vips = [c for c in customers if c.vip]
    if not vips:
        raise DomainError(OutreachError.NO_CUSTOMERS, field="customers")
    return PlannedContact.objects.bulk_create(
        [
            PlannedContact(customer=c, due_at=due_at, purpose=purpose.strip(), planned_by=by)
            for c in vips
        ]
    )


@transaction.atomic
def record_contact(*, contact: PlannedContact, outcome: str, by: User) -> PlannedContact:
    row = PlannedContact.objects.select_for_update().get(pk=contact.pk)
    if not outcome.strip():
        raise DomainError(OutreachError.NO_OUTCOME, field="outcome")
    row.contacted_at = timezone.now()
    row.contacted_by = by
    row.outcome = outcome.strip()
    row.save()
    return row
