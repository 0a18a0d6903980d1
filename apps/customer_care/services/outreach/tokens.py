"""Signed one-time links for customers (surveys, opt-outs): a salt per purpose, an age limit,
and a nonce recorded when used. Every refusal is the same ``BAD_LINK`` — a forged, expired,
reused or unknown link says nothing about whether the case or customer exists."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core import signing
from django.db import IntegrityError, transaction

from apps.core.errors import DomainError

from ...models import UsedToken
from ...outreach_errors import OutreachError

SURVEY = "survey"
OPT_OUT = "opt_out"


def _signer(purpose: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"customer_care.outreach.{purpose}")


def new_nonce() -> str:
    return secrets.token_hex(16)


def make_token(purpose: str, *parts: str | int, nonce: str | None = None) -> str:
    """``parts`` and a nonce, signed for ``purpose`` (the nonce makes each link one-time)."""
    values = [str(p) for p in parts] + [nonce or new_nonce()]
    return _signer(purpose).sign(".".join(values))


def bad_link() -> DomainError:
    return DomainError(OutreachError.BAD_LINK)


def read_token(purpose: str, token: str, *, max_age_seconds: float) -> list[str]:
    """The token's parts (the nonce last); ``BAD_LINK`` when forged, for another purpose or expired."""
    try:
        value = _signer(purpose).unsign(token, max_age=timedelta(seconds=max_age_seconds))
    except (signing.BadSignature, ValueError) as exc:  # SignatureExpired is a BadSignature
        raise bad_link() from exc
    return value.split(".")


def use_nonce(purpose: str, nonce: str) -> None:
    """Record a link as used; a second use is refused (the unique nonce decides a race)."""
    try:
        with transaction.atomic():
            UsedToken.objects.create(nonce=nonce, purpose=purpose)
    except IntegrityError as exc:
        raise bad_link() from exc
