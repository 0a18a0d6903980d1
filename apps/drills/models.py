"""Drill plans and runs, restore rehearsals, courses, sessions and certificates."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.incidents.choices import CauseCategory, CauseDetail, Severity

from .choices import DrillPhase, RehearsalState, Repeat, RunState

USER = settings.AUTH_USER_MODEL


class DrillPlan(models.Model):
    """A rehearsal of the plan (9.1): a scenario, objectives, target times, people, a date."""

    title = models.CharField(_("title"), max_length=200)
    scenario_category = models.CharField(
        _("scenario: cause"), max_length=30, choices=CauseCategory.choices, blank=True
    )
    scenario_detail = models.CharField(
        _("scenario: sub-cause"), max_length=30, choices=CauseDetail.choices, blank=True
    )
    severity = models.CharField(
        _("severity played"), max_length=10, choices=Severity.choices, default=Severity.CRITICAL
    )
    objectives = models.TextField(_("objectives"), blank=True)
    # Minutes from the drill's start by which each phase should be reached ({phase: minutes}).
    phase_targets = models.JSONField(_("target times"), default=dict, encoder=DjangoJSONEncoder)
    participants: models.ManyToManyField = models.ManyToManyField(
        USER, verbose_name=_("participants"), related_name="+"
    )
    observers: models.ManyToManyField = models.ManyToManyField(
        USER, verbose_name=_("observers"), related_name="+", blank=True
    )
    templates = models.ManyToManyField(
        "incidents.TaskTemplate",
        verbose_name=_("checklist templates"),
        related_name="+",
        blank=True,
        help_text=_("Leave empty to use every active checklist template."),
    )
    scheduled_at = models.DateTimeField(_("first drill at"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=120)
    repeat = models.CharField(_("repeats"), max_length=10, choices=Repeat.choices, default="none")
    repeat_until = models.DateField(_("repeats until"), null=True, blank=True)
    created_by = models.ForeignKey(
        USER, verbose_name=_("planned by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[participants, observers])

    class Meta:
        verbose_name = _("drill plan")
        verbose_name_plural = _("drill plans")
        ordering = ["-scheduled_at", "-pk"]
        permissions = [("observe_drill", _("Can inject events and remarks into a running drill"))]

    def __str__(self) -> str:
        return self.title

    def target_minutes(self, phase: str) -> int | None:
        value = (self.phase_targets or {}).get(phase)
        return int(value) if value not in (None, "") else None

    def occurrences(self, *, until: date | None = None, limit: int = 200) -> list:
        """The start times of this plan's drills (the first one, then each repetition)."""
        from .calendar import occurrences

        return occurrences(self, until=until, limit=limit)


class DrillRun(models.Model):
    """One drill being run: an incident flagged as a drill, worked on the real tools (9.2)."""

    _change_reason: str

    plan = models.ForeignKey(
        DrillPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="runs"
    )
    incident = models.OneToOneField(
        "incidents.Incident",
        verbose_name=_("incident"),
        on_delete=models.PROTECT,
        related_name="drill_run",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=RunState.choices, default=RunState.RUNNING
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    started_by = models.ForeignKey(
        USER, verbose_name=_("started by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        USER,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    went_wrong = models.TextField(_("what went wrong"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("drill")
        verbose_name_plural = _("drills")
        ordering = ["-started_at", "-pk"]
        constraints = [
            # One running drill per plan: a double click on "start" cannot open two.
            models.UniqueConstraint(
                fields=["plan"],
                condition=models.Q(state="running"),
                name="one_running_drill_per_plan",
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan} ({timezone.localtime(self.started_at):%Y-%m-%d %H:%M})"


class PhaseTime(models.Model):
    """When a drill reached one phase, and who recorded it."""

    run = models.ForeignKey(
        DrillRun, verbose_name=_("drill"), on_delete=models.CASCADE, related_name="phase_times"
    )
    phase = models.CharField(_("phase"), max_length=20, choices=DrillPhase.choices)
    reached_at = models.DateTimeField(_("reached at"))
    recorded_by = models.ForeignKey(
        USER, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("phase time")
        verbose_name_plural = _("phase times")
        ordering = ["reached_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "phase"], name="one_time_per_drill_phase")
        ]

    def __str__(self) -> str:
        return f"{self.get_phase_display()} {self.reached_at:%H:%M}"

    @property
    def minutes(self) -> float:
        return round((self.reached_at - self.run.started_at).total_seconds() / 60, 1)


class RestoreRehearsal(models.Model):
    """A rehearsal of the restore (8.3(4)): latest backups into a scratch database, timed."""

    state = models.CharField(
        _("state"), max_length=10, choices=RehearsalState.choices, default=RehearsalState.QUEUED
    )
    target = models.CharField(_("scratch target"), max_length=100)
    target_label = models.CharField(_("target"), max_length=300, blank=True)
    requested_scopes = models.JSONField(_("scopes asked for"), default=list, blank=True)
    started_by = models.ForeignKey(
        USER,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    job = models.ForeignKey(
        "core.JobRecord",
        verbose_name=_("job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Measured: restore + verify wall time (RTO) and the age of the newest data restored (RPO).
    rto_seconds = models.FloatField(_("RTO (seconds)"), null=True, blank=True)
    rpo_seconds = models.FloatField(_("RPO (seconds)"), null=True, blank=True)
    scopes = models.JSONField(_("per scope"), default=list, blank=True, encoder=DjangoJSONEncoder)
    scratch_dropped = models.BooleanField(_("scratch database dropped"), default=False)
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    error_params = models.JSONField(_("error parameters"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("restore rehearsal")
        verbose_name_plural = _("restore rehearsals")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_state_display()}"

    @property
    def error_message(self) -> str:
        from apps.core.errors import DomainError

        from .errors import DrillsError

        if self.error_code in DrillsError.values:
            return str(DomainError(DrillsError(self.error_code), params=self.error_params))
        return self.error


class Course(models.Model):
    """A training course (9.3): which roles need it, its pass mark, how long a certificate lasts."""

    code = models.SlugField(_("code"), unique=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    required_for = models.JSONField(
        _("required for roles"), default=list, blank=True, help_text=_("Role codes.")
    )
    pass_mark = models.PositiveSmallIntegerField(_("pass mark"), default=60)
    validity_days = models.PositiveIntegerField(_("certificate valid for (days)"), default=365)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["code"]
        permissions = [
            ("view_readiness_matrix", _("Can see the training readiness matrix")),
            ("manage_training", _("Can plan sessions and record attendance and scores")),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return self.title_zh if (get_language() or "").startswith("zh") else self.title_en


class TrainingSession(models.Model):
    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="sessions"
    )
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=90)
    location = models.CharField(_("where"), max_length=200, blank=True)
    trainer = models.ForeignKey(
        USER,
        verbose_name=_("trainer"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    invitees: models.ManyToManyField = models.ManyToManyField(
        USER, verbose_name=_("invited"), related_name="+"
    )
    created_by = models.ForeignKey(
        USER, verbose_name=_("planned by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    history = HistoricalRecords(m2m_fields=[invitees])

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-starts_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.course} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.duration_minutes)


class Attendance(models.Model):
    """Who came to a session and, after the assessment, their score."""

    session = models.ForeignKey(
        TrainingSession,
        verbose_name=_("session"),
        on_delete=models.CASCADE,
        related_name="attendance",
    )
    user = models.ForeignKey(
        USER, verbose_name=_("person"), on_delete=models.PROTECT, related_name="+"
    )
    attended = models.BooleanField(_("attended"), default=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        USER, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="one_attendance_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.session}"


class Certificate(models.Model):
    """Proof that a person passed a course, valid until ``expires_on``."""

    user = models.ForeignKey(
        USER, verbose_name=_("person"), on_delete=models.PROTECT, related_name="certificates"
    )
    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="certificates"
    )
    session = models.ForeignKey(
        TrainingSession,
        verbose_name=_("session"),
        on_delete=models.PROTECT,
        related_name="certificates",
        null=True,
        blank=True,
    )
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"))
    reminded_at = models.DateTimeField(_("expiry reminder sent at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-expires_on", "-pk"]
        indexes = [models.Index(fields=["user", "course", "expires_on"])]
        constraints = [
            # Recording a session's scores twice (a double click) issues one certificate.
            models.UniqueConstraint(
                fields=["user", "course", "session"], name="one_certificate_per_session"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.course} → {self.expires_on}"
