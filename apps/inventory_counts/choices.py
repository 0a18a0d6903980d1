"""States of a count session and the transitions allowed between them: declared once, here."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SessionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    COUNTING = "counting", _("Counting")
    RECOUNT = "recount", _("Recount needed")
    REVIEW = "review", _("In review")
    APPROVED = "approved", _("Approved")
    CANCELLED = "cancelled", _("Cancelled")


# state -> states it may move to; services refuse anything else.
SESSION_TRANSITIONS: dict[str, set[str]] = {
    SessionState.DRAFT: {SessionState.COUNTING, SessionState.CANCELLED},
    SessionState.COUNTING: {SessionState.RECOUNT, SessionState.REVIEW, SessionState.CANCELLED},
    SessionState.RECOUNT: {SessionState.REVIEW, SessionState.CANCELLED},
    SessionState.REVIEW: {SessionState.APPROVED, SessionState.CANCELLED},
    SessionState.APPROVED: set(),
    SessionState.CANCELLED: set(),
}

# States in which clerks may enter counts (first counts, then recounts).
ENTRY_STATES = {SessionState.COUNTING, SessionState.RECOUNT}


def can_move(current: str, target: str) -> bool:
    return target in SESSION_TRANSITIONS.get(current, set())


class EntryProblem(models.TextChoices):
    """Why an entry was refused or must be confirmed (codes the page and tests read)."""

    NOT_WHOLE = "not_whole", _("Not a whole number")
    IMPLAUSIBLE = "implausible", _("Beyond the plausible quantity")
    TOO_LARGE = "too_large", _("Too large to record")
    DUPLICATE = "duplicate", _("Counted moments ago")


class StockSource(models.TextChoices):
    """Where a row of approved stock came from."""

    COUNT = "count", _("Approved count")
    RETURN = "return", _("Returned goods")


class EntrySource(models.TextChoices):
    SCAN = "scan", _("Scanned")
    IMPORT = "import", _("Imported sheet")


class ImportState(models.TextChoices):
    VALIDATING = "validating", _("Checking")
    INVALID = "invalid", _("Has errors")
    VALID = "valid", _("Ready to import")
    IMPORTING = "importing", _("Importing")
    IMPORTED = "imported", _("Imported")
    FAILED = "failed", _("Failed")
