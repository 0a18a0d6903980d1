"""What the backup use cases share: the order system's name, error and step texts, targets."""

from __future__ import annotations

import hashlib
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext_lazy

from apps.core.errors import DomainError
from apps.core.events import message as event_message

from .. import engine, errors, events
from ..engine import gateway

ORDER_SYSTEM = "order_system"

# What the checks fail with when the target cannot run them (the data is restored all the same).
CHECK_FAILURES: tuple[type[BaseException], ...] = (engine.EngineError, *gateway.DB_ERRORS)

# What a backup or restore run fails with for a reason staff can act on (anything else is a bug).
RUN_FAILURES: tuple[type[BaseException], ...] = (
    engine.EngineError,
    OSError,
    DomainError,
    *gateway.DB_ERRORS,
)

# --- errors ----------------------------------------------------------------------------------
explain = errors.explain  # an engine or OS error as a sentence for staff, in the active language

# --- progress steps -----------------------------------------------------------------------------
# The engine names its steps in English (it has no Django); staff read them in their language.
_FIXED_STEPS = {
    "Connecting to the database": gettext_lazy("Connecting to the order system database"),
    "Connecting to the target database": gettext_lazy("Connecting to the target database"),
    "Finishing the backup file": gettext_lazy("Finishing the backup file"),
    "Backup complete": gettext_lazy("Backup complete"),
    "Restore complete": gettext_lazy("Restore complete"),
    "Loading": gettext_lazy("Loading"),
    "Rebuilding constraints": gettext_lazy("Rebuilding constraints"),
    "Rebuilding indexes": gettext_lazy("Rebuilding indexes"),
    "Re-validating foreign keys": gettext_lazy("Re-validating foreign keys"),
    "Comparing checksums": gettext_lazy("Comparing checksums"),
    "Resetting sequences": gettext_lazy("Resetting sequences"),
    "Committing": gettext_lazy("Committing"),
}


def step_text(step: str) -> Any:
    """The engine's step as a message shown in the reader's language; unknown steps unchanged."""
    if step in _FIXED_STEPS:
        return _FIXED_STEPS[step]
    for prefix, kind in events.NAMED_STEPS.items():
        if step.startswith(prefix):
            return event_message(kind, name=step[len(prefix) :])
    return step


def sha256_of(fileobj: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: fileobj.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def scratch_targets() -> dict[str, str]:
    return dict(settings.BACKUP_SCRATCH_TARGETS)


def target_label(url: str) -> str:
    return engine.parse_url(url).display


def resolve_target(target: str | None, target_url: str | None) -> str:
    if target_url:
        return target_url
    if target in (None, ORDER_SYSTEM):
        return settings.ORDER_SYSTEM_DATABASE_URL
    return scratch_targets()[target]
