"""One service to tell a person something, by e-mail or SMS, in that person's language.

The message is rendered at once in the recipient's language and stored; delivery happens on a
worker so a slow gateway never blocks a page, and its outcome is written back to the record.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .choices import Channel, NotificationState
from .errors import DomainError
from .jobs import enqueue
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
        raise DomainError(_("Unknown notification channel."))
    if address is None and recipient is not None:
        address = recipient.email if channel == Channel.EMAIL else recipient.phone
    if not address:
        raise DomainError(
            _("%(who)s has no address for this channel.") % {"who": recipient or _("The recipient")}
        )
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
    enqueue("apps.core.notifications.deliver_notification", notification.pk)
    return notification


def deliver_notification(notification_id: int) -> str:
    """Worker side: send one stored message and record the outcome (never raises)."""
    notification = Notification.objects.get(pk=notification_id)
    if notification.state == NotificationState.SENT:
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
            attempts=notification.attempts + 1,
        )
        return NotificationState.FAILED
    Notification.objects.filter(pk=notification_id).update(
        state=NotificationState.SENT,
        sent_at=timezone.now(),
        provider_reference=str(reference)[:200],
        error="",
        attempts=notification.attempts + 1,
    )
    return NotificationState.SENT
