import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Channel, JobState, NotificationState, ScheduleOutcome
from .events import render_event


class JobRecord(models.Model):
    """What staff see of a long job: who started it, how far it got, and how it ended."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=80)
    # Title, step and error are data (kind + parameters, apps.core.events) rendered in the
    # reader's language; the text columns hold them as rendered when written (the fallback).
    title = models.CharField(_("title"), max_length=200)
    title_kind = models.CharField(max_length=80, blank=True, editable=False)
    title_params = models.JSONField(default=dict, blank=True, editable=False)
    queue = models.CharField(_("queue"), max_length=40, default="default")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=12, choices=JobState.choices, default=JobState.QUEUED
    )
    percent = models.PositiveSmallIntegerField(_("percent"), default=0)
    step = models.CharField(_("current step"), max_length=200, blank=True)
    step_kind = models.CharField(max_length=80, blank=True, editable=False)
    step_params = models.JSONField(default=dict, blank=True, editable=False)
    log = models.TextField(_("log"), blank=True)
    # Log lines as data: [{"at": "HH:MM:SS", "kind": ..., "params": {...}, "text": ...}], shown
    # in the reader's language; ``log`` keeps older jobs' lines and tracebacks as text.
    log_entries = models.JSONField(default=list, blank=True, editable=False)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    error_kind = models.CharField(max_length=80, blank=True, editable=False)
    error_params = models.JSONField(default=dict, blank=True, editable=False)
    worker_name = models.CharField(_("worker"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    # Set only when the queue refused the job: what the outbox sweeper needs to enqueue it again.
    pending_dispatch = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "heartbeat_at"])]
        permissions = [("view_all_jobs", _("Can see jobs started by anyone"))]

    def __str__(self) -> str:
        return f"{self.display_title} ({self.get_state_display()})"

    @property
    def display_title(self) -> str:
        return render_event(self.title_kind, self.title_params, fallback=self.title)

    @property
    def display_step(self) -> str:
        return render_event(self.step_kind, self.step_params, fallback=self.step)

    @property
    def display_error(self) -> str:
        return render_event(self.error_kind, self.error_params, fallback=self.error)

    @property
    def is_finished(self) -> bool:
        return self.state in JobState.finished()

    @property
    def log_lines(self) -> list[str]:
        """The log in the reader's language: message lines, then any text (old jobs, tracebacks)."""
        lines = [
            f"{entry.get('at', '')} "
            + render_event(
                entry.get("kind", ""), entry.get("params"), fallback=entry.get("text", "")
            )
            for entry in self.log_entries or []
        ]
        return lines + [line for line in self.log.splitlines() if line]


class Notification(models.Model):
    """Every message sent to a person, with its outcome: the record of who was told what."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=254)
    language = models.CharField(_("language"), max_length=10)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    state = models.CharField(
        _("state"),
        max_length=8,
        choices=NotificationState.choices,
        default=NotificationState.QUEUED,
    )
    error = models.TextField(_("error"), blank=True)
    provider_reference = models.CharField(_("provider reference"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # A failed (or unknown) message sent again is a new row; this one points to it, once.
    resent_as = models.OneToOneField(
        "self",
        verbose_name=_("sent again as"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resent_from",
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        permissions = [("resend_notification", _("Can send a failed notification again"))]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.address}: {self.subject or self.body[:40]}"


class ScheduleState(models.Model):
    """One row per registered schedule: when it is next due, and the claim that runs it once.

    Schedulers claim a due schedule with one conditional ``UPDATE`` that moves ``next_run_at``
    forward, so two scheduler processes never run one schedule twice in an interval.
    """

    name = models.CharField(_("schedule"), max_length=80, unique=True)
    next_run_at = models.DateTimeField(_("next run"))
    last_run = models.ForeignKey(
        "ScheduleRun",
        verbose_name=_("last run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScheduleRun(models.Model):
    """One run of a schedule by the scheduler: when, where, and how it ended."""

    name = models.CharField(_("schedule"), max_length=80)
    scheduler = models.CharField(_("scheduler"), max_length=200)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"),
        max_length=10,
        choices=ScheduleOutcome.choices,
        default=ScheduleOutcome.RUNNING,
    )
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    error = models.TextField(_("error"), blank=True)
    # The error as data (kind + params), shown in the reader's language; ``error`` is the text
    # rendered when it happened (and what runs recorded before these columns show).
    error_kind = models.CharField(max_length=80, blank=True, editable=False)
    error_params = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["name", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.name} {self.started_at:%Y-%m-%d %H:%M:%S} ({self.get_outcome_display()})"

    @property
    def display_error(self) -> str:
        return render_event(self.error_kind, self.error_params, fallback=self.error)

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
