"""States and kinds of the evaluations app, declared once with their translated labels."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Dimension(models.TextChoices):
    """The plan's five evaluation dimensions (10.1.1 – 10.1.5)."""

    RESPONSE = "response", _("Response speed")
    RECOVERY = "recovery", _("Recovery efficiency")
    RESOURCES = "resources", _("Resource utilisation")
    COLLABORATION = "collaboration", _("Team collaboration")
    SATISFACTION = "satisfaction", _("Customer satisfaction")


class Direction(models.TextChoices):
    LOWER = "lower", _("lower is better")
    HIGHER = "higher", _("higher is better")


class Metric(models.TextChoices):
    """Every figure a manager can set a target for, with its dimension (``METRIC_SPEC``)."""

    DETECTED_TO_DECLARED = "detected_to_declared", _("Detected → declared (minutes)")
    DECLARED_TO_ASSEMBLED = "declared_to_assembled", _("Declared → team assembled (minutes)")
    ASSEMBLED_TO_FIRST_TASK = (
        "assembled_to_first_task",
        _("Team assembled → first task started (minutes)"),
    )
    MEAN_ACKNOWLEDGEMENT = "mean_acknowledgement", _("Mean acknowledgement time (minutes)")
    DECLARED_TO_MANUAL = "declared_to_manual", _("Declared → manual process (minutes)")
    DECLARED_TO_RECOVERED = "declared_to_recovered", _("Declared → recovered (minutes)")
    RESTORE_MINUTES = "restore_minutes", _("Longest restore (minutes)")
    HANDED_BACK_PERCENT = "handed_back_percent", _("Manual orders handed back (%)")
    RESOURCE_USE_PERCENT = "resource_use_percent", _("Allocated resources in use (%)")
    TASKS_ON_TIME_PERCENT = "tasks_on_time_percent", _("Tasks done on time (%)")
    ATTENDANCE_PERCENT = "attendance_percent", _("Meeting attendance (%)")
    DECISIONS_DONE_PERCENT = "decisions_done_percent", _("Decisions carried out (%)")
    CSAT = "csat", _("Customer satisfaction (CSAT, 1–5)")
    FIRST_RESPONSE_MINUTES = "first_response_minutes", _("Case first response (minutes)")
    RESOLUTION_MINUTES = "resolution_minutes", _("Case resolution (minutes)")
    COMPLAINTS = "complaints", _("Complaints")


# metric → (dimension, direction, default target)
METRIC_SPEC: dict[str, tuple[str, str, float]] = {
    Metric.DETECTED_TO_DECLARED: (Dimension.RESPONSE, Direction.LOWER, 15),
    Metric.DECLARED_TO_ASSEMBLED: (Dimension.RESPONSE, Direction.LOWER, 30),
    Metric.ASSEMBLED_TO_FIRST_TASK: (Dimension.RESPONSE, Direction.LOWER, 15),
    Metric.MEAN_ACKNOWLEDGEMENT: (Dimension.RESPONSE, Direction.LOWER, 10),
    Metric.DECLARED_TO_MANUAL: (Dimension.RECOVERY, Direction.LOWER, 60),
    Metric.DECLARED_TO_RECOVERED: (Dimension.RECOVERY, Direction.LOWER, 240),
    Metric.RESTORE_MINUTES: (Dimension.RECOVERY, Direction.LOWER, 60),
    Metric.HANDED_BACK_PERCENT: (Dimension.RECOVERY, Direction.HIGHER, 100),
    Metric.RESOURCE_USE_PERCENT: (Dimension.RESOURCES, Direction.HIGHER, 80),
    Metric.TASKS_ON_TIME_PERCENT: (Dimension.COLLABORATION, Direction.HIGHER, 90),
    Metric.ATTENDANCE_PERCENT: (Dimension.COLLABORATION, Direction.HIGHER, 80),
    Metric.DECISIONS_DONE_PERCENT: (Dimension.COLLABORATION, Direction.HIGHER, 90),
    Metric.CSAT: (Dimension.SATISFACTION, Direction.HIGHER, 4),
    Metric.FIRST_RESPONSE_MINUTES: (Dimension.SATISFACTION, Direction.LOWER, 60),
    Metric.RESOLUTION_MINUTES: (Dimension.SATISFACTION, Direction.LOWER, 1440),
    Metric.COMPLAINTS: (Dimension.SATISFACTION, Direction.LOWER, 10),
}


def metrics_of(dimension: str) -> list[str]:
    return [m for m, spec in METRIC_SPEC.items() if spec[0] == dimension]


class ReportState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed off")


class ActionCategory(models.TextChoices):
    PROCESS = "process", _("Process")
    RESOURCES = "resources", _("Resources")
    PEOPLE = "people", _("People")
    CUSTOMER_COMMUNICATION = "customer_communication", _("Customer communication")
    DRILLS = "drills", _("Drills")


class ActionState(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")

    @classmethod
    def open_states(cls) -> set[str]:
        return {cls.OPEN, cls.IN_PROGRESS}


ACTION_TRANSITIONS: dict[str, set[str]] = {
    ActionState.OPEN: {ActionState.IN_PROGRESS, ActionState.DONE, ActionState.CANCELLED},
    ActionState.IN_PROGRESS: {ActionState.OPEN, ActionState.DONE, ActionState.CANCELLED},
    ActionState.DONE: {ActionState.IN_PROGRESS},
    ActionState.CANCELLED: {ActionState.OPEN},
}


class ChangeKind(models.TextChoices):
    ADD = "add", _("Add a checklist item")
    CHANGE = "change", _("Change a checklist item")
    RETIRE = "retire", _("Retire a checklist item")


class ProposalState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ReminderKind(models.TextChoices):
    BEFORE_DUE = "before_due", _("Due soon")
    OVERDUE = "overdue", _("Overdue")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    RANGE = "range", _("Any range")
