"""What went wrong in a backup, restore or check: a code and parameters, rendered when shown.

The engine raises English exceptions (it has no Django); runs store ``ErrorCode`` plus
parameters, and staff read the sentence in their own language whenever they look, whoever
started the run and in whichever language.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from . import engine
from .choices import ErrorCode

_TEXTS = {
    ErrorCode.WRONG_KEY: _("The master key does not open this backup (wrong key)."),
    ErrorCode.UNKNOWN_KEY: _(
        "This backup was made with a master key that is not configured here (key id unknown)."
    ),
    ErrorCode.TRUNCATED: _("The backup file is incomplete (truncated)."),
    ErrorCode.TAMPERED: _("The backup file has been altered or damaged: authentication failed."),
    ErrorCode.BAD_FORMAT: _("This is not a recovery-site backup file, or its format is unknown."),
    ErrorCode.PAYLOAD: _("The backup's contents do not match its manifest."),
    ErrorCode.CHECKSUM: _(
        "The restored data does not match the backup's checksums; nothing was changed."
    ),
    ErrorCode.TARGET_UNREACHABLE: _("The target database cannot be reached."),
    ErrorCode.SOURCE_UNREACHABLE: _("The order system database cannot be reached."),
    ErrorCode.FOREIGN_KEY: _(
        "Restored rows of %(table)s refer to rows of %(references)s that the target does not "
        "hold, so the restore was rolled back and nothing was changed. Restore the scope that "
        "holds %(references)s together with this one, or restore into a target that has it."
    ),
    ErrorCode.RESTORE_FAILED: _("The restore failed and was rolled back: nothing was changed."),
    ErrorCode.BACKUP_FAILED: _("The backup could not be written."),
    ErrorCode.DISK_FULL: _("The disk is full."),
    ErrorCode.FILE_NOT_FOUND: _("A file was not found."),
    ErrorCode.CHECK_EMPTY: _("The check is empty."),
    ErrorCode.CHECK_SEVERAL: _("A check must be a single statement."),
    ErrorCode.CHECK_NOT_SELECT: _("A check must be a SELECT that counts the rows breaking a rule."),
    ErrorCode.CHECK_SHAPE: _("A check must return one row with one whole number."),
    ErrorCode.CHECK_TIMEOUT: _("The check took longer than its time limit and was stopped."),
    ErrorCode.CHECK_WRITES: _("The check tried to change data; checks may only read."),
    ErrorCode.CHECK_FAILED: _("The check failed."),
}

# Most specific first: ForeignKeyError and ChecksumMismatchError are RestoreErrors.
_CLASSES: list[tuple[type[BaseException], str]] = [
    (engine.WrongKeyError, ErrorCode.WRONG_KEY),
    (engine.UnknownKeyError, ErrorCode.UNKNOWN_KEY),
    (engine.TruncatedError, ErrorCode.TRUNCATED),
    (engine.TamperedError, ErrorCode.TAMPERED),
    (engine.BadFormatError, ErrorCode.BAD_FORMAT),
    (engine.PayloadError, ErrorCode.PAYLOAD),
    (engine.ChecksumMismatchError, ErrorCode.CHECKSUM),
    (engine.TargetUnreachableError, ErrorCode.TARGET_UNREACHABLE),
    (engine.SourceUnreachableError, ErrorCode.SOURCE_UNREACHABLE),
    (engine.ForeignKeyError, ErrorCode.FOREIGN_KEY),
    (engine.RestoreError, ErrorCode.RESTORE_FAILED),
    (engine.BackupError, ErrorCode.BACKUP_FAILED),
]
_CHECK_CODES = {
    "empty": ErrorCode.CHECK_EMPTY,
    "several": ErrorCode.CHECK_SEVERAL,
    "not_select": ErrorCode.CHECK_NOT_SELECT,
    "shape": ErrorCode.CHECK_SHAPE,
    "timeout": ErrorCode.CHECK_TIMEOUT,
    "writes": ErrorCode.CHECK_WRITES,
    "failed": ErrorCode.CHECK_FAILED,
}


def classify(exc: BaseException) -> tuple[str, dict[str, Any]]:
    """``(code, params)`` for an exception; ``MESSAGE`` carries text that is already final."""
    detail = str(exc)
    if isinstance(exc, engine.CheckError):
        return _CHECK_CODES.get(exc.code, ErrorCode.CHECK_FAILED), {"detail": detail}
    if isinstance(exc, engine.ForeignKeyError):
        return ErrorCode.FOREIGN_KEY, {
            "table": exc.table or "?",
            "references": exc.references or "?",
            "detail": detail,
        }
    for cls, code in _CLASSES:
        if isinstance(exc, cls):
            return code, {"detail": detail}
    if isinstance(exc, OSError) and exc.errno == 28:
        return ErrorCode.DISK_FULL, {"detail": detail}
    if isinstance(exc, FileNotFoundError):
        return ErrorCode.FILE_NOT_FOUND, {"detail": detail}
    return ErrorCode.MESSAGE, {"text": detail}


# Codes whose sentence already says everything: the engine's English detail is left out.
_NO_DETAIL = {
    ErrorCode.FOREIGN_KEY,
    ErrorCode.CHECK_EMPTY,
    ErrorCode.CHECK_SEVERAL,
    ErrorCode.CHECK_NOT_SELECT,
    ErrorCode.CHECK_SHAPE,
    ErrorCode.CHECK_TIMEOUT,
    ErrorCode.CHECK_WRITES,
}


def error_text(code: str, params: dict[str, Any] | None = None) -> str:
    """The sentence for ``code`` in the active language, with the engine's detail after it."""
    params = params or {}
    if code not in ErrorCode.values or code == ErrorCode.MESSAGE:
        return str(params.get("text") or params.get("detail") or "")
    template = str(_TEXTS[ErrorCode(code)])
    text = template % params if "%(" in template else template
    detail = params.get("detail")
    if detail and code not in _NO_DETAIL:
        return f"{text} ({detail})"
    return text


def explain(exc: BaseException) -> str:
    return error_text(*classify(exc))
