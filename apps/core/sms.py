"""SMS backends: a tiny interface so a real gateway is one class and one setting away."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The gateway refused or failed; the message says why."""


class BaseSmsBackend:
    def send(self, *, phone: str, text: str) -> str:
        """Send one message and return the provider's reference for it."""
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    def send(self, *, phone: str, text: str) -> str:
        ref = uuid.uuid4().hex
        sys.stdout.write(f"[SMS to {phone}] {text}\n")
        sys.stdout.flush()
        return ref


class FileSmsBackend(BaseSmsBackend):
    """One JSON file per message under SMS_FILE_PATH: handy for tests and rehearsals."""

    def send(self, *, phone: str, text: str) -> str:
        ref = uuid.uuid4().hex
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        payload = {"phone": phone, "text": text, "at": timezone.now().isoformat(), "ref": ref}
        (folder / f"{ref}.json").write_text(json.dumps(payload, ensure_ascii=False))
        return ref


def get_sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()
