"""Evaluation reports, targets, improvement actions and the versioned recovery plan.

Reports read other apps' data (through ``figures``/``sources``) and store what they computed;
nothing here writes another app's rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .choices import (
    ActionCategory,
    ActionState,
    ChangeKind,
    Dimension,
    Metric,
    ProposalState,
    ReminderKind,
    ReportState,
)

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

USER = settings.AUTH_USER_MODEL


class Target(models.Model):
    """The value a manager expects for one metric (missing rows use ``METRIC_SPEC``'s default)."""

    metric = models.CharField(_("metric"), max_length=40, choices=Metric.choices, unique=True)
    value = models.DecimalField(_("target"), max_digits=10, decimal_places=2)
    updated_by = models.ForeignKey(
        USER, verbose_name=_("set by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("set at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["metric"]
        permissions = [("manage_targets", _("Can set evaluation targets"))]

    def __str__(self) -> str:
        return f"{self.get_metric_display()}: {self.value}"


class EvaluationReport(models.Model):
    """One version of an incident's (or drill's) evaluation: figures computed, narrative typed.

    A draft is recomputed in place; a signed version is frozen and recomputing then starts the
    next version (the signed one stays readable).
    """

    _change_reason: str
    _history_user: AbstractBaseUser | None

    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("incident"),
        on_delete=models.PROTECT,
        related_name="evaluation_reports",
    )
    number = models.PositiveIntegerField(_("version"))
    is_drill = models.BooleanField(_("drill"), default=False)
    state = models.CharField(
        _("state"), max_length=10, choices=ReportState.choices, default=ReportState.DRAFT
    )
    figures = models.JSONField(_("figures"), default=dict, encoder=DjangoJSONEncoder)
    narratives = models.JSONField(_("narratives"), default=dict, blank=True)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    computed_by = models.ForeignKey(
        USER, verbose_name=_("computed by"), on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    signed_by = models.ForeignKey(
        USER,
        verbose_name=_("signed off by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    edit_version = models.PositiveIntegerField(_("edit version"), default=1)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("evaluation report")
        verbose_name_plural = _("evaluation reports")
        ordering = ["incident", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "number"], name="one_report_number"),
            # At most one draft per incident: the draft is where recomputing happens.
            models.UniqueConstraint(
                fields=["incident"],
                condition=models.Q(state="draft"),
                name="one_draft_report_per_incident",
            ),
        ]
        permissions = [
            ("sign_evaluationreport", _("Can sign off evaluation reports")),
            ("export_evaluationreport", _("Can export evaluation reports")),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} v{self.number}"

    @property
    def is_signed(self) -> bool:
        return self.state == ReportState.SIGNED

    def narrative(self, dimension: str) -> str:
        return str((self.narratives or {}).get(dimension, ""))


class ImprovementAction(models.Model):
    """Something to change after a finding (10.2): owned, due, and linked to what caused it."""

    _change_reason: str
    _history_user: AbstractBaseUser | None

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=30, choices=ActionCategory.choices)
    owner = models.ForeignKey(
        USER, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    due = models.DateField(_("due"))
    state = models.CharField(
        _("state"), max_length=12, choices=ActionState.choices, default=ActionState.OPEN
    )
    # The finding: any row (a report, a drill, a case) plus, for reports, the dimension.
    source_type = models.ForeignKey(
        ContentType,
        verbose_name=_("finding type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    source_id = models.PositiveBigIntegerField(_("finding id"), null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    finding = models.CharField(_("finding"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        USER, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        ordering = ["due", "pk"]
        indexes = [
            models.Index(fields=["state", "due"]),
            models.Index(fields=["source_type", "source_id"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.state in ActionState.open_states()

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due < timezone.localdate()


class ActionReminder(models.Model):
    """A reminder sent for an action; unique per (action, kind) so a rerun never sends twice."""

    action = models.ForeignKey(
        ImprovementAction,
        verbose_name=_("improvement action"),
        on_delete=models.CASCADE,
        related_name="reminders",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ReminderKind.choices)
    due = models.DateField(_("for due date"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["action", "kind", "due"], name="one_reminder_per_due")
        ]

    def __str__(self) -> str:
        return f"{self.action_id} {self.kind}"


class PlanVersion(models.Model):
    """A numbered snapshot of the recovery plan's checklist (phases and items).

    The version in effect for an incident or drill is the newest whose ``effective_at`` is not
    after its declaration: running incidents keep the tasks they were given.
    """

    number = models.PositiveIntegerField(_("version"), unique=True)
    items = models.JSONField(_("checklist items"), default=list, encoder=DjangoJSONEncoder)
    effective_at = models.DateTimeField(_("in effect from"), default=timezone.now)
    approved_by = models.ForeignKey(
        USER, verbose_name=_("approved by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number}"


class PlanChange(models.Model):
    """A proposed change to the plan's checklist, approved (new version) or rejected by a manager."""

    _change_reason: str
    _history_user: AbstractBaseUser | None

    action = models.ForeignKey(
        ImprovementAction,
        verbose_name=_("improvement action"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plan_changes",
    )
    kind = models.CharField(_("change"), max_length=10, choices=ChangeKind.choices)
    template_id = models.PositiveBigIntegerField(_("checklist item"), null=True, blank=True)
    fields = models.JSONField(_("proposed item"), default=dict, blank=True)
    reason = models.TextField(_("why"), blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=ProposalState.choices, default=ProposalState.PROPOSED
    )
    proposed_by = models.ForeignKey(
        USER, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    decided_by = models.ForeignKey(
        USER,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    plan_version = models.ForeignKey(
        PlanVersion,
        verbose_name=_("resulting version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changes",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("plan change")
        verbose_name_plural = _("plan changes")
        ordering = ["-proposed_at", "-pk"]
        permissions = [("approve_planchange", _("Can approve changes to the recovery plan"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"


__all__ = [
    "ActionReminder",
    "Dimension",
    "EvaluationReport",
    "ImprovementAction",
    "PlanChange",
    "PlanVersion",
    "Target",
]
