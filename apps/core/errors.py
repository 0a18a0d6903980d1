from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.models import Model


class DomainError(Exception):
    """A business rule said no. ``message`` is (lazily) translated and safe to show to staff."""

    def __init__(self, message, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class JobFailure(DomainError):
    """A job ended for a reason staff can act on (shown as-is on the job page).

    ``result`` is kept on the job record like a success's, so the page can still link to what
    the job was about (the backup a failed verification checked, say).
    """

    def __init__(self, message, *, field: str | None = None, result=None) -> None:
        super().__init__(message, field=field)
        self.result = result


class QueueUnavailable(DomainError):
    """The job queue (Redis) did not answer: nothing was started, the caller may try again."""


def full_clean_or_refuse(instance: "Model") -> None:
    """``full_clean()`` whose first problem is a ``DomainError`` on its field.

    E.g. a quantity with more digits than the column holds: the service says so in the user's
    language instead of the database answering with a 500.
    """
    from django.core.exceptions import ValidationError

    try:
        instance.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(messages[0], field=field) from None
