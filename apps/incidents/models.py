from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.core.events import event_label, render_event

from .choices import (
    STATE_TIMESTAMP_FIELD,
    CauseCategory,
    CauseDetail,
    ImpactLevel,
    IncidentState,
    Phase,
    ReadinessItemKind,
    ReadinessItemState,
    ReadinessResult,
    ResourceKind,
    ResourceState,
    Severity,
    TaskState,
    TeamRole,
)

USER = settings.AUTH_USER_MODEL


def _user_fk(verbose_name, **kwargs):
    return models.ForeignKey(
        USER,
        verbose_name=verbose_name,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        **kwargs,
    )


# What "assessing" an incident may set (declaration and later refinements alike).
ASSESSMENT_FIELDS = (
    "cause_category",
    "cause_detail",
    "cause_notes",
    "impact_order_backlog",
    "impact_slower_service",
    "impact_data_loss",
    "impact_business",
    "impact_stability",
    "impact_reputation",
    "impact_notes",
)


class Incident(models.Model):
    """A failed upgrade, from the first alarm to the review."""

    # Set before save(); django-simple-history writes them on the history row (reason, author).
    _change_reason: str
    _history_user: "AbstractBaseUser | None"

    title = models.CharField(_("what failed"), max_length=200)
    description = models.TextField(_("what we know"), blank=True)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    state = models.CharField(
        _("state"), max_length=20, choices=IncidentState.choices, default=IncidentState.DECLARED
    )
    detected_at = models.DateTimeField(_("detected at"))
    declared_by = _user_fk(_("declared by"))

    cause_category = models.CharField(
        _("cause"), max_length=30, choices=CauseCategory.choices, blank=True
    )
    cause_detail = models.CharField(
        _("sub-cause"), max_length=30, choices=CauseDetail.choices, blank=True
    )
    cause_notes = models.TextField(_("cause notes"), blank=True)
    impact_order_backlog = models.BooleanField(_("order backlog"), default=False)
    impact_slower_service = models.BooleanField(_("slower service"), default=False)
    impact_data_loss = models.BooleanField(_("data lost or damaged"), default=False)
    impact_business = models.CharField(
        _("impact on business operations"),
        max_length=10,
        choices=ImpactLevel.choices,
        default=ImpactLevel.HIGH,
    )
    impact_stability = models.CharField(
        _("impact on system stability"),
        max_length=10,
        choices=ImpactLevel.choices,
        default=ImpactLevel.HIGH,
    )
    impact_reputation = models.CharField(
        _("impact on reputation"),
        max_length=10,
        choices=ImpactLevel.choices,
        default=ImpactLevel.MEDIUM,
    )
    impact_notes = models.TextField(_("impact notes"), blank=True)

    # The first time the incident entered each state (set once; see services.transition).
    declared_at = models.DateTimeField(_("declared at"), default=timezone.now)
    team_assembled_at = models.DateTimeField(_("team assembled at"), null=True, blank=True)
    investigating_at = models.DateTimeField(_("investigation started at"), null=True, blank=True)
    fixing_at = models.DateTimeField(_("fixing started at"), null=True, blank=True)
    manual_process_at = models.DateTimeField(_("manual process started at"), null=True, blank=True)
    recovered_at = models.DateTimeField(_("recovered at"), null=True, blank=True)
    monitoring_at = models.DateTimeField(_("monitoring started at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    # A rehearsal run on the real tools (apps.drills): shown as a drill, left out of real figures.
    is_drill = models.BooleanField(_("drill"), default=False, db_index=True)

    version = models.PositiveIntegerField(_("version"), default=1)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-declared_at"]
        permissions = [
            ("assign_team", _("Can staff the emergency team")),
            ("manage_templates", _("Can edit the recovery plan's checklist templates")),
            ("check_readiness", _("Can run upgrade readiness checks")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in IncidentState.open_states()

    def entered_at(self, state: str):
        return getattr(self, STATE_TIMESTAMP_FIELD[state])

    @property
    def response_time(self):
        """From detection to the team being assembled (for the evaluation reports)."""
        return self.team_assembled_at - self.detected_at if self.team_assembled_at else None

    @property
    def recovery_time(self):
        return self.recovered_at - self.detected_at if self.recovered_at else None


class IncidentTransition(models.Model):
    """One state change: who moved the incident, from where to where, and when it happened."""

    incident = models.ForeignKey(
        Incident, verbose_name=_("incident"), on_delete=models.CASCADE, related_name="transitions"
    )
    from_state = models.CharField(
        _("from"), max_length=20, choices=IncidentState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=20, choices=IncidentState.choices)
    at = models.DateTimeField(_("happened at"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    by = _user_fk(_("by"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("state change")
        verbose_name_plural = _("state changes")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.from_state or '∅'} → {self.to_state}"


class TeamMember(models.Model):
    incident = models.ForeignKey(
        Incident, verbose_name=_("incident"), on_delete=models.CASCADE, related_name="team"
    )
    user = models.ForeignKey(
        USER, verbose_name=_("member"), on_delete=models.PROTECT, related_name="incident_roles"
    )
    team_role = models.CharField(_("team role"), max_length=20, choices=TeamRole.choices)
    assigned_by = _user_fk(_("assigned by"))
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        ordering = ["team_role", "assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "user", "team_role"], name="one_team_role_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_team_role_display()}"


class TaskTemplate(models.Model):
    """One checklist item of the recovery plan; copied onto every new incident."""

    # Set before save(); django-simple-history writes them on the history row (reason, author).
    _change_reason: str
    _history_user: "AbstractBaseUser | None"

    phase = models.CharField(_("phase"), max_length=30, choices=Phase.choices)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    team_role = models.CharField(_("owned by"), max_length=20, choices=TeamRole.choices, blank=True)
    due_after_minutes = models.PositiveIntegerField(
        _("due (minutes after declaration)"), default=60
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        ordering = ["phase", "position", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return self.title_zh if (get_language() or "").startswith("zh") else self.title_en


class Task(models.Model):
    # Set before save(); django-simple-history writes them on the history row (reason, author).
    _change_reason: str
    _history_user: "AbstractBaseUser | None"
    incident = models.ForeignKey(
        Incident, verbose_name=_("incident"), on_delete=models.CASCADE, related_name="tasks"
    )
    phase = models.CharField(_("phase"), max_length=30, choices=Phase.choices)
    title_zh = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    template = models.ForeignKey(
        TaskTemplate,
        verbose_name=_("from template"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    team_role = models.CharField(
        _("team role"), max_length=20, choices=TeamRole.choices, blank=True
    )
    owner = _user_fk(_("owner"))
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=TaskState.choices, default=TaskState.TODO
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = _user_fk(_("completed by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["phase", "due_at", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        if (get_language() or "").startswith("zh") or not self.title_en:
            return self.title_zh
        return self.title_en

    @property
    def is_overdue(self) -> bool:
        return (
            self.state in TaskState.open_states()
            and self.due_at is not None
            and self.due_at < timezone.now()
        )


class TimelineEntry(models.Model):
    """One line of the incident's story: state changes, notes, decisions, other apps' events."""

    incident = models.ForeignKey(
        Incident, verbose_name=_("incident"), on_delete=models.CASCADE, related_name="timeline"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=60)
    # Entries written before kinds were data (and free-text notes) keep their text; others store
    # only the kind's parameters and are rendered in the reader's language (apps.core.events).
    text = models.TextField(_("text"), blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    by = _user_fk(_("by"))
    data = models.JSONField(_("data"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["incident", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}: {self.message[:60]}"

    @property
    def kind_label(self) -> str:
        return event_label(self.kind)

    @property
    def message(self) -> str:
        """The entry in the reader's language (its stored text for old rows and unknown kinds)."""
        return render_event(self.kind, self.params, fallback=self.text)


class ResourceAllocation(models.Model):
    """A standby resource asked for, handed over and given back: its times measure utilisation."""

    incident = models.ForeignKey(
        Incident, verbose_name=_("incident"), on_delete=models.CASCADE, related_name="resources"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ResourceKind.choices)
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=ResourceState.choices, default=ResourceState.REQUESTED
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    requested_by = _user_fk(_("requested by"))
    allocated_at = models.DateTimeField(_("allocated at"), null=True, blank=True)
    allocated_by = _user_fk(_("allocated by"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = _user_fk(_("released by"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["requested_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description} × {self.quantity}"

    @property
    def hours_in_use(self) -> float | None:
        if not self.allocated_at:
            return None
        end = self.released_at or timezone.now()
        return round((end - self.allocated_at).total_seconds() / 3600, 2)


class Meeting(models.Model):
    incident = models.ForeignKey(
        Incident, verbose_name=_("incident"), on_delete=models.CASCADE, related_name="meetings"
    )
    held_at = models.DateTimeField(_("held at"))
    title = models.CharField(_("subject"), max_length=200)
    attendees: "models.ManyToManyField[AbstractBaseUser, models.Model]" = models.ManyToManyField(
        USER, verbose_name=_("attendees"), related_name="+"
    )
    minutes = models.TextField(_("minutes"), blank=True)
    recorded_by = _user_fk(_("recorded by"))
    history = HistoricalRecords(m2m_fields=[attendees])

    class Meta:
        verbose_name = _("coordination meeting")
        verbose_name_plural = _("coordination meetings")
        ordering = ["held_at", "pk"]

    def __str__(self) -> str:
        return f"{self.title} ({self.held_at:%Y-%m-%d %H:%M})"


class MeetingDecision(models.Model):
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="decisions"
    )
    text = models.TextField(_("decision"))
    task = models.OneToOneField(
        Task,
        verbose_name=_("task"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decision",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text[:80]


class ReadinessCheck(models.Model):
    """Before an upgrade: the plan's checklist, signed off as go or no-go."""

    title = models.CharField(_("upgrade"), max_length=200)
    planned_for = models.DateTimeField(_("planned for"), null=True, blank=True)
    created_by = _user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    result = models.CharField(
        _("result"), max_length=10, choices=ReadinessResult.choices, default=ReadinessResult.PENDING
    )
    signed_off_by = _user_fk(_("signed off by"))
    signed_off_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    sign_off_note = models.TextField(_("sign-off note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("readiness check")
        verbose_name_plural = _("readiness checks")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class ReadinessItem(models.Model):
    readiness = models.ForeignKey(
        ReadinessCheck, verbose_name=_("check"), on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField(_("item"), max_length=30, choices=ReadinessItemKind.choices)
    automatic = models.BooleanField(_("checked automatically"), default=False)
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=ReadinessItemState.choices,
        default=ReadinessItemState.PENDING,
    )
    detail = models.TextField(_("detail"), blank=True)
    checked_by = _user_fk(_("checked by"))
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("readiness item")
        verbose_name_plural = _("readiness items")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["readiness", "kind"], name="one_readiness_item_per_kind"
            )
        ]

    def __str__(self) -> str:
        return str(self.get_kind_display())
