"""Training (9.3, 2.3.3): sessions, attendance and assessments, certificates, reminders."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.choices import Channel
from apps.core.errors import DomainError
from apps.core.notifications import send_notification

from ..errors import DrillsError
from ..models import Attendance, Certificate, Course, TrainingSession

if TYPE_CHECKING:
    from apps.accounts.models import User

INVITE_SUBJECT = _("Training: %(course)s on %(when)s")
INVITE_BODY = _(
    "You are invited to the training “%(course)s” on %(when)s (%(minutes)s minutes) at "
    "%(where)s.\n\nYour calendar feed on the Drills page lists every drill and training session."
)
REMINDER_SUBJECT = _("Your certificate “%(course)s” expires on %(date)s")
REMINDER_BODY = _(
    "Your certificate for “%(course)s” expires on %(date)s. Book a session before then to stay "
    "on the emergency rota."
)


class _CourseTitle:
    """The course title in the recipient's language, rendered when the message is."""

    def __init__(self, course: Course) -> None:
        self.course = course

    def __str__(self) -> str:
        return self.course.title


@transaction.atomic
def plan_session(
    *,
    course: Course,
    starts_at: datetime,
    by: User,
    invitees: Iterable[User] = (),
    duration_minutes: int = 90,
    location: str = "",
    trainer: User | None = None,
) -> TrainingSession:
    """Plan a session and invite people (each in their own language)."""
    session = TrainingSession(
        course=course,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        location=location,
        trainer=trainer,
        created_by=by,
    )
    session.full_clean()
    session.save()
    people = list(invitees)
    session.invitees.set(people)
    for person in people:
        if person.email:
            send_notification(
                channel=Channel.EMAIL,
                recipient=person,
                subject=INVITE_SUBJECT,
                body=INVITE_BODY,
                params={
                    "course": _CourseTitle(course),
                    "when": f"{timezone.localtime(starts_at):%Y-%m-%d %H:%M}",
                    "minutes": duration_minutes,
                    "where": location or "—",
                },
                by=by,
            )
    return session


@transaction.atomic
def record_attendance(
    *,
    session: TrainingSession,
    person: User,
    attended: bool,
    by: User,
    score: int | None = None,
    issued_on: date | None = None,
) -> Attendance:
    """Who came and how they scored; a pass issues a certificate valid for the course's period.

    Attendance for a session in the future is refused; a certificate cannot predate its
    session. Recording again corrects the row; the certificate of a session is issued once.
    """
    session = (
        TrainingSession.objects.select_for_update().select_related("course").get(pk=session.pk)
    )
    if session.starts_at > timezone.now():
        raise DomainError(DrillsError.SESSION_IN_FUTURE)
    if score is not None and not 0 <= score <= 100:
        raise DomainError(DrillsError.SCORE_OUT_OF_RANGE, field="score")
    if score is not None and not attended:
        raise DomainError(
            DrillsError.NOT_ATTENDED,
            params={"person": person.get_full_name() or person.username},
            field="score",
        )
    course = session.course
    session_day = timezone.localdate(session.starts_at)
    issued_on = issued_on or timezone.localdate()
    if issued_on < session_day:
        raise DomainError(
            DrillsError.CERTIFICATE_BEFORE_SESSION,
            params={"session": session_day.isoformat()},
            field="issued_on",
        )
    passed = None if score is None else score >= course.pass_mark
    attendance, _created = Attendance.objects.update_or_create(
        session=session,
        user=person,
        defaults={"attended": attended, "score": score, "passed": passed, "recorded_by": by},
    )
    certificate = Certificate.objects.filter(user=person, course=course, session=session)
    if passed:
        expires = issued_on + timedelta(days=course.validity_days)
        if not certificate.exists():
            try:
                with transaction.atomic():
                    Certificate.objects.create(
                        user=person,
                        course=course,
                        session=session,
                        issued_on=issued_on,
                        expires_on=expires,
                    )
            except IntegrityError:
                pass  # a concurrent recording issued it: one certificate per session
    else:
        certificate.delete()  # a corrected score below the mark withdraws it
    return attendance


def send_expiry_reminders(*, today: date | None = None) -> int:
    """Remind each holder once of a certificate expiring within
    ``DRILLS_CERTIFICATE_REMINDER_DAYS`` unless a newer one of the course already replaces it.

    Safe to run twice: each certificate is claimed by one conditional UPDATE before sending.
    """
    today = today or timezone.localdate()
    horizon = today + timedelta(days=settings.DRILLS_CERTIFICATE_REMINDER_DAYS)
    due = Certificate.objects.filter(
        reminded_at__isnull=True, expires_on__gte=today, expires_on__lte=horizon
    ).select_related("user", "course")
    sent = 0
    for cert in due:
        renewed = Certificate.objects.filter(
            user=cert.user_id, course=cert.course_id, expires_on__gt=horizon
        ).exists()
        with transaction.atomic():
            claimed = Certificate.objects.filter(pk=cert.pk, reminded_at__isnull=True).update(
                reminded_at=timezone.now()
            )
            if not claimed or renewed or not cert.user.is_active or not cert.user.email:
                continue
            send_notification(
                channel=Channel.EMAIL,
                recipient=cert.user,
                subject=REMINDER_SUBJECT,
                body=REMINDER_BODY,
                params={"course": _CourseTitle(cert.course), "date": cert.expires_on.isoformat()},
            )
            sent += 1
    return sent


def run_expiry_reminders() -> int:
    """The schedule's task (no arguments)."""
    return send_expiry_reminders()
