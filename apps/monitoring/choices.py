"""Kinds of probes, alarm conditions, severities and states of the monitoring app, declared once."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProbeKind(models.TextChoices):
    DATABASE = "database", _("Order database answers")
    ORDER_RATE = "order_rate", _("Orders per minute against last week")
    PAYMENT_FAILURES = "payment_failures", _("Failed payments ratio")
    LOG_ERRORS = "log_errors", _("Error lines in the order system's logs")
    JOURNAL_LAG = "journal_lag", _("Change journal slot lag")
    BACKUP_AGE = "backup_age", _("Age of the newest verified backup")
    HTTP = "http", _("HTTP endpoint")


# Probes every deployment has (created by ``services.ensure_builtin_probes``); admins add HTTP ones.
BUILTIN_KINDS = [k for k in ProbeKind if k != ProbeKind.HTTP]


class Condition(models.TextChoices):
    FAILS = "fails", _("the probe fails")
    ABOVE = "above", _("the value is above the threshold")
    BELOW = "below", _("the value is below the threshold")


class AlarmSeverity(models.TextChoices):
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class AlarmState(models.TextChoices):
    FIRING = "firing", _("Firing")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class AlarmAudience(models.TextChoices):
    """Who an alarm was announced to when it fired (blank: not announced, e.g. before the roster)."""

    ON_DUTY = "on_duty", _("The tech-support staff on duty")
    ALL_TECH_SUPPORT = (
        "all_tech_support",
        _("Every tech-support account: nobody was on duty on the roster"),
    )


ACTIVE_ALARM_STATES = (AlarmState.FIRING, AlarmState.ACKNOWLEDGED)


class ProblemCategory(models.TextChoices):
    UNCLASSIFIED = "unclassified", _("Not classified yet")
    ORDER_SYSTEM = "order_system", _("Order system")
    NETWORK = "network", _("Network")
    DATA = "data", _("Data")
    PAYMENT = "payment", _("Payments")
    BACK_OFFICE = "back_office", _("This back-office")
    OTHER = "other", _("Other")


class ProblemPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class ProblemState(models.TextChoices):
    NEW = "new", _("New")
    TRIAGED = "triaged", _("Classified")
    SOLVED = "solved", _("Solved")


PROBLEM_TRANSITIONS: dict[str, set[str]] = {
    ProblemState.NEW: {ProblemState.TRIAGED, ProblemState.SOLVED},
    ProblemState.TRIAGED: {ProblemState.TRIAGED, ProblemState.SOLVED},
    ProblemState.SOLVED: set(),
}
