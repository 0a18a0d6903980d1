"""Probes and their samples, alarm rules and alarms, and problems reported by staff."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .choices import (
    ACTIVE_ALARM_STATES,
    AlarmAudience,
    AlarmSeverity,
    AlarmState,
    Condition,
    ProbeKind,
    ProblemCategory,
    ProblemPriority,
    ProblemState,
)

USER = settings.AUTH_USER_MODEL


class Probe(models.Model):
    """One thing watched every round: a built-in measurement of the order system or an HTTP URL."""

    kind = models.CharField(_("kind"), max_length=20, choices=ProbeKind.choices)
    name = models.CharField(_("name"), max_length=100, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    expected_status = models.PositiveSmallIntegerField(_("expected HTTP status"), default=200)
    timeout_ms = models.PositiveIntegerField(
        _("timeout (ms)"),
        default=5000,
        help_text=_("A probe still running after this long is cut off and counts as failed."),
    )
    # What the probe keeps between rounds (the log reader's position in each file).
    state = models.JSONField(_("state"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("probe")
        verbose_name_plural = _("probes")
        ordering = ["kind", "name"]
        permissions = [("view_figures", "Can see the business figures")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=~Q(kind=ProbeKind.HTTP), name="mon_one_builtin_per_kind"
            )
        ]

    def __str__(self) -> str:
        return str(self.display_name)

    @property
    def display_name(self) -> Any:
        """Built-in probes are named by their kind in the reader's language (their stored name
        is the kind's code, stable for /metrics and /health/); HTTP probes by the admin's name."""
        return self.name if self.kind == ProbeKind.HTTP else ProbeKind(self.kind).label


class Sample(models.Model):
    """One measurement of one probe: did it answer, its value, how long it took."""

    probe = models.ForeignKey(
        Probe, on_delete=models.CASCADE, related_name="samples", verbose_name=_("probe")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    ok = models.BooleanField(_("answered"))
    measured = models.BooleanField(_("measured"), default=True)
    value = models.FloatField(_("value"), null=True, blank=True)
    duration_ms = models.FloatField(_("duration (ms)"), default=0)
    # Why it failed, in the driver's words (technical; shown as is), and per-part figures.
    error = models.CharField(_("error"), max_length=500, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        indexes = [
            models.Index(fields=["probe", "-at"], name="mon_sample_probe_at"),
            models.Index(fields=["at"], name="mon_sample_at"),
        ]

    def __str__(self) -> str:
        return f"{self.probe_id} {self.at:%H:%M:%S} {'ok' if self.ok else 'failed'}"


class AlarmRule(models.Model):
    """When a probe's samples raise an alarm: a condition held for some samples in a row."""

    name = models.CharField(_("name"), max_length=100)
    probe = models.ForeignKey(
        Probe, on_delete=models.CASCADE, related_name="rules", verbose_name=_("probe")
    )
    condition = models.CharField(
        _("condition"), max_length=10, choices=Condition.choices, default=Condition.FAILS
    )
    threshold = models.FloatField(_("threshold"), null=True, blank=True)
    consecutive = models.PositiveSmallIntegerField(
        _("samples in a row"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("How many samples in a row must meet the condition before the alarm fires."),
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=AlarmSeverity.choices, default=AlarmSeverity.WARNING
    )
    escalate_after_minutes = models.PositiveIntegerField(
        _("escalate after (minutes)"),
        default=10,
        help_text=_("Unacknowledged this long, the alarm goes to the emergency lead."),
    )
    auto_declare = models.BooleanField(
        _("declare an incident by itself"),
        default=False,
        help_text=_("Only for critical rules: the alarm declares an incident with its evidence."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("alarm rule")
        verbose_name_plural = _("alarm rules")
        ordering = ["probe__name", "name"]

    def __str__(self) -> str:
        return self.name


class Alarm(models.Model):
    """A rule's condition held: fired once, acknowledged, escalated, resolved (or refired)."""

    rule = models.ForeignKey(
        AlarmRule, on_delete=models.CASCADE, related_name="alarms", verbose_name=_("rule")
    )
    state = models.CharField(
        _("state"), max_length=14, choices=AlarmState.choices, default=AlarmState.FIRING
    )
    severity = models.CharField(_("severity"), max_length=10, choices=AlarmSeverity.choices)
    fired_at = models.DateTimeField(_("fired at"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # Who was told when it fired: the staff on duty, or every tech-support account (no one was).
    notified = models.CharField(
        _("notified"), max_length=20, choices=AlarmAudience.choices, blank=True, default=""
    )
    # Flap damping: a refire within the window reopens this alarm instead of making a new one.
    refired = models.PositiveIntegerField(_("times refired"), default=0)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("incident"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-fired_at", "-pk"]
        permissions = [("acknowledge_alarm", "Can acknowledge alarms and declare incidents")]
        constraints = [
            # A rule has at most one alarm that is not resolved: firing twice is impossible.
            models.UniqueConstraint(
                fields=["rule"],
                condition=Q(state__in=ACTIVE_ALARM_STATES),
                name="mon_one_active_alarm_per_rule",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} ({self.get_state_display()})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_ALARM_STATES


class DutyShift(models.Model):
    """A tech-support person on duty from ``starts_at`` until ``ends_at`` (that instant excluded):
    alarms fired meanwhile go to them. Shifts may overlap (two people on duty at once)."""

    person = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("person on duty")
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    created_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("entered by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty shifts")
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="mon_shift_ends_starts")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="mon_shift_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"


class ProblemReport(models.Model):
    """A technical problem someone saw, reported from any page, triaged by tech support."""

    reporter = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("reported by")
    )
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    what = models.TextField(_("what you saw"), max_length=4000)
    where = models.CharField(_("where"), max_length=500, blank=True)
    screenshot = models.BinaryField(_("screenshot"), blank=True, default=b"", editable=False)
    screenshot_type = models.CharField(max_length=20, blank=True, editable=False)
    category = models.CharField(
        _("category"),
        max_length=20,
        choices=ProblemCategory.choices,
        default=ProblemCategory.UNCLASSIFIED,
    )
    priority = models.CharField(
        _("priority"),
        max_length=10,
        choices=ProblemPriority.choices,
        default=ProblemPriority.NORMAL,
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ProblemState.choices, default=ProblemState.NEW
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("incident"),
    )
    resolution = models.TextField(_("resolution"), blank=True, max_length=4000)
    solved_at = models.DateTimeField(_("solved at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(excluded_fields=["screenshot"])

    class Meta:
        verbose_name = _("problem report")
        verbose_name_plural = _("problem reports")
        ordering = ["-reported_at", "-pk"]
        permissions = [("triage_problemreport", "Can classify and solve problem reports")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.what[:40]}"
