from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apps.core.events import as_event, render_event
from apps.core.models import JobRecord

from .choices import BackupKind, CopyState, RunState, SystemStatus
from .engine import CheckError
from .engine.gateway import check_shape
from .errors import error_text, explain


class BackupScope(models.Model):
    """A part of the order system backed up as one file: some tables, or the log files."""

    # Set before save(); django-simple-history writes it on the history row.
    _change_reason: str

    slug = models.SlugField(_("slug"), unique=True, help_text=_("Used on the command line."))
    name_zh = models.CharField(
        _("name (Chinese)"), max_length=60, help_text=_("Also used in file names, e.g. 订单数据.")
    )
    name_en = models.CharField(_("name (English)"), max_length=60)
    tables = models.JSONField(_("tables"), default=list, blank=True)
    log_dir = models.CharField(
        _("log directory"), max_length=500, blank=True, help_text=_("Empty: ORDER_SYSTEM_LOG_DIR.")
    )
    log_pattern = models.CharField(_("log file pattern"), max_length=100, blank=True)
    checks = models.JSONField(
        _("verification checks"),
        default=list,
        blank=True,
        help_text=_(
            'After a restore: [{"name": "...", "sql": "SELECT count(*) ... (rows that break the rule)"}]'
        ),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    system_status = models.CharField(
        _("system status"),
        max_length=16,
        choices=SystemStatus.choices,
        default=SystemStatus.UNKNOWN,
    )
    status_note = models.CharField(_("status note"), max_length=300, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("backup scope")
        verbose_name_plural = _("backup scopes")
        ordering = ["position", "slug"]
        permissions = [("change_scope_checks", _("Can edit the scopes' verification checks"))]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en

    @property
    def is_logs(self) -> bool:
        return bool(self.log_pattern)

    def clean(self):
        if bool(self.tables) == bool(self.log_pattern):
            raise ValidationError(_("A scope names either tables or a log file pattern, not both."))
        bad = [
            t
            for t in self.tables
            if not isinstance(t, str) or not t.replace("_", "").replace(".", "").isalnum()
        ]
        if bad:
            raise ValidationError(
                {"tables": _("Not a table name: %(names)s") % {"names": ", ".join(map(str, bad))}}
            )
        if not isinstance(self.checks, list):
            raise ValidationError({"checks": _("The checks are a list.")})
        for check in self.checks:
            if not isinstance(check, dict) or not {"name", "sql"} <= set(check):
                raise ValidationError({"checks": _("Each check needs a name and an sql.")})
            try:
                check_shape(str(check["sql"]))
            except CheckError as exc:
                raise ValidationError({"checks": f"{check['name']}: {explain(exc)}"}) from exc


class BackupPolicy(models.Model):
    scope = models.ForeignKey(
        BackupScope, verbose_name=_("scope"), on_delete=models.CASCADE, related_name="policies"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=BackupKind.choices)
    interval_minutes = models.PositiveIntegerField(_("interval (minutes)"), default=15)
    keep_local = models.BooleanField(_("keep a local copy"), default=True)
    keep_remote = models.BooleanField(_("keep a remote copy"), default=True)
    retention = models.PositiveIntegerField(_("copies kept"), default=48)
    is_default = models.BooleanField(_("default for this scope"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("backup policy")
        verbose_name_plural = _("backup policies")
        constraints = [
            models.UniqueConstraint(fields=["scope", "kind"], name="one_policy_per_scope_kind")
        ]

    def __str__(self) -> str:
        return f"{self.scope} · {self.get_kind_display()}"


class BackupRun(models.Model):
    """One backup: the job that made it and the artifact it left (local and remote)."""

    # Set before save(); django-simple-history writes it on the history row.
    _change_reason: str

    scope = models.ForeignKey(
        BackupScope, verbose_name=_("scope"), on_delete=models.PROTECT, related_name="backups"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=BackupKind.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=RunState.choices, default=RunState.QUEUED
    )
    job = models.ForeignKey(
        JobRecord,
        verbose_name=_("job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    local_path = models.CharField(_("local path"), max_length=500, blank=True)
    remote_name = models.CharField(_("remote name"), max_length=500, blank=True)
    remote_state = models.CharField(
        _("remote copy"), max_length=10, choices=CopyState.choices, default=CopyState.NONE
    )
    size = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    key_id = models.CharField(_("key id"), max_length=64, blank=True)
    manifest = models.JSONField(_("manifest"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # A ``BackupsError`` value (no ``choices``: a new code needs no migration).
    error_code = models.CharField(_("error code"), max_length=24, blank=True)
    error_params = models.JSONField(_("error parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    last_verified_at = models.DateTimeField(_("last verified at"), null=True, blank=True)
    last_verify_ok = models.BooleanField(_("last verification passed"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("backup")
        verbose_name_plural = _("backups")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["scope", "kind", "state", "-finished_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["file_name"],
                condition=~models.Q(file_name=""),
                name="backup_file_name_unique",
            )
        ]
        permissions = [("download_backup", _("Can download backup files"))]

    def __str__(self) -> str:
        return self.file_name or f"{self.scope} ({self.get_state_display()})"

    @property
    def error_message(self) -> str:
        """The error in the reader's language (runs before error codes keep their text)."""
        if self.error_code:
            return error_text(self.error_code, self.error_params)
        return self.error

    @property
    def is_intact(self) -> bool:
        return self.state == RunState.COMPLETE and self.last_verify_ok is not False


class RestoreRun(models.Model):
    """One restore of one or more scopes into the order system or a scratch database."""

    # Set before save(); django-simple-history writes it on the history row.
    _change_reason: str

    backups = models.ManyToManyField(BackupRun, verbose_name=_("backups"), related_name="restores")
    target_label = models.CharField(
        _("target"), max_length=300, help_text=_("Shown without passwords.")
    )
    into_order_system = models.BooleanField(_("into the order system itself"), default=True)
    state = models.CharField(
        _("state"), max_length=10, choices=RunState.choices, default=RunState.QUEUED
    )
    job = models.ForeignKey(
        JobRecord,
        verbose_name=_("job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(_("why these backups"), blank=True)
    # The same as data ([{"kind", "params"}], one per scope), shown in the reader's language;
    # ``reason`` keeps the text as written (and is what restores made before show).
    reasons = models.JSONField(default=list, blank=True, editable=False)
    report = models.JSONField(_("verification report"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # A ``BackupsError`` value (no ``choices``: a new code needs no migration).
    error_code = models.CharField(_("error code"), max_length=24, blank=True)
    error_params = models.JSONField(_("error parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("restore")
        verbose_name_plural = _("restores")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{_('Restore')} #{self.pk} → {self.target_label}"

    @property
    def error_message(self) -> str:
        """The error in the reader's language (runs before error codes keep their text)."""
        if self.error_code:
            return error_text(self.error_code, self.error_params)
        return self.error

    @property
    def reason_text(self) -> str:
        """Why these backups, in the reader's language (older restores: the text as written)."""
        if not self.reasons:
            return self.reason
        return "\n".join(
            render_event(item.get("kind", ""), item.get("params")) for item in self.reasons
        )

    @property
    def checks_passed(self) -> bool | None:
        """True only for a complete restore whose checks ran and all passed.

        A failed (or unfinished) restore has no passing checks, whatever its report holds;
        no checks at all is "nothing to say" (None), not a pass.
        """
        if self.state == RunState.FAILED:
            return False
        if self.state != RunState.COMPLETE or not self.report:
            return None
        checks = self.report.get("checks") or []
        if not checks:
            return None
        return all(item.get("ok") for item in checks)

    @property
    def check_rows(self) -> list[dict]:
        """The report's checks for display: name and any error in the reader's language."""
        english = not (get_language() or "").startswith("zh")
        rows = []
        for item in (self.report or {}).get("checks") or []:
            error = item.get("error")
            if item.get("error_code"):
                error = error_text(item["error_code"], item.get("error_params"))
            label = (item.get("name_en") if english else None) or item.get("name")
            rows.append({**item, "label": label, "error": error})
        return rows


class BackupAudit(models.Model):
    """Reads leave no history row of their own: downloads and verifications are logged here."""

    class Action(models.TextChoices):
        DOWNLOAD = "download", _("Downloaded")
        VERIFY = "verify", _("Verified")
        PRUNE = "prune", _("Deleted by retention")

    backup = models.ForeignKey(
        BackupRun, verbose_name=_("backup"), on_delete=models.CASCADE, related_name="audit"
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    # The detail as data (kind + params), shown in the reader's language; ``detail`` is the
    # text rendered when it was written (and what older rows show).
    detail_kind = models.CharField(max_length=80, blank=True, editable=False)
    detail_params = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("backup access")
        verbose_name_plural = _("backup accesses")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.backup} ({self.by})"

    @classmethod
    def record(cls, backup: "BackupRun", action: str, *, by=None, detail=None) -> "BackupAudit":
        """One audit row; ``detail`` is a ``message(...)``, a domain error's message or text."""
        kind, params, text = as_event(detail)
        return cls.objects.create(
            backup=backup,
            action=action,
            by=by,
            detail=text[:500],
            detail_kind=kind,
            detail_params=params,
        )

    @property
    def display_detail(self) -> str:
        return render_event(self.detail_kind, self.detail_params, fallback=self.detail)


class FullBackup(models.Model):
    """ "Back up everything before the upgrade" (plan 2.3.2): every scope, each one verified.

    One at a time: ``is_active`` is unique while true, so a double click or a second operator
    gets the run already under way.
    """

    state = models.CharField(
        _("state"), max_length=10, choices=RunState.choices, default=RunState.QUEUED
    )
    is_active = models.BooleanField(default=True, editable=False)
    job = models.ForeignKey(
        JobRecord,
        verbose_name=_("job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    backups = models.ManyToManyField(
        BackupRun, verbose_name=_("backups"), related_name="full_backups", blank=True
    )
    report = models.JSONField(_("report"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("full backup")
        verbose_name_plural = _("full backups")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="one_active_full_backup",
            )
        ]

    def __str__(self) -> str:
        return f"{_('Full backup')} #{self.pk} ({self.get_state_display()})"

    @property
    def all_verified(self) -> bool:
        return (
            self.state == RunState.COMPLETE
            and bool(self.report)
            and all(item.get("ok") for item in self.report)
        )


class JournalSegment(models.Model):
    """One durable piece of the change journal: committed transactions between two positions.

    Recorded only after its file is fsynced; the slot is confirmed only after this row commits.
    Segments chain: each starts where the previous one ended (``start_lsn`` = previous
    ``end_lsn``), so a missing one shows as a gap.
    """

    slot = models.CharField(_("slot"), max_length=63)
    file_name = models.CharField(_("file name"), max_length=200, unique=True)
    start_lsn = models.BigIntegerField(_("from position"))
    end_lsn = models.BigIntegerField(_("to position"))
    first_commit_at = models.DateTimeField(_("first commit"), null=True)
    last_commit_at = models.DateTimeField(_("last commit"), null=True)
    transactions = models.PositiveIntegerField(_("transactions"), default=0)
    changes = models.PositiveIntegerField(_("changes"), default=0)
    tables = models.JSONField(_("tables"), default=dict, blank=True)
    local_path = models.CharField(_("local path"), max_length=500, blank=True)
    remote_name = models.CharField(_("remote name"), max_length=500, blank=True)
    remote_state = models.CharField(
        _("remote copy"), max_length=10, choices=CopyState.choices, default=CopyState.NONE
    )
    size = models.BigIntegerField(_("size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    key_id = models.CharField(_("key id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Set when retention deleted its files (no retained backup needs it): the row stays as the
    # record of what was journaled and when it went.
    pruned_at = models.DateTimeField(_("deleted by retention at"), null=True, blank=True)

    class Meta:
        verbose_name = _("journal segment")
        verbose_name_plural = _("journal segments")
        ordering = ["slot", "end_lsn"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "end_lsn"], name="one_segment_per_position")
        ]

    def __str__(self) -> str:
        return self.file_name


class JournalState(models.Model):
    """The journal process's position and health, per replication slot."""

    slot = models.CharField(_("slot"), max_length=63, unique=True)
    start_lsn = models.BigIntegerField(_("journal start"), default=0)
    started_at = models.DateTimeField(_("journal started at"), null=True, blank=True)
    written_lsn = models.BigIntegerField(_("durable up to"), default=0)
    last_commit_at = models.DateTimeField(_("last change journaled"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    lag_bytes = models.BigIntegerField(_("slot lag (bytes)"), null=True, blank=True)
    retained_bytes = models.BigIntegerField(_("WAL retained (bytes)"), null=True, blank=True)
    lag_checked_at = models.DateTimeField(_("lag checked at"), null=True, blank=True)
    alarm = models.BooleanField(_("alarm raised"), default=False)
    last_error = models.TextField(_("last error"), blank=True)
    # The same as data ({"kind", "params"}), shown in the reader's language; ``last_error``
    # keeps the text as written (and is what states recorded before show).
    last_error_event = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("journal state")
        verbose_name_plural = _("journal states")

    def __str__(self) -> str:
        return self.slot

    @property
    def last_error_text(self) -> str:
        """The last error in the reader's language (older states: the text as written)."""
        item = self.last_error_event or {}
        if not item.get("kind"):
            return self.last_error
        return render_event(item["kind"], item.get("params"), fallback=self.last_error)
