"""The care mailbox: a poller takes each new message once and threads it onto its case.

A new message opens a case (the customer matched by address); a reply is threaded by the
reference in its subject (``[CS-000123]``) or by ``In-Reply-To``/``References``; the same message
(by Message-ID) is never taken twice. Malformed mail never stops the poller: a message without a
sender becomes a note on its case or is rejected, an oversized one is rejected before it is
downloaded, unreadable text is decoded with replacement characters and said in a note; every
outcome is an ``IngestedMail`` row (with its reason) and a log line.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.events import message
from apps.core.jobs import start_job
from apps.core.models import JobRecord
from apps.manual_orders.models import Customer

from .. import events
from ..choices import OPEN_STATES, CaseChannel, CaseType, Direction, MailOutcome
from ..engine.mail import ParsedMail, parse_message, synthetic_message_id
from ..errors import CareError
from ..models import Case, CaseMessage, IngestedMail, MailboxState
from .cases import open_case, receive_message
from .common import clock_memo

logger = logging.getLogger(__name__)

POLL_KIND = "care_mailbox"
# Messages are downloaded in groups of at most this many bytes (and 100 messages), so a poll's
# memory stays flat however many messages wait.
FETCH_BUDGET = 4 * 1024 * 1024


@dataclass(frozen=True)
class ImapAddress:
    host: str
    port: int
    user: str
    password: str
    mailbox: str
    tls: bool

    @property
    def key(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.mailbox}"


def parse_imap_url(url: str) -> ImapAddress:
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise DomainError(CareError.MAILBOX_UNREACHABLE, params={"reason": "imap[s]://… URL"})
    tls = parts.scheme == "imaps"
    return ImapAddress(
        host=parts.hostname,
        port=parts.port or (993 if tls else 143),
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        mailbox=unquote(parts.path.lstrip("/")) or "INBOX",
        tls=tls,
    )


# --- one message ---------------------------------------------------------------------------------------
def _thread_case(parsed: ParsedMail) -> Case | None:
    for number in parsed.case_numbers:
        case = Case.objects.filter(pk=number).first()
        if case is not None:
            return case
    ids = parsed.thread_ids
    if ids:
        found = (
            CaseMessage.objects.filter(message_id__in=ids).order_by("-pk").values("case_id").first()
        )
        if found:
            return Case.objects.get(pk=found["case_id"])
    return None


def _customer_for(address: str) -> Customer | None:
    if not address:
        return None
    return Customer.objects.filter(email__iexact=address).order_by("pk").first()


def _note(case: Case, text: str) -> None:
    CaseMessage.objects.create(
        case=case, direction=Direction.NOTE, channel=CaseChannel.MAILBOX, body=text
    )


def _log(parsed_id: str, **fields: Any) -> IngestedMail | None:
    """The mailbox log row, inserted in a savepoint; None when this Message-ID was taken before."""
    try:
        with transaction.atomic():
            return IngestedMail.objects.create(message_id=parsed_id, **fields)
    except IntegrityError:
        return None


def ingest_message(raw: bytes, *, uid: int | None = None) -> IngestedMail:
    """Take one raw message: open or thread a case, or note or reject it with a reason.

    Idempotent by Message-ID (a message without one gets a stable id from its bytes).
    """
    return _ingest(raw, uid=uid)[0]


def _ingest(raw: bytes, *, uid: int | None) -> tuple[IngestedMail, bool]:
    """(the mailbox log row, whether this call took the message).

    The log row is inserted last, in the same transaction as the case it opened or the message
    it threaded: a concurrent poller taking the same Message-ID makes that insert fail, the whole
    transaction rolls back, and the message is taken once.
    """
    parsed = parse_message(raw)
    taken = IngestedMail.objects.filter(message_id=parsed.message_id).first()
    if taken is not None:
        return taken, False
    log = IngestedMail(
        message_id=parsed.message_id,
        uid=uid,
        sender=parsed.sender,
        subject=parsed.subject,
        outcome=MailOutcome.REJECTED,
    )
    try:
        with transaction.atomic():
            _decide(parsed, log)
            log.save(force_insert=True)
    except IntegrityError:
        existing = IngestedMail.objects.filter(message_id=parsed.message_id).first()
        if existing is None:
            raise
        return existing, False
    if log.outcome in (MailOutcome.REJECTED, MailOutcome.NOTE):
        logger.warning("care mail %s %s: %s", parsed.message_id, log.outcome, log.reason)
    return log, True


def _decide(parsed: ParsedMail, log: IngestedMail) -> None:
    """Open or thread a case for the message, or keep it as a note, or reject it (on ``log``)."""
    case = _thread_case(parsed)
    if not parsed.sender:
        log.reason = "no sender address"
        if case is not None:
            _note(case, f"{log.reason}: {parsed.subject}\n\n{parsed.body}".strip())
            log.outcome, log.case = MailOutcome.NOTE, case
        return
    attachments = [
        {"name": a.name, "type": a.content_type, "size": a.size} for a in parsed.attachments
    ]
    body = parsed.body.strip() or "-"
    if case is not None:
        receive_message(
            case=case,
            body=body,
            sender=parsed.sender,
            subject=parsed.subject,
            message_id=parsed.message_id,
            in_reply_to=parsed.in_reply_to,
            attachments=attachments,
        )
        log.outcome = MailOutcome.THREADED
    else:
        customer = _customer_for(parsed.sender)
        case = open_case(
            channel=CaseChannel.MAILBOX,
            case_type=CaseType.ORDER_QUERY,
            subject=parsed.subject,
            by=None,
            customer=customer,
            caller_name=parsed.sender_name if customer is None else "",
            contact_email=parsed.sender,
            body=body,
            message_id=parsed.message_id,
            attachments=attachments,
        )
        log.outcome = MailOutcome.OPENED
    if parsed.problems:
        _note(case, f"{parsed.message_id}: {'; '.join(parsed.problems)}")
        log.reason = "; ".join(parsed.problems)[:300]
    log.case = case


def reject_oversized(*, uid: int, size: int, headers: bytes) -> IngestedMail:
    """A message over ``CARE_MAIL_MAX_BYTES``: logged with its reason, never downloaded."""
    parsed = parse_message(headers)
    message_id = parsed.message_id
    if "no Message-ID" in parsed.problems:
        message_id = synthetic_message_id(headers + str(size).encode())
    reason = f"message of {size} bytes is over the {settings.CARE_MAIL_MAX_BYTES} bytes limit"
    log = _log(
        message_id,
        uid=uid,
        sender=parsed.sender,
        subject=parsed.subject,
        outcome=MailOutcome.REJECTED,
        reason=reason,
    )
    if log is None:
        return IngestedMail.objects.get(message_id=message_id)
    logger.warning("care mail %s rejected: %s", message_id, reason)
    case = _thread_case(parsed) if parsed.sender else None
    if case is not None and case.state in OPEN_STATES:
        _note(case, f"{parsed.sender}: {parsed.subject} — {reason}")
    return log


# --- the poller ----------------------------------------------------------------------------------------
def _connect(addr: ImapAddress) -> imaplib.IMAP4:
    try:
        conn = (
            imaplib.IMAP4_SSL(addr.host, addr.port, timeout=30)
            if addr.tls
            else imaplib.IMAP4(addr.host, addr.port, timeout=30)
        )
        conn.login(addr.user, addr.password)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise DomainError(
            CareError.MAILBOX_UNREACHABLE, params={"reason": f"{type(exc).__name__}: {exc}"}
        ) from exc
    return conn


_SIZE_RE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


def _sizes(conn: imaplib.IMAP4, first_uid: int) -> list[tuple[int, int]]:
    typ, data = conn.uid("FETCH", f"{first_uid}:*", "(UID RFC822.SIZE)")
    if typ != "OK":
        return []
    found = []
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        m = _SIZE_RE.search(line)
        if m:
            uid, size = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
            if int(uid) >= first_uid:
                found.append((int(uid), int(size)))
    return sorted(found)


def _fetch(conn: imaplib.IMAP4, uids: list[int], part: str) -> dict[int, bytes]:
    typ, data = conn.uid("FETCH", ",".join(str(u) for u in uids), f"(UID {part})")
    out: dict[int, bytes] = {}
    if typ != "OK":
        return out
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            m = re.search(rb"UID (\d+)", item[0])
            if m:
                out[int(m.group(1))] = item[1]
    return out


def _groups(sizes: list[tuple[int, int]]) -> list[list[int]]:
    groups: list[list[int]] = [[]]
    budget = 0
    for uid, size in sizes:
        if groups[-1] and (budget + size > FETCH_BUDGET or len(groups[-1]) >= 100):
            groups.append([])
            budget = 0
        groups[-1].append(uid)
        budget += size
    return [g for g in groups if g]


def poll_mailbox(*, url: str | None = None, progress=None, limit: int | None = None) -> dict:
    """Take every new message of the care mailbox (at most ``CARE_IMAP_BATCH`` per run).

    Messages are read by UID from where the last poll stopped (reset when the mailbox's
    UIDVALIDITY changes; Message-IDs still keep a message from being taken twice).
    """
    url = url or settings.CARE_IMAP_URL
    if not url:
        raise DomainError(CareError.MAILBOX_NOT_CONFIGURED)
    addr = parse_imap_url(url)
    limit = limit or settings.CARE_IMAP_BATCH
    counts = {outcome.value: 0 for outcome in MailOutcome}
    counts["duplicate"] = 0
    conn = _connect(addr)
    memo = clock_memo()
    memo.__enter__()
    try:
        typ, _data = conn.select(f'"{addr.mailbox}"', readonly=True)
        if typ != "OK":
            raise DomainError(
                CareError.MAILBOX_UNREACHABLE, params={"reason": f"no mailbox {addr.mailbox}"}
            )
        uidvalidity = int((conn.response("UIDVALIDITY")[1] or [b"0"])[0] or 0)
        state, _created = MailboxState.objects.get_or_create(mailbox=addr.key)
        if state.uidvalidity != uidvalidity:
            state.uidvalidity, state.last_uid = uidvalidity, 0
        sizes = _sizes(conn, state.last_uid + 1)[:limit]
        big = [(uid, size) for uid, size in sizes if size > settings.CARE_MAIL_MAX_BYTES]
        small = [(uid, size) for uid, size in sizes if size <= settings.CARE_MAIL_MAX_BYTES]
        if big:
            headers = _fetch(conn, [uid for uid, _size in big], "BODY.PEEK[HEADER]")
            for uid, size in big:
                reject_oversized(uid=uid, size=size, headers=headers.get(uid, b""))
                counts[MailOutcome.REJECTED] += 1
        done = 0
        for group in _groups(small):
            raws = _fetch(conn, group, "BODY.PEEK[]")
            for uid in group:
                raw = raws.pop(uid, None)
                if raw is None:
                    continue
                counts[_take(raw, uid)] += 1
                done += 1
            del raws
            state.last_uid = max(state.last_uid, group[-1])
            state.polled_at = timezone.now()
            state.save()
            if progress:
                progress(int(100 * done / max(1, len(small))))
        if sizes:
            state.last_uid = max(state.last_uid, sizes[-1][0])
        state.polled_at = timezone.now()
        state.save()
    finally:
        memo.__exit__(None, None, None)
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()
    return counts


def _take(raw: bytes, uid: int) -> str:
    """One message, whatever happens: an unexpected failure is logged and recorded, and the
    poller goes on."""
    try:
        log, taken = _ingest(raw, uid=uid)
    except Exception as exc:  # noqa: BLE001 - one bad message never stops the poller
        logger.exception("care mail uid %s could not be taken", uid)
        parsed_id = synthetic_message_id(raw)
        _log(
            parsed_id,
            uid=uid,
            outcome=MailOutcome.REJECTED,
            reason=f"{type(exc).__name__}: {exc}"[:300],
        )
        return MailOutcome.REJECTED
    return log.outcome if taken else "duplicate"


def start_mailbox_poll() -> JobRecord | None:
    """What the scheduler calls: one poll job, unless one is already waiting or running."""
    if not settings.CARE_IMAP_URL:
        return None
    if JobRecord.objects.filter(kind=POLL_KIND, state__in=["queued", "running"]).exists():
        return None
    return start_job(
        kind=POLL_KIND,
        title=message(events.POLL_TITLE),
        func="apps.customer_care.jobs.poll_mailbox_job",
    )
