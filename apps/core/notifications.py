"""One service to tell a person something, by e-mail or SMS, in that person's language.

The message is rendered at once in the recipient's language and stored; delivery happens on a
worker so a slow gateway never blocks a page, and its outcome is written back to the record.

The stored row is also the outbox: when Redis refuses the delivery, the row says "waiting for
the queue" and ``sweep_waiting_notifications`` (``manage.py sweep_outbox``) enqueues it again
once Redis answers. A worker claims a row with one conditional UPDATE before sending, so a
message enqueued twice is still sent once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .choices import Channel, NotificationState
from .errors import CoreError, DomainError
from .jobs import enqueue, enqueue_now, queue_errors
from .models import Notification
from .sms import get_sms_backend

logger = logging.getLogger(__name__)


def _render(template, params: dict[str, Any]) -> str:
    text = str(template)
    return text % params if params else text


@transaction.atomic
def send_notification(
    *,
    channel: str,
    subject,
    body,
    params: dict[str, Any] | None = None,
    recipient=None,
    address: str | None = None,
    language: str | None = None,
    by=None,
) -> Notification:
    """Queue a message to ``recipient`` (a user) or to a bare ``address`` (a customer).

    ``subject`` and ``body`` are lazily translated strings with ``%(name)s`` placeholders, so the
    text is produced in the recipient's language, not the sender's.
    """
    if channel not in Channel.values:
        raise DomainError(CoreError.UNKNOWN_CHANNEL, field="channel")
    if address is None and recipient is not None:
        address = recipient.email if channel == Channel.EMAIL else recipient.phone
    if not address:
        who = str(recipient) if recipient is not None else _("The recipient")
        raise DomainError(CoreError.NO_ADDRESS, params={"who": who})
    language = language or getattr(recipient, "language", None) or settings.LANGUAGE_CODE
    params = params or {}
    with translation.override(language):
        subject_text = _render(subject, params) if subject else ""
        body_text = _render(body, params)
    notification = Notification.objects.create(
        recipient=recipient,
        channel=channel,
        address=address,
        language=language,
        subject=subject_text[:200],
        body=body_text,
        created_by=by,
    )
    _enqueue_delivery(notification.pk)
    return notification


DELIVER = "apps.core.notifications.deliver_notification"
# A row still "queued" this long after it was written lost its place in Redis (a restart with
# no persistence, a flushed queue): the sweeper enqueues it again; the worker's claim makes a
# second copy harmless.
REQUEUE_AFTER = timedelta(minutes=10)
# A row "sending" this long was claimed by a worker that never recorded the gateway's answer:
# it is marked unknown (never sent again by itself: it may have gone out).
SENDING_TIMEOUT = timedelta(minutes=10)


def _enqueue_delivery(notification_id: int) -> None:
    def park(exc: BaseException) -> None:
        Notification.objects.filter(pk=notification_id, state=NotificationState.QUEUED).update(
            state=NotificationState.WAITING, error=f"{type(exc).__name__}: {exc}"[:2000]
        )

    enqueue(DELIVER, notification_id, on_queue_error=park)


def resend_notification(*, notification_id: int, by: Any) -> Notification:
    """Send a failed (or unknown) message again, as a new row; the old one points to it.

    The old row is locked and may be sent again once: a double click or two members of staff
    at once get the same new row, not two messages."""
    with transaction.atomic():
        old = Notification.objects.select_for_update().get(pk=notification_id)
        if old.resent_as_id is not None:
            return Notification.objects.get(pk=old.resent_as_id)
        if old.state not in (NotificationState.FAILED, NotificationState.UNKNOWN):
            raise DomainError(CoreError.NOT_RESENDABLE, params={"state": old.get_state_display()})
        new = Notification.objects.create(
            recipient=old.recipient,
            channel=old.channel,
            address=old.address,
            language=old.language,
            subject=old.subject,
            body=old.body,
            created_by=by,
        )
        old.resent_as = new
        old.save(update_fields=["resent_as"])
        _enqueue_delivery(new.pk)
    return new


def sweep_waiting_notifications(*, now=None) -> int:
    """Enqueue the notifications waiting for the queue (and those lost by it); returns how many.

    First, rows left "sending" by a worker that stopped are marked unknown (not sent again).

    Each row is claimed waiting → queued with a conditional UPDATE, so concurrent sweepers do
    not both enqueue it; when Redis fails again the row goes back to waiting.
    """
    now = now or timezone.now()
    Notification.objects.filter(
        Q(claimed_at__lt=now - SENDING_TIMEOUT)
        | Q(claimed_at__isnull=True, created_at__lt=now - SENDING_TIMEOUT),
        state=NotificationState.SENDING,
    ).update(state=NotificationState.UNKNOWN)
    due = Notification.objects.filter(
        Q(state=NotificationState.WAITING)
        | Q(state=NotificationState.QUEUED, created_at__lt=now - REQUEUE_AFTER)
    ).order_by("created_at")
    sent = 0
    for notification in due.only("pk", "state"):
        if not Notification.objects.filter(pk=notification.pk, state=notification.state).update(
            state=NotificationState.QUEUED
        ):
            continue
        try:
            enqueue_now(DELIVER, notification.pk)
        except queue_errors() as exc:
            logger.warning("notification %s still waits for the queue: %s", notification.pk, exc)
            Notification.objects.filter(pk=notification.pk, state=NotificationState.QUEUED).update(
                state=NotificationState.WAITING
            )
            break
        sent += 1
    return sent


def deliver_notification(notification_id: int) -> str:
    """Worker side: send one stored message and record the outcome (never raises).

    The row is claimed (queued or waiting → sending) by one conditional UPDATE: of two copies
    of this call, only the one that claims it sends.
    """
    claimed = Notification.objects.filter(
        pk=notification_id, state__in=[NotificationState.QUEUED, NotificationState.WAITING]
    ).update(state=NotificationState.SENDING, attempts=F("attempts") + 1, claimed_at=timezone.now())
    notification = Notification.objects.get(pk=notification_id)
    if not claimed:
        logger.info(
            "notification %s is %s: not sending it again", notification_id, notification.state
        )
        return notification.state
    try:
        if notification.channel == Channel.EMAIL:
            message = EmailMessage(
                subject=notification.subject,
                body=notification.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[notification.address],
            )
            message.send(fail_silently=False)
            reference = message.extra_headers.get("Message-ID", "")
        else:
            reference = get_sms_backend().send(phone=notification.address, text=notification.body)
    except Exception as exc:  # noqa: BLE001 - any gateway failure is recorded, not raised
        logger.warning("notification %s failed: %s", notification_id, exc)
        Notification.objects.filter(pk=notification_id).update(
            state=NotificationState.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        return NotificationState.FAILED
    Notification.objects.filter(pk=notification_id).update(
        state=NotificationState.SENT,
        sent_at=timezone.now(),
        provider_reference=str(reference)[:200],
        error="",
    )
    return NotificationState.SENT
