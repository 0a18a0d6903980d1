"""Progress notices (7.2.1(3)): written in both languages, previewed for one customer, sent on a
worker at a set rate, respecting opt-outs and languages, once per customer and channel.

Idempotency: each (notice, customer, channel) has one ``NoticeDelivery`` row (a unique key);
a worker claims a row ``pending → sending`` with one conditional UPDATE before sending, and
records the outcome after. A run that is killed leaves at most the row it was sending in
``sending``: the next run marks it "interrupted while sending" for staff to check, and never
sends it again, so nobody gets two copies.
"""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from apps.core.errors import DomainError
from apps.core.events import message
from apps.core.sms import get_sms_backend
from apps.core.timeline import post_to_timeline

from ... import outreach_events as events
from ...choices import OPEN_STATES
from ...models import Case, Notice, NoticeDelivery, OptOut
from ...outreach_choices import DeliveryChannel, DeliveryState, NoticeAudience, NoticeState
from ...outreach_errors import OutreachError
from . import tokens

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from apps.accounts.models import User
    from apps.core.jobs import Progress
    from apps.core.models import JobRecord
    from apps.incidents.models import Incident
    from apps.manual_orders.models import Customer

logger = logging.getLogger(__name__)

PHONE = re.compile(r"^\+?\d{6,15}$")
CREATE_BATCH = 2000
PAUSE_CHECK_SECONDS = 0.5


def _lock(notice: Notice, version: int | None) -> Notice:
    locked = Notice.objects.select_for_update().get(pk=notice.pk)
    if version is not None and int(version) != locked.version:
        raise DomainError(OutreachError.STALE)
    return locked


@transaction.atomic
def save_notice(
    *,
    title: str,
    audience: str,
    subject_zh: str,
    subject_en: str,
    body_zh: str,
    body_en: str,
    by_sms: bool,
    by_email: bool,
    by: User,
    incident: Incident | None = None,
    rate_per_second: float | None = None,
    notice: Notice | None = None,
    version: int | None = None,
) -> Notice:
    """Write or edit a draft notice (a notice being sent or sent is not edited)."""
    if notice is not None:
        notice = _lock(notice, version)
        if notice.state != NoticeState.DRAFT:
            raise DomainError(
                OutreachError.NOTICE_STATE,
                params={"state": notice.get_state_display(), "action": gettext("edited")},
            )
        notice.version += 1
    else:
        notice = Notice(created_by=by)
    if not (by_sms or by_email):
        raise DomainError(OutreachError.NO_CHANNEL, field="by_sms")
    if incident is None and audience in (
        NoticeAudience.INCIDENT_ORDERS,
        NoticeAudience.ORDER_SYSTEM_ORDERS,
    ):
        from apps.incidents.selectors import get_open_incident

        incident = get_open_incident()
    notice.title = title.strip()
    notice.audience = audience
    notice.incident = incident
    notice.subject_zh, notice.subject_en = subject_zh.strip(), subject_en.strip()
    notice.body_zh, notice.body_en = body_zh.strip(), body_en.strip()
    notice.by_sms, notice.by_email = by_sms, by_email
    notice.rate_per_second = rate_per_second or settings.CARE_NOTICE_RATE_PER_SECOND
    notice.save()
    return notice


def audience_customers(notice: Notice) -> QuerySet[Customer]:
    """The customers a notice goes to, in id order."""
    from apps.manual_orders.models import Customer

    qs = Customer.objects.all()
    if notice.audience == NoticeAudience.INCIDENT_ORDERS:
        incident = notice.incident
        if incident is None:
            return qs.none()
        window = Q(orders__received_at__gte=incident.detected_at)
        end = incident.recovered_at or incident.closed_at
        if end is not None:
            window &= Q(orders__received_at__lte=end)
        qs = qs.filter(window)
    elif notice.audience == NoticeAudience.ORDER_SYSTEM_ORDERS:
        qs = qs.filter(pk__in=notice.members.values("pk"))
    elif notice.audience == NoticeAudience.OPEN_CASES:
        qs = qs.filter(pk__in=Case.objects.filter(state__in=OPEN_STATES).values("customer_id"))
    elif notice.audience == NoticeAudience.VIP:
        qs = qs.filter(vip=True)
    return qs.distinct().order_by("pk")


def _channels_for(customer_notify_by: str, notice_channels: list[str]) -> list[str]:
    if customer_notify_by == "none":
        return []
    wanted = [c for c in notice_channels if customer_notify_by in (c, "both")]
    return wanted or notice_channels


def public_url(path: str) -> str:
    return settings.CARE_PUBLIC_URL.rstrip("/") + path


def opt_out_url(customer_id: int, channel: str) -> str:
    token = tokens.make_token(tokens.OPT_OUT, customer_id, channel)
    return public_url(reverse("care_public:opt-out", kwargs={"token": token}))


def render_notice(
    notice: Notice, *, customer: Customer, channel: str, language: str
) -> dict[str, str]:
    """The subject and text one customer gets, in their language, with their opt-out link."""
    english = language == "en"
    body = notice.body_en if english else notice.body_zh
    subject = notice.subject_en if english else notice.subject_zh
    body = body.replace("{name}", customer.name)
    with translation.override(language):
        footer = gettext("To stop these messages: %(url)s") % {
            "url": opt_out_url(customer.pk, channel)
        }
        subject = subject or notice.title
    return {"subject": subject, "body": f"{body}\n{footer}"}


def preview_notice(*, notice: Notice, customer: Customer) -> list[dict[str, str]]:
    """What one customer would get, per channel (nothing is sent or recorded)."""
    language = customer.language or settings.LANGUAGE_CODE
    return [
        {
            "channel": channel,
            **render_notice(notice, customer=customer, channel=channel, language=language),
        }
        for channel in _channels_for(customer.notify_by, notice.channels)
    ]


def check_sendable(notice: Notice) -> None:
    if not notice.channels:
        raise DomainError(OutreachError.NO_CHANNEL)
    if notice.audience == NoticeAudience.ORDER_SYSTEM_ORDERS and notice.audience_loaded_at is None:
        raise DomainError(OutreachError.AUDIENCE_NOT_READ)
    for language, body in (("中文", notice.body_zh), ("English", notice.body_en)):
        if not body.strip():
            raise DomainError(OutreachError.EMPTY_LANGUAGE, params={"language": language})
    if notice.by_email:
        for language, subject in (("中文", notice.subject_zh), ("English", notice.subject_en)):
            if not subject.strip():
                raise DomainError(OutreachError.EMPTY_LANGUAGE, params={"language": language})


@transaction.atomic
def send_notice(*, notice: Notice, by: User, version: int | None = None) -> JobRecord:
    """Send (or resume) a notice on a worker. A draft or paused notice starts; a notice whose
    last run died may be run again: nobody already sent to gets a second copy."""
    from apps.core.jobs import refresh_job_state, start_job

    notice = _lock(notice, version)
    if notice.job is not None:
        refresh_job_state(notice.job)  # a run whose worker died is failed now, so it can resume
    running = (
        notice.state == NoticeState.SENDING
        and notice.job is not None
        and not notice.job.is_finished
    )
    if notice.state == NoticeState.DONE or running:
        raise DomainError(
            OutreachError.NOTICE_STATE,
            params={"state": notice.get_state_display(), "action": gettext("sent")},
        )
    check_sendable(notice)
    Notice.objects.filter(pk=notice.pk).update(state=NoticeState.SENDING)
    job = start_job(
        kind="customer_care.notice",
        title=message(events.NOTICE_TITLE, title=notice.title),
        func="apps.customer_care.outreach_jobs.send_notice_job",
        kwargs={"notice_id": notice.pk},
        by=by,
    )
    Notice.objects.filter(pk=notice.pk).update(job=job, version=F("version") + 1)
    notice.refresh_from_db()
    return job


@transaction.atomic
def pause_notice(*, notice: Notice, by: User) -> Notice:
    """Stop sending after the message in hand; ``send_notice`` resumes where it stopped."""
    notice = _lock(notice, None)
    if notice.state != NoticeState.SENDING:
        raise DomainError(
            OutreachError.NOTICE_STATE,
            params={"state": notice.get_state_display(), "action": gettext("paused")},
        )
    notice.state = NoticeState.PAUSED
    notice.version += 1
    notice.save()
    return notice


def _materialise(notice: Notice) -> None:
    """One delivery row per customer and channel (``ignore_conflicts``: a second run adds none)."""
    opted_out = set(OptOut.objects.values_list("customer_id", "channel"))
    channels = notice.channels
    batch: list[NoticeDelivery] = []
    rows = audience_customers(notice).values_list("pk", "phone", "email", "language", "notify_by")
    for customer_id, phone, email, language, notify_by in rows.iterator(chunk_size=CREATE_BATCH):
        for channel in _channels_for(notify_by, channels):
            address = phone if channel == DeliveryChannel.SMS else email
            if not address:
                continue
            out = (customer_id, channel) in opted_out
            batch.append(
                NoticeDelivery(
                    notice_id=notice.pk,
                    customer_id=customer_id,
                    channel=channel,
                    address=address,
                    language=language or settings.LANGUAGE_CODE,
                    state=DeliveryState.OPTED_OUT if out else DeliveryState.PENDING,
                )
            )
        if len(batch) >= CREATE_BATCH:
            NoticeDelivery.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        NoticeDelivery.objects.bulk_create(batch, ignore_conflicts=True)


class _Throttle:
    """At most ``rate`` sends a second on average: each send waits for its slot. A wake-up that
    comes late (a busy machine) is caught up, but never by more than ``BURST_SECONDS`` worth of
    messages at once, so no second ever carries much more than the rate."""

    BURST_SECONDS = 0.1

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(self.next_at, time.monotonic() - self.BURST_SECONDS) + self.interval


def _send_one(delivery: NoticeDelivery, notice: Notice, customer: Customer) -> str:
    text = render_notice(
        notice, customer=customer, channel=delivery.channel, language=delivery.language
    )
    if delivery.channel == DeliveryChannel.SMS:
        return get_sms_backend().send(phone=delivery.address, text=text["body"])
    mail = EmailMessage(
        subject=text["subject"],
        body=text["body"],
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.address],
    )
    mail.send(fail_silently=False)
    return mail.extra_headers.get("Message-ID", "")


def claim_batch(rate: float) -> int:
    """How many rows a run claims at once: about a tenth of a second of sending (1 to 50).

    Claiming (and recording) a few at a time keeps the database off the sending path; a run
    killed mid-batch leaves at most this many rows "interrupted", none sent twice.
    """
    return max(1, min(50, int(rate / 10)))


def _phone_ok(delivery: NoticeDelivery) -> bool:
    """An SMS to a number that cannot be one fails at once (recorded), not the job."""
    if delivery.channel != DeliveryChannel.SMS or PHONE.match(
        re.sub(r"[\s\-()]", "", delivery.address)
    ):
        return True
    NoticeDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED,
        error=gettext("Not a valid phone number: %(phone)s") % {"phone": delivery.address},
    )
    return False


def _claim(ids: list[int]) -> set[int]:
    """pending → sending for ``ids``; returns the ids this run claimed (others took the rest)."""
    if connection.vendor != "postgresql":  # the embedded default (SQLite): one row at a time
        return {
            pk
            for pk in ids
            if NoticeDelivery.objects.filter(pk=pk, state=DeliveryState.PENDING).update(
                state=DeliveryState.SENDING, attempts=F("attempts") + 1
            )
        }
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {NoticeDelivery._meta.db_table} SET state = %s, attempts = attempts + 1"
            " WHERE id = ANY(%s) AND state = %s RETURNING id",
            [DeliveryState.SENDING, ids, DeliveryState.PENDING],
        )
        return {row[0] for row in cursor.fetchall()}


def _send_batch(
    batch: list[NoticeDelivery],
    notice: Notice,
    customers: dict[int, Customer],
    throttle: _Throttle,
    *,
    max_attempts: int,
) -> int:
    """Claim ``batch`` (pending → sending, one UPDATE … RETURNING), send each at the rate and
    record the outcomes; returns how many reached a final state."""
    if not batch:
        return 0
    claimed = _claim([d.pk for d in batch])
    done = 0
    sent: list[NoticeDelivery] = []
    for delivery in batch:
        if delivery.pk not in claimed:
            continue  # another run took it
        throttle.wait()
        try:
            reference = _send_one(delivery, notice, customers[delivery.customer_id])
        except Exception as exc:  # noqa: BLE001 - a gateway failure is recorded per message
            final = delivery.attempts + 1 >= max_attempts
            NoticeDelivery.objects.filter(pk=delivery.pk).update(
                state=DeliveryState.FAILED if final else DeliveryState.PENDING,
                error=f"{type(exc).__name__}: {exc}"[:300],
            )
            done += int(final)
            continue
        delivery.state = DeliveryState.SENT
        delivery.sent_at = timezone.now()
        delivery.provider_reference = str(reference)[:200]
        delivery.error = ""
        sent.append(delivery)
    if sent and connection.vendor != "postgresql":  # the embedded default (SQLite)
        NoticeDelivery.objects.bulk_update(
            sent, ["state", "sent_at", "provider_reference", "error"]
        )
    elif sent:
        # One UPDATE from arrays (Django's bulk_update builds a CASE per field and row, which
        # cost more CPU than the sending itself).
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {NoticeDelivery._meta.db_table} AS d SET state = %s, error = '',"
                " sent_at = v.at, provider_reference = v.ref"
                " FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::timestamptz[]) AS at,"
                " unnest(%s::text[]) AS ref) AS v WHERE d.id = v.id",
                [
                    DeliveryState.SENT,
                    [d.pk for d in sent],
                    [d.sent_at for d in sent],
                    [d.provider_reference for d in sent],
                ],
            )
    return done + len(sent)


def _counts(notice_id: int) -> dict[str, int]:
    rows = (
        NoticeDelivery.objects.filter(notice_id=notice_id).values("state").annotate(n=Count("pk"))
    )
    counts = {state: 0 for state in DeliveryState.values}
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def deliver_notice(*, notice_id: int, progress: Progress) -> dict[str, Any]:
    """The job's work: materialise the deliveries, then send each pending one at the rate."""
    from apps.manual_orders.models import Customer

    notice = Notice.objects.get(pk=notice_id)
    if notice.state != NoticeState.SENDING:
        return {"state": notice.state, **_counts(notice_id)}
    _materialise(notice)
    # What a killed run was sending: it may have gone out; never send it again.
    NoticeDelivery.objects.filter(notice_id=notice_id, state=DeliveryState.SENDING).update(
        state=DeliveryState.UNCERTAIN,
        error=gettext("The sending worker stopped while this message was being sent."),
    )
    total = NoticeDelivery.objects.filter(notice_id=notice_id).count()
    handled = (
        total
        - NoticeDelivery.objects.filter(notice_id=notice_id, state=DeliveryState.PENDING).count()
    )
    throttle = _Throttle(notice.rate_per_second)
    max_attempts = max(1, settings.CARE_NOTICE_MAX_ATTEMPTS)
    checked_at = time.monotonic()
    paused = False
    last_step = 0.0
    batch_size = claim_batch(notice.rate_per_second)
    for _pass in range(max_attempts):
        last_id = 0
        while not paused:
            chunk = list(
                NoticeDelivery.objects.filter(
                    notice_id=notice_id, state=DeliveryState.PENDING, pk__gt=last_id
                ).order_by("pk")[:500]
            )
            if not chunk:
                break
            last_id = chunk[-1].pk
            customers = Customer.objects.in_bulk([d.customer_id for d in chunk])
            for start in range(0, len(chunk), batch_size):
                if time.monotonic() - checked_at >= PAUSE_CHECK_SECONDS:
                    checked_at = time.monotonic()
                    state = Notice.objects.filter(pk=notice_id).values_list("state", flat=True)
                    if state.get() != NoticeState.SENDING:
                        paused = True
                        break
                window = chunk[start : start + batch_size]
                batch = [d for d in window if _phone_ok(d)]
                handled += len(window) - len(batch)
                handled += _send_batch(
                    batch, notice, customers, throttle, max_attempts=max_attempts
                )
                if time.monotonic() - last_step >= 0.5:
                    last_step = time.monotonic()
                    progress.update(
                        percent=handled * 100 // max(total, 1),
                        step=message(events.NOTICE_STEP, done=handled, total=total),
                    )
        if (
            paused
            or not NoticeDelivery.objects.filter(
                notice_id=notice_id, state=DeliveryState.PENDING
            ).exists()
        ):
            break
    counts = _counts(notice_id)
    if paused:
        progress.update(step=message(events.NOTICE_PAUSED, done=handled, total=total))
        return {"state": NoticeState.PAUSED, **counts}
    with transaction.atomic():
        updated = Notice.objects.filter(pk=notice_id, state=NoticeState.SENDING).update(
            state=NoticeState.DONE, version=F("version") + 1
        )
        if updated:
            post_to_timeline(
                kind=events.NOTICE_SENT,
                by=notice.created_by,
                title=notice.title,
                sent=counts[DeliveryState.SENT],
                failed=counts[DeliveryState.FAILED],
            )
    progress.update(percent=100, step=message(events.NOTICE_STEP, done=total, total=total))
    return {"state": NoticeState.DONE, **counts}


def delivery_counts(notice: Notice) -> dict[str, int]:
    return _counts(notice.pk)


def failed_deliveries(notice: Notice) -> QuerySet[NoticeDelivery]:
    return (
        NoticeDelivery.objects.filter(
            notice=notice, state__in=[DeliveryState.FAILED, DeliveryState.UNCERTAIN]
        )
        .select_related("customer")
        .order_by("pk")
    )


@transaction.atomic
def opt_out(*, token: str) -> OptOut:
    """A customer's signed opt-out link, used once: no more notices on that channel."""
    parts = tokens.read_token(
        tokens.OPT_OUT,
        token,
        max_age_seconds=timedelta(days=settings.CARE_OPT_OUT_MAX_AGE_DAYS).total_seconds(),
    )
    if len(parts) != 3 or not parts[0].isdigit() or parts[1] not in DeliveryChannel.values:
        raise tokens.bad_link()
    from apps.manual_orders.models import Customer

    customer = Customer.objects.filter(pk=int(parts[0])).first()
    if customer is None:
        raise tokens.bad_link()
    tokens.use_nonce(tokens.OPT_OUT, parts[2])
    row, _created = OptOut.objects.get_or_create(customer=customer, channel=parts[1])
    return row


def check_opt_out_token(token: str) -> None:
    """Refuse a bad link before showing the confirmation (same refusal as ``opt_out``)."""
    from apps.manual_orders.models import Customer

    parts = tokens.read_token(
        tokens.OPT_OUT,
        token,
        max_age_seconds=timedelta(days=settings.CARE_OPT_OUT_MAX_AGE_DAYS).total_seconds(),
    )
    if len(parts) != 3 or not parts[0].isdigit() or parts[1] not in DeliveryChannel.values:
        raise tokens.bad_link()
    from ...models import UsedToken

    if (
        UsedToken.objects.filter(nonce=parts[2]).exists()
        or not Customer.objects.filter(pk=int(parts[0])).exists()
    ):
        raise tokens.bad_link()
