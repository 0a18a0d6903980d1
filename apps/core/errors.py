class DomainError(Exception):
    """A business rule said no. ``message`` is (lazily) translated and safe to show to staff."""

    def __init__(self, message, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class JobFailure(DomainError):
    """A job ended for a reason staff can act on (shown as-is on the job page)."""
