"""Opening, answering, moving and handing over cases; the response-target sweep."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.choices import Channel
from apps.core.notifications import send_notification
from apps.core.timeline import post_to_timeline
from apps.manual_orders.changes import find_or_create_customer
from apps.manual_orders.models import Customer, ManualOrder

from .. import events
from ..choices import (
    OPEN_STATES,
    TRANSITIONS,
    CaseChannel,
    CaseState,
    Direction,
    OrderSource,
    Priority,
)
from ..errors import CareError
from ..models import Case, CaseMessage, CaseOrder, Team
from .common import lock_case, record, refresh_due, refuse, save_case, start_clock

if TYPE_CHECKING:
    from apps.accounts.models import User


@dataclass(frozen=True)
class OrderRef:
    source: str
    number: str


def open_case(
    *,
    channel: str,
    case_type: str,
    subject: str,
    by: User | None,
    customer: Customer | None = None,
    caller_phone: str = "",
    caller_name: str = "",
    contact_email: str = "",
    priority: str = Priority.NORMAL,
    body: str = "",
    orders: list[OrderRef] | None = None,
    owner: User | None = None,
    team: Team | None = None,
    idempotency_key: uuid.UUID | str | None = None,
    message_id: str | None = None,
    attachments: list[dict] | None = None,
    opened_at: datetime | None = None,
) -> Case:
    """Open a case from any channel; a phone case finds (or adds) the caller by phone number.

    The same ``idempotency_key`` (a form rendered once, submitted twice) opens one case.
    """
    key = uuid.UUID(str(idempotency_key)) if idempotency_key else None
    if key is not None:
        existing = Case.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
    try:
        # A savepoint only when a duplicate key can collide (a form's key); mail is made
        # idempotent by its Message-ID in the caller's transaction.
        with transaction.atomic(savepoint=key is not None):
            return _open(
                channel=channel,
                case_type=case_type,
                subject=subject,
                by=by,
                customer=customer,
                caller_phone=caller_phone,
                caller_name=caller_name,
                contact_email=contact_email,
                priority=priority,
                body=body,
                orders=orders or [],
                owner=owner,
                team=team,
                key=key,
                message_id=message_id,
                attachments=attachments or [],
                opened_at=opened_at or timezone.now(),
            )
    except IntegrityError:
        if key is None:
            raise
        existing = Case.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return existing


def _open(
    *,
    channel,
    case_type,
    subject,
    by,
    customer,
    caller_phone,
    caller_name,
    contact_email,
    priority,
    body,
    orders,
    owner,
    team,
    key,
    message_id,
    attachments,
    opened_at,
) -> Case:
    if customer is None and caller_phone.strip() and by is not None:
        customer, _created = find_or_create_customer(
            phone=caller_phone, name=caller_name, email=contact_email, by=by
        )
    if customer is None and not contact_email and channel == CaseChannel.PHONE:
        raise refuse(CareError.NO_CUSTOMER, field="caller_phone")
    case = Case(
        customer=customer,
        contact_name=caller_name.strip()[:120],
        contact_email=contact_email.strip()[:254],
        contact_phone=caller_phone.strip()[:30],
        channel=channel,
        case_type=case_type,
        subject=(subject.strip() or str(_("(no subject)")))[:200],
        priority=priority,
        vip=bool(customer and customer.vip),
        owner=owner,
        team=team,
        created_by=by,
        created_at=opened_at,
        updated_at=opened_at,
        idempotency_key=key,
    )
    start_clock(case)
    case.full_clean(exclude=["customer", "owner", "team", "created_by"])
    with transaction.atomic(savepoint=key is not None):  # a duplicate key rolls back to here
        case.save(force_insert=True)
    record(
        case,
        events.OPENED,
        by=by,
        at=opened_at,
        channel=channel,
        type=case_type,
        priority=priority,
    )
    for ref in orders:
        _link(case, ref, by=by)
    if body.strip():
        CaseMessage.objects.create(
            case=case,
            direction=Direction.INBOUND,
            channel=channel,
            author=by if channel != CaseChannel.MAILBOX else None,
            sender=contact_email or (customer.phone if customer else ""),
            subject=case.subject,
            body=body.strip(),
            attachments=attachments,
            message_id=message_id,
            created_at=opened_at,
        )
    if case.vip:
        post_to_timeline(
            kind=events.VIP_CASE, by=by, reference=case.reference, customer=case.customer_name
        )
    return case


def _link(case: Case, ref: OrderRef, *, by: User | None) -> CaseOrder:
    number = ref.number.strip()
    manual = None
    if ref.source == OrderSource.MANUAL:
        manual = ManualOrder.objects.filter(number=number).first()
        if manual is None:
            raise refuse(CareError.ORDER_NOT_FOUND, field="number", number=number)
    link, created = CaseOrder.objects.get_or_create(
        case=case, source=ref.source, number=number, defaults={"manual_order": manual}
    )
    if created:
        record(case, events.ORDER_LINKED, by=by, number=number)
    return link


@transaction.atomic
def link_order(*, case: Case, source: str, number: str, by: User) -> CaseOrder:
    """Add an order (a manual one, or one of the order system by its number) to a case."""
    case = lock_case(case)
    link = _link(case, OrderRef(source, number), by=by)
    save_case(case)
    return link


# --- the conversation --------------------------------------------------------------------------------
REPLY_SUBJECT = _("[%(reference)s] %(subject)s")


@transaction.atomic
def add_message(
    *,
    case: Case,
    direction: str,
    body: str,
    by: User,
    idempotency_key: uuid.UUID | str | None = None,
) -> CaseMessage:
    """An agent's reply (sent to the customer) or internal note, appended to the conversation.

    Messages are appended under the case's row lock, never merged: two agents answering at once
    both keep their message. A reply is the case's first response if it has none; it goes out
    by e-mail with the case reference in the subject, else by SMS.
    """
    if not body.strip():
        raise refuse(CareError.EMPTY_MESSAGE, field="body")
    key = uuid.UUID(str(idempotency_key)) if idempotency_key else None
    if key is not None:
        existing = CaseMessage.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
    case = lock_case(case)
    if case.state == CaseState.CLOSED:
        raise refuse(CareError.CASE_CLOSED, reference=case.reference)
    now = timezone.now()
    message = CaseMessage(
        case=case,
        direction=direction,
        channel=case.channel,
        author=by,
        body=body.strip(),
        idempotency_key=key,
        created_at=now,
    )
    if direction == Direction.OUTBOUND:
        message.notification = _send_reply(case, body.strip(), by=by)
        message.subject = message.notification.subject
        if case.first_responded_at is None:
            case.first_responded_at = now
            refresh_due(case)
        if case.state == CaseState.NEW:
            _move(case, CaseState.OPEN, by=by)
        record(case, events.REPLIED, by=by, address=message.notification.address)
    message.save()
    save_case(case)
    return message


def _send_reply(case: Case, body: str, *, by: User):
    customer = case.customer
    language = customer.language if customer else settings.LANGUAGE_CODE
    email = case.reply_address
    params = {"reference": case.reference, "subject": case.subject, "body": body}
    if email:
        return send_notification(
            channel=Channel.EMAIL,
            address=email,
            language=language,
            subject=REPLY_SUBJECT,
            body="%(body)s",
            params=params,
            by=by,
        )
    phone = customer.phone if customer else case.contact_phone
    if not phone:
        raise refuse(CareError.NO_REPLY_ADDRESS, reference=case.reference)
    return send_notification(
        channel=Channel.SMS,
        address=phone,
        language=language,
        subject="",
        body=REPLY_SUBJECT_SMS,
        params=params,
        by=by,
    )


REPLY_SUBJECT_SMS = _("[%(reference)s] %(body)s")


def receive_message(
    *,
    case: Case,
    body: str,
    sender: str,
    subject: str = "",
    message_id: str | None = None,
    in_reply_to: str = "",
    attachments: list[dict] | None = None,
    direction: str = Direction.INBOUND,
) -> CaseMessage:
    """A customer's message threaded onto its case (a waiting case opens again, a resolved or
    closed one is reopened). Runs inside the caller's transaction."""
    case = lock_case(case)
    message = CaseMessage.objects.create(
        case=case,
        direction=direction,
        channel=CaseChannel.MAILBOX,
        sender=sender[:254],
        subject=subject[:300],
        body=body,
        attachments=attachments or [],
        message_id=message_id,
        in_reply_to=in_reply_to[:300],
    )
    if direction == Direction.INBOUND:
        if case.state == CaseState.WAITING:
            _move(case, CaseState.OPEN, by=None)
        elif case.state in (CaseState.RESOLVED, CaseState.CLOSED):
            _reopen(case, by=None)
    save_case(case)
    return message


# --- states and owners ----------------------------------------------------------------------------
def _move(case: Case, to: str, *, by: User | None) -> None:
    if to not in TRANSITIONS[case.state]:
        raise refuse(
            CareError.BAD_TRANSITION,
            state=CaseState(case.state).label,
            to=CaseState(to).label,
        )
    now = timezone.now()
    if to == CaseState.OPEN and case.state in (CaseState.RESOLVED, CaseState.CLOSED):
        _reopen(case, by=by)
        return
    case.state = to
    if to == CaseState.RESOLVED:
        case.resolved_at = now
    elif to == CaseState.CLOSED:
        case.closed_at = now
    record(case, events.STATE, by=by, to=to)


def _reopen(case: Case, *, by: User | None) -> None:
    """Back to open; the clock is not restarted and recorded breaches stay."""
    case.state = CaseState.OPEN
    case.reopened_count += 1
    case.resolved_at = None
    case.closed_at = None
    record(case, events.REOPENED, by=by)


@transaction.atomic
def change_state(*, case: Case, to: str, version: int | None, by: User) -> Case:
    """Move a case along its states (new → open → waiting → resolved → closed, reopen)."""
    case = lock_case(case, version=version)
    _move(case, to, by=by)
    save_case(case, reason=f"state {to}")
    return case


@transaction.atomic
def assign_case(*, case: Case, owner: User | None, by: User, version: int | None = None) -> Case:
    """Hand a case to an agent: the clock it has keeps running, nothing is reset."""
    case = lock_case(case, version=version)
    if owner is not None and not owner.has_perm("customer_care.work_case"):
        raise refuse(CareError.NOT_A_LEAD_ROLE, field="owner", user=str(owner))
    if case.owner_id == (owner.pk if owner else None):
        return case
    case.owner = owner
    record(case, events.ASSIGNED, by=by, owner=_name(owner))
    save_case(case, reason="assigned")
    return case


@transaction.atomic
def reassign_cases(*, case_ids: list[int], owner: User, by: User) -> int:
    """A lead's bulk hand-over: each case locked in id order, each hand-over on its timeline."""
    if not owner.has_perm("customer_care.work_case"):
        raise refuse(CareError.NOT_A_LEAD_ROLE, field="owner", user=str(owner))
    moved = 0
    for pk in sorted(set(case_ids)):
        case = lock_case(pk)
        if case.owner_id == owner.pk or not case.is_open:
            continue
        case.owner = owner
        record(case, events.ASSIGNED, by=by, owner=_name(owner))
        save_case(case, reason="reassigned")
        moved += 1
    return moved


@transaction.atomic
def set_priority(*, case: Case, priority: str, by: User, version: int | None = None) -> Case:
    """A new priority sets new targets from when the case was opened; missed ones stay missed."""
    case = lock_case(case, version=version)
    if case.priority == priority:
        return case
    case.priority = priority
    start_clock(case)
    record(case, events.PRIORITY, by=by, priority=priority)
    save_case(case, reason="priority")
    return case


def _name(user: User | None) -> str:
    if user is None:
        return "-"
    return user.get_full_name() or user.get_username()


# --- response targets --------------------------------------------------------------------------------
BREACH_WARNING_SUBJECT = _("Case %(reference)s is close to its response target")
BREACH_WARNING_BODY = _(
    "Case %(reference)s (%(subject)s) reaches its target at %(due)s. Owner: %(owner)s."
)


def check_response_targets(*, now: datetime | None = None) -> dict[str, int]:
    """Record missed targets (once, never rewritten) and warn the lead of cases about to miss.

    Safe to run at any moment and twice at once: every write is a conditional ``UPDATE … WHERE
    … IS NULL``, so a breach time is written and a lead told only by whichever run gets there
    first.
    """
    now = now or timezone.now()
    counts = {"first_response_missed": 0, "resolution_missed": 0, "warned": 0}
    open_cases = Case.objects.filter(state__in=OPEN_STATES)
    for pk, due in open_cases.filter(
        first_responded_at__isnull=True,
        first_response_due__lte=now,
        first_response_breached_at__isnull=True,
    ).values_list("pk", "first_response_due"):
        with transaction.atomic():
            if Case.objects.filter(pk=pk, first_response_breached_at__isnull=True).update(
                first_response_breached_at=due
            ):
                record(Case(pk=pk), events.FIRST_RESPONSE_MISSED, by=None, at=due, due=_local(due))
                counts["first_response_missed"] += 1
    for pk, due in open_cases.filter(
        resolution_due__lte=now, resolution_breached_at__isnull=True
    ).values_list("pk", "resolution_due"):
        with transaction.atomic():
            if Case.objects.filter(pk=pk, resolution_breached_at__isnull=True).update(
                resolution_breached_at=due
            ):
                record(Case(pk=pk), events.RESOLUTION_MISSED, by=None, at=due, due=_local(due))
                counts["resolution_missed"] += 1
    soon = now + timedelta(minutes=settings.CARE_BREACH_WARNING_MINUTES)
    about_to_miss = open_cases.filter(
        due_at__lte=soon, due_at__gt=now, breach_warned_at__isnull=True
    ).select_related("team__lead", "owner")
    for case in about_to_miss:
        with transaction.atomic():
            if not Case.objects.filter(pk=case.pk, breach_warned_at__isnull=True).update(
                breach_warned_at=now
            ):
                continue
            for lead in _leads_of(case):
                send_notification(
                    channel=Channel.EMAIL,
                    recipient=lead,
                    subject=BREACH_WARNING_SUBJECT,
                    body=BREACH_WARNING_BODY,
                    params={
                        "reference": case.reference,
                        "subject": case.subject,
                        "due": _local(case.due_at),
                        "owner": _name(case.owner),
                    },
                )
                record(case, events.LEAD_WARNED, by=None, lead=_name(lead))
            counts["warned"] += 1
    return counts


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _leads_of(case: Case) -> list[User]:
    """The case's team lead, else every active care lead (with an e-mail address)."""
    from apps.accounts.models import User
    from apps.accounts.roles import Role

    lead = case.team.lead if case.team is not None else None
    if lead is not None and lead.email:
        return [lead]
    return list(
        User.objects.filter(groups__name=Role.CARE_LEAD.value, is_active=True)
        .exclude(email="")
        .filter(~Q(email__isnull=True))
        .order_by("pk")
    )
