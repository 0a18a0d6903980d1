"""Reading one message of the care mailbox into plain values, whatever state it is in.

Never raises on a malformed message: what cannot be read is said in ``problems`` (unknown
charsets are decoded with replacement characters, undecodable headers kept as raw text), so the
poller records a note or a reason and goes on with the next message.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parseaddr

REFERENCE_RE = re.compile(r"\bCS-(\d{6,12})\b", re.IGNORECASE)
MAX_BODY_CHARS = 50_000


@dataclass
class Attachment:
    name: str
    content_type: str
    size: int


@dataclass
class ParsedMail:
    message_id: str
    sender_name: str
    sender: str  # the bare address, lower-cased; "" when there is none
    subject: str
    in_reply_to: str
    references: list[str]
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    size: int = 0

    @property
    def case_numbers(self) -> list[int]:
        """Case numbers quoted in the subject (``[CS-000123]``), first first."""
        return [int(m) for m in REFERENCE_RE.findall(self.subject)]

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this one answers: ``In-Reply-To`` first, then ``References`` newest first."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids += [r for r in reversed(self.references) if r not in ids]
        return ids


def _header(msg: Message, name: str, problems: list[str]) -> str:
    try:
        value = msg.get(name)
    except Exception as exc:  # noqa: BLE001 - a broken header is recorded, not raised
        problems.append(f"unreadable {name} header: {type(exc).__name__}")
        return ""
    if value is None:
        return ""
    text = str(value)
    return " ".join(text.split())


def _text_of(part: Message, problems: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset)
    except LookupError:
        problems.append(f"unknown charset {charset!r}")
    except UnicodeDecodeError:
        problems.append(f"text not valid in {charset!r}")
    for fallback in ("utf-8", "gb18030"):
        try:
            return payload.decode(fallback)
        except UnicodeDecodeError:
            continue
    return payload.decode("utf-8", errors="replace")


def _strip_html(html: str) -> str:
    text = re.sub(r"(?is)<(script|style).*?</\1>", " ", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>", "\n", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def synthetic_message_id(raw: bytes) -> str:
    """A stable id for a message that carries none (the same bytes give the same id)."""
    return f"<sha256-{hashlib.sha256(raw).hexdigest()[:40]}@care.invalid>"


def parse_message(raw: bytes) -> ParsedMail:
    problems: list[str] = []
    msg: Message
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"unparseable message: {type(exc).__name__}")
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    message_id = _header(msg, "Message-ID", problems).strip()
    if not message_id:
        message_id = synthetic_message_id(raw)
        problems.append("no Message-ID")
    from_header = _header(msg, "From", problems)
    name, address = parseaddr(from_header)
    if "@" not in address:
        address = ""
    references = [
        r for _n, r in getaddresses([_header(msg, "References", problems)]) if r
    ] or re.findall(r"<[^>]+>", _header(msg, "References", problems))
    in_reply_to = _header(msg, "In-Reply-To", problems).strip()
    subject = _header(msg, "Subject", problems)
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    parts = msg.walk() if msg.is_multipart() else [msg]
    for part in parts:
        if part.is_multipart():
            continue
        try:
            disposition = (part.get_content_disposition() or "").lower()
            filename = part.get_filename() or ""
        except Exception as exc:  # noqa: BLE001
            problems.append(f"unreadable part: {type(exc).__name__}")
            continue
        ctype = part.get_content_type()
        if disposition == "attachment" or filename:
            payload = part.get_payload(decode=True)
            size = len(payload) if isinstance(payload, bytes) else 0
            attachments.append(Attachment(filename or "(unnamed)", ctype, size))
            continue
        if ctype == "text/plain":
            plain.append(_text_of(part, problems))
        elif ctype == "text/html":
            html.append(_strip_html(_text_of(part, problems)))
    body = "\n".join(p for p in plain if p.strip()) or "\n".join(h for h in html if h.strip())
    if len(body) > MAX_BODY_CHARS:
        body = body[:MAX_BODY_CHARS]
        problems.append("text cut to 50,000 characters")
    return ParsedMail(
        message_id=message_id[:300],
        sender_name=name.strip()[:120],
        sender=address.strip().lower()[:254],
        subject=subject[:300],
        in_reply_to=in_reply_to[:300],
        references=[r[:300] for r in references],
        body=body.replace("\x00", ""),
        attachments=attachments,
        problems=problems,
        size=len(raw),
    )


__all__ = ["REFERENCE_RE", "Attachment", "ParsedMail", "parse_message"]
