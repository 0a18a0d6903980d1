"""The master keyring: from the environment or a key file, never the database."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from apps.core.errors import DomainError

from .. import engine
from ..errors import BackupsError


# --- keys ------------------------------------------------------------------------------------
def get_keyring() -> engine.Keyring:
    """Master keys from the environment or a key file outside the repository, never the DB.

    In development a key file is generated under var/ on first use so the demo works at once.
    """
    spec = settings.BACKUP_MASTER_KEYS or None
    path = settings.BACKUP_KEY_FILE or None
    if path and not Path(path).exists() and spec is None and not settings.PRODUCTION:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(engine.generate_key_line(f"dev-{timezone.now():%Y%m%d}") + "\n")
        os.chmod(path, 0o600)
    if path and not Path(path).exists():
        path = None
    if not spec and not path:
        raise DomainError(BackupsError.NO_MASTER_KEY)
    try:
        return engine.Keyring.load(spec=spec, path=path)
    except engine.EngineError as exc:
        raise DomainError(BackupsError.KEYS_UNREADABLE, params={"error": str(exc)}) from exc


def known_key_ids() -> set[str] | None:
    """The keyring's key ids; None when no keyring can be loaded (then nothing is skipped)."""
    try:
        return set(get_keyring().kids)
    except DomainError:
        return None
