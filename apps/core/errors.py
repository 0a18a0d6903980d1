"""Domain errors carry a code; the sentence staff read is rendered from it when shown.

Each app declares its codes once, as ``ErrorCode`` (a ``TextChoices`` whose label is the
message template, lazily translated, with ``%(name)s`` parameters)::

    class CareError(ErrorCode):
        CASE_CLOSED = "case_closed", _("Case %(reference)s is closed.")

    raise DomainError(CareError.CASE_CLOSED, params={"reference": case.reference})

Tests assert ``exc.code``; views show ``str(exc)`` (rendered in the reader's language) through
``add_domain_error``. Anchors: Saleor's ``order/error_codes.py``, Zulip's ``JsonableError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django import forms
    from django.db.models import Model


class ErrorCode(models.TextChoices):
    """Base for each app's error codes: value = stable code, label = message template."""


class CoreError(ErrorCode):
    INVALID = "invalid", _("%(detail)s")
    QUEUE_UNAVAILABLE = (
        "queue_unavailable",
        _(
            "The job queue is not answering (Redis is down or unreachable), so nothing was "
            "started. Try again in a minute; if it persists, ask an administrator to check Redis."
        ),
    )
    INCOMPLETE_FORM = (
        "incomplete_form",
        _("The form was incomplete. Reload the page and try again."),
    )
    STALE = (
        "stale",
        _("Someone else changed this in the meantime. Reload the page and try again."),
    )
    UNKNOWN_CHANNEL = "unknown_channel", _("Unknown notification channel.")
    NO_ADDRESS = "no_address", _("%(who)s has no address for this channel.")
    UNREADABLE_FILE = "unreadable_file", _("The file could not be read: %(why)s")
    NOT_RESENDABLE = (
        "not_resendable",
        _("Only a failed message can be sent again; this one is %(state)s."),
    )


class DomainError(Exception):
    """A business rule said no; safe to show to staff.

    ``DomainError(SomeError.CODE, params={...}, field="name")`` is the form to use; a plain
    (lazily translated) message is still accepted and carries ``CoreError.INVALID`` (or the
    ``code`` given), for validation messages that Django already rendered.
    """

    default_code: str = CoreError.INVALID

    def __init__(
        self,
        message: Any = None,
        *,
        code: str | None = None,
        field: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(message, ErrorCode):
            code, message = message, None
        # Subclasses may fix their code as a class attribute (``code = EntryProblem.DUPLICATE``).
        self.code: str = code or getattr(type(self), "code", None) or self.default_code
        self.params: dict[str, Any] = dict(params or {})
        self._message = message
        self.field = field
        super().__init__(code if message is None else message)

    @property
    def message(self) -> str | Promise:
        """The sentence in the active language, rendered from the code when there is one."""
        if self._message is not None:
            return self._message
        if not isinstance(self.code, ErrorCode):
            return str(self.code)
        return _Rendered(self.code, self.params)

    def __str__(self) -> str:
        return str(self.message)


def render_error(code: ErrorCode, params: Mapping[str, Any]) -> str:
    """``code``'s sentence in the active language.

    An app whose messages need more than ``label % params`` (backups appends the engine's
    detail) gives its ``ErrorCode`` a ``render_message(code, params)`` classmethod.
    """
    custom = getattr(type(code), "render_message", None)
    if custom is not None:
        return str(custom(code, params))
    text = str(code.label)
    values = {k: str(v) if isinstance(v, Promise) else v for k, v in params.items()}
    try:
        return text % values if values or "%(" in text else text
    except (KeyError, ValueError, TypeError):
        return text


# Stored form of an error (a failed job's reason): kind + the code's enum, value and params.
ERROR_KIND = "core.error"


def render_stored_error(params: Mapping[str, Any], fallback: str = "") -> str:
    """A stored ``ERROR_KIND`` event in the reader's language; ``fallback`` if the code is gone."""
    from django.utils.module_loading import import_string

    path = str(params.get("enum"))
    if not path.startswith("apps."):  # only this project's own error enums are looked up
        return str(fallback)
    try:
        enum = import_string(path)
        code = enum(params.get("code"))
    except (ImportError, ValueError, TypeError):
        return str(fallback)
    if not isinstance(code, ErrorCode):
        return str(fallback)
    return render_error(code, params.get("params") or {})


class _Rendered(Promise):
    """A lazy ``label % params``: rendered in whichever language is active when shown."""

    def __init__(self, code: ErrorCode, params: Mapping[str, Any]) -> None:
        self.code, self.params = code, params

    def __str__(self) -> str:
        return render_error(self.code, self.params)

    def as_event(self) -> tuple[str, dict[str, Any]]:
        """How a job stores this error: re-rendered in each reader's language when shown."""
        enum = type(self.code)
        return ERROR_KIND, {
            "enum": f"{enum.__module__}.{enum.__qualname__}",
            "code": str(self.code.value),
            "params": dict(self.params),
        }

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


class JobFailure(DomainError):
    """A job ended for a reason staff can act on (shown as-is on the job page).

    ``result`` is kept on the job record like a success's, so the page can still link to what
    the job was about (the backup a failed verification checked, say).
    """

    def __init__(
        self,
        message: Any = None,
        *,
        code: str | None = None,
        field: str | None = None,
        params: Mapping[str, Any] | None = None,
        result: Any = None,
    ) -> None:
        super().__init__(message, code=code, field=field, params=params)
        self.result = result


class QueueUnavailable(DomainError):
    """The job queue (Redis) did not answer: nothing was started, the caller may try again."""

    default_code = CoreError.QUEUE_UNAVAILABLE


class StaleRecord(DomainError):
    """Optimistic locking said no: the row changed since the form was loaded."""

    default_code = CoreError.STALE


def add_domain_error(form: forms.BaseForm, exc: DomainError) -> None:
    """Show a refused change on the form: next to its field when the form has it, else on top."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, str(exc))


def full_clean_or_refuse(instance: Model) -> None:
    """``full_clean()`` whose first problem is a ``DomainError`` on its field.

    E.g. a quantity with more digits than the column holds: the service says so in the user's
    language instead of the database answering with a 500.
    """
    from django.core.exceptions import ValidationError

    try:
        instance.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(CoreError.INVALID, params={"detail": messages[0]}, field=field) from None
