"""Why a backup, restore or check failed, or a backup use case said no: ``BackupsError``.

One mechanism with the rest of the house (``apps.core.errors``): each code's label is its
message template, rendered in the reader's language when shown. The engine raises English
exceptions (it has no Django); ``classify`` turns one into a code + parameters, which runs store
(``error_code``/``error_params``) and ``DomainError``/``JobFailure`` carry. The engine's English
detail is appended in brackets, except where the sentence already says everything. Codes keep
the values runs stored before, so old rows render as they did.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError, ErrorCode, JobFailure

from . import engine


class BackupsError(ErrorCode):
    # Stored on runs (``error_code``, at most 24 characters): values never change.
    MESSAGE = "message", _("%(text)s")
    WRONG_KEY = "wrong_key", _("The master key does not open this backup (wrong key).")
    UNKNOWN_KEY = (
        "unknown_key",
        _("This backup was made with a master key that is not configured here (key id unknown)."),
    )
    TRUNCATED = "truncated", _("The backup file is incomplete (truncated).")
    TAMPERED = (
        "tampered",
        _("The backup file has been altered or damaged: authentication failed."),
    )
    BAD_FORMAT = (
        "bad_format",
        _("This is not a recovery-site backup file, or its format is unknown."),
    )
    PAYLOAD = "payload", _("The backup's contents do not match its manifest.")
    CHECKSUM = (
        "checksum",
        _("The restored data does not match the backup's checksums; nothing was changed."),
    )
    TARGET_UNREACHABLE = "target_unreachable", _("The target database cannot be reached.")
    SOURCE_UNREACHABLE = "source_unreachable", _("The order system database cannot be reached.")
    FOREIGN_KEY = (
        "foreign_key",
        _(
            "Restored rows of %(table)s refer to rows of %(references)s that the target does not "
            "hold, so the restore was rolled back and nothing was changed. Restore the scope that "
            "holds %(references)s together with this one, or restore into a target that has it."
        ),
    )
    RESTORE_FAILED = (
        "restore_failed",
        _("The restore failed and was rolled back: nothing was changed."),
    )
    BACKUP_FAILED = "backup_failed", _("The backup could not be written.")
    DISK_FULL = "disk_full", _("The disk is full.")
    FILE_NOT_FOUND = "file_not_found", _("A file was not found.")
    CHECK_EMPTY = "check_empty", _("The check is empty.")
    CHECK_SEVERAL = "check_several", _("A check must be a single statement.")
    CHECK_NOT_SELECT = (
        "check_not_select",
        _("A check must be a SELECT that counts the rows breaking a rule."),
    )
    CHECK_SHAPE = "check_shape", _("A check must return one row with one whole number.")
    CHECK_TIMEOUT = (
        "check_timeout",
        _("The check took longer than its time limit and was stopped."),
    )
    CHECK_WRITES = "check_writes", _("The check tried to change data; checks may only read.")
    CHECK_FAILED = "check_failed", _("The check failed.")
    # Refusals of the use cases.
    NO_MASTER_KEY = (
        "no_master_key",
        _("No backup master key is configured: set BACKUP_MASTER_KEYS or BACKUP_KEY_FILE."),
    )
    KEYS_UNREADABLE = "keys_unreadable", _("The backup master keys cannot be read: %(error)s")
    NO_FREE_NAME = (
        "no_free_name",
        _("No free file name is left for today's backups of this scope."),
    )
    UNKNOWN_KIND = "unknown_kind", _("Unknown backup kind: %(kind)s")
    REMOTE_STORE_FAILED = "remote_store_failed", _("The remote backup store failed: %(error)s")
    REMOTE_COPY_DIFFERS = (
        "remote_copy_differs",
        _("The remote copy differs from the local file (SHA-256 mismatch)."),
    )
    REMOTE_COPY_DAMAGED = (
        "remote_copy_damaged",
        _("The remote copy of %(name)s is damaged (SHA-256 mismatch)."),
    )
    LOCAL_DAMAGED = (
        "local_damaged",
        _(
            "The local copy of %(name)s is damaged and there is no remote copy to "
            "replace it: it is not served."
        ),
    )
    BACKUP_MISSING = (
        "backup_missing",
        _("Backup %(name)s is missing from both the local and the remote store."),
    )
    NOT_A_BACKUP_NAME = (
        "not_a_backup_name",
        _(
            "%(name)s is not a backup name: give the file name alone, as listed on the "
            "backups page (to check a file elsewhere, use verify_backup --file)."
        ),
    )
    BACKUP_ALREADY_FAILED = (
        "backup_already_failed",
        _("This backup had already been marked failed."),
    )
    RESTORE_ALREADY_FAILED = (
        "restore_already_failed",
        _("This restore had already been marked failed."),
    )
    NO_SCOPE_CHOSEN = "no_scope_chosen", _("Choose at least one scope to restore.")
    RESTORE_UNDER_WAY = (
        "restore_under_way",
        _("Restore #%(id)s of these scopes is still under way; wait for it to finish."),
    )
    NOT_COMPLETE_BACKUP = (
        "not_complete_backup",
        _("%(name)s is not a complete backup of %(scope)s."),
    )
    NO_INTACT_BACKUP = "no_intact_backup", _("%(scope)s: %(reason)s")
    UNKNOWN_TARGET = "unknown_target", _("Unknown restore target: %(target)s")
    NO_SUCH_BACKUP = "no_such_backup", _("No backup named %(name)s.")
    NO_SUCH_FILE = "no_such_file", _("No such file: %(path)s")
    NO_SCOPES = "no_scopes", _("No backup scopes are defined.")
    NO_JOURNAL_BASE = (
        "no_journal_base",
        _("%(scope)s has no complete backup before %(when)s that the journal can continue."),
    )
    # A point-in-time restore that stopped short of its time (``reason``: a stored event).
    JOURNAL_STOPPED_EARLY = "journal_stopped_early", _("%(reason)s")
    POINT_IN_FUTURE = "point_in_future", _("The point in time is in the future.")
    SHA_DIFFERS_FROM_RECORD = (
        "sha_differs_from_record",
        _("The file's SHA-256 differs from the one recorded when it was made."),
    )

    @classmethod
    def render_message(cls, code: ErrorCode, params: Mapping[str, Any]) -> str:
        return error_text(code, params)


# Most specific first: ForeignKeyError and ChecksumMismatchError are RestoreErrors.
_CLASSES: list[tuple[type[BaseException], BackupsError]] = [
    (engine.WrongKeyError, BackupsError.WRONG_KEY),
    (engine.UnknownKeyError, BackupsError.UNKNOWN_KEY),
    (engine.TruncatedError, BackupsError.TRUNCATED),
    (engine.TamperedError, BackupsError.TAMPERED),
    (engine.BadFormatError, BackupsError.BAD_FORMAT),
    (engine.PayloadError, BackupsError.PAYLOAD),
    (engine.ChecksumMismatchError, BackupsError.CHECKSUM),
    (engine.TargetUnreachableError, BackupsError.TARGET_UNREACHABLE),
    (engine.SourceUnreachableError, BackupsError.SOURCE_UNREACHABLE),
    (engine.ForeignKeyError, BackupsError.FOREIGN_KEY),
    (engine.RestoreError, BackupsError.RESTORE_FAILED),
    (engine.BackupError, BackupsError.BACKUP_FAILED),
]
_CHECK_CODES = {
    "empty": BackupsError.CHECK_EMPTY,
    "several": BackupsError.CHECK_SEVERAL,
    "not_select": BackupsError.CHECK_NOT_SELECT,
    "shape": BackupsError.CHECK_SHAPE,
    "timeout": BackupsError.CHECK_TIMEOUT,
    "writes": BackupsError.CHECK_WRITES,
    "failed": BackupsError.CHECK_FAILED,
}
# Codes whose sentence already says everything: the engine's English detail is left out.
_NO_DETAIL = {
    BackupsError.FOREIGN_KEY,
    BackupsError.CHECK_EMPTY,
    BackupsError.CHECK_SEVERAL,
    BackupsError.CHECK_NOT_SELECT,
    BackupsError.CHECK_SHAPE,
    BackupsError.CHECK_TIMEOUT,
    BackupsError.CHECK_WRITES,
}


def classify(exc: BaseException) -> tuple[str, dict[str, Any]]:
    """``(code, params)`` for an exception; ``MESSAGE`` carries text that is already final.

    A ``DomainError`` of this app keeps its own code and parameters.
    """
    if isinstance(exc, DomainError) and isinstance(exc.code, BackupsError):
        return exc.code, _plain(exc.params)
    detail = str(exc)
    if isinstance(exc, engine.CheckError):
        return _CHECK_CODES.get(exc.code, BackupsError.CHECK_FAILED), {"detail": detail}
    if isinstance(exc, engine.ForeignKeyError):
        return BackupsError.FOREIGN_KEY, {
            "table": exc.table or "?",
            "references": exc.references or "?",
            "detail": detail,
        }
    for cls, code in _CLASSES:
        if isinstance(exc, cls):
            return code, {"detail": detail}
    if isinstance(exc, OSError) and exc.errno == 28:
        return BackupsError.DISK_FULL, {"detail": detail}
    if isinstance(exc, FileNotFoundError):
        return BackupsError.FILE_NOT_FOUND, {"detail": detail}
    return BackupsError.MESSAGE, {"text": detail}


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as a run stores them (JSON): lazy labels become text."""
    from apps.core.events import json_safe

    return json_safe(params)


def error_text(code: str, params: Mapping[str, Any] | None = None) -> str:
    """The sentence for ``code`` in the active language, with the engine's detail after it."""
    params = params or {}
    if code not in BackupsError.values or code == BackupsError.MESSAGE:
        return str(params.get("text") or params.get("detail") or "")
    member = BackupsError(code)
    template = str(member.label)
    values = {k: _shown(v) for k, v in params.items()}
    try:
        text = template % values if "%(" in template else template
    except (KeyError, ValueError, TypeError):
        text = template
    detail = params.get("detail")
    if detail and member not in _NO_DETAIL:
        return f"{text} ({detail})"
    return text


def _shown(value: Any) -> str:
    """A parameter in the active language: a (stored) message is rendered, the rest as is."""
    from apps.core.events import render_event

    if isinstance(value, dict) and "kind" in value:
        return render_event(value["kind"], value.get("params") or {})
    return str(value)


def as_stored_error(exc: BaseException) -> dict[str, Any]:
    """An engine, OS or domain error as a nested event parameter, rendered when shown."""
    code, params = classify(exc)
    enum = BackupsError
    return {
        "kind": "core.error",
        "params": {
            "enum": f"{enum.__module__}.{enum.__qualname__}",
            "code": str(code),
            "params": params,
        },
    }


def explain(exc: BaseException) -> str:
    """An engine, OS or domain error as a sentence for staff, in the active language."""
    return error_text(*classify(exc))


def refusal(exc: BaseException, *, field: str | None = None) -> DomainError:
    """The ``DomainError`` (code + parameters) to raise for an engine or OS error."""
    code, params = classify(exc)
    return DomainError(BackupsError(code), params=params, field=field)


def job_failure(exc: BaseException, *, result: Any = None) -> JobFailure:
    """The ``JobFailure`` a run's job ends with: its reason re-rendered for each reader."""
    code, params = classify(exc)
    return JobFailure(BackupsError(code), params=params, result=result)
