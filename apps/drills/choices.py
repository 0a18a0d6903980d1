"""Drill phases, run states, repetition and training states: declared once."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DrillPhase(models.TextChoices):
    """The plan's phases a drill is timed on (minutes from the drill's start)."""

    DECLARED = "declared", _("Incident declared")
    TEAM_ASSEMBLED = "team_assembled", _("Team assembled")
    PROBLEM_LOCATED = "problem_located", _("Problem located")
    MANUAL_PROCESS = "manual_process", _("Business on the manual process")
    RECOVERED = "recovered", _("Recovered")


# The incident timestamp that marks each phase when staff worked the drill on the real tools.
PHASE_INCIDENT_FIELD: dict[str, str] = {
    DrillPhase.DECLARED: "declared_at",
    DrillPhase.TEAM_ASSEMBLED: "team_assembled_at",
    DrillPhase.PROBLEM_LOCATED: "fixing_at",
    DrillPhase.MANUAL_PROCESS: "manual_process_at",
    DrillPhase.RECOVERED: "recovered_at",
}


class Repeat(models.TextChoices):
    NONE = "none", _("Does not repeat")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month")
    QUARTERLY = "quarterly", _("Every three months")


class RunState(models.TextChoices):
    RUNNING = "running", _("Running")
    CLOSED = "closed", _("Closed")


class RehearsalState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class CertificateStatus(models.TextChoices):
    """One cell of the readiness matrix."""

    CURRENT = "current", _("Current")
    EXPIRING = "expiring", _("Expiring within 30 days")
    EXPIRED = "expired", _("Expired")
    MISSING = "missing", _("Missing")
