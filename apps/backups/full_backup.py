"""Back up everything before the upgrade (plan 2.3.2): one button, ``backup_now --all``.

One tracked job backs up every scope in turn (the scope's default kind, the same engine as any
backup: encrypted, written locally, copied to the remote store and read back), then verifies each
file end to end (decrypting every frame against its manifest). A scope that fails does not stop
the others; the run is complete only when every scope's backup is verified. The readiness
check's backup item links to the newest run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from apps.core.choices import JobState
from apps.core.errors import DomainError, JobFailure
from apps.core.events import as_stored, register_event_kind
from apps.core.events import message as event_message
from apps.core.jobs import UNEXPECTED_ERROR, Progress, refresh_job_state, start_job
from apps.core.timeline import post_to_timeline

from . import engine, services
from .choices import RunState
from .errors import BackupsError
from .models import BackupRun, BackupScope, FullBackup

if TYPE_CHECKING:
    from apps.accounts.models import User

FULL_BACKUP_TITLE = "backups.job.full_backup"
FULL_BACKUP_VERIFIED = "backups.full_backup.verified"
FULL_BACKUP_FAILED = "backups.full_backup.failed"
FULL_BACKUP_SCOPE = "backups.full_backup.scope"


def register_events() -> None:
    register_event_kind(
        FULL_BACKUP_TITLE, gettext_lazy("Backup"), gettext_lazy("Back up everything")
    )
    register_event_kind(
        FULL_BACKUP_VERIFIED,
        gettext_lazy("Backup"),
        gettext_lazy("Full backup #%(id)s: all %(n)s scopes backed up and verified."),
        icon="💾",
    )
    register_event_kind(
        FULL_BACKUP_FAILED,
        gettext_lazy("Backup"),
        gettext_lazy("Full backup #%(id)s failed for: %(scopes)s."),
        icon="⚠",
    )
    register_event_kind(
        FULL_BACKUP_SCOPE, gettext_lazy("Backup"), gettext_lazy("%(scope)s: %(outcome)s")
    )


def refresh_full_backup(full: FullBackup) -> FullBackup:
    """A full backup whose job died is failed (and no longer blocks a new one)."""
    if full.is_active and full.job_id:
        job = refresh_job_state(full.job)  # type: ignore[arg-type]
        if job.state == JobState.FAILED:
            with transaction.atomic():
                locked = FullBackup.objects.select_for_update().get(pk=full.pk)
                if locked.is_active:
                    locked.state = RunState.FAILED
                    locked.is_active = False
                    locked.error = job.display_error
                    locked.finished_at = job.finished_at or timezone.now()
                    locked._change_reason = "job failed"  # type: ignore[attr-defined]
                    locked.save()
                    return locked
    return full


def start_full_backup(*, by: User | None = None) -> tuple[FullBackup, bool]:
    """Queue a backup of every scope; ``(run, created)``: the run already under way, if any."""
    for active in FullBackup.objects.filter(is_active=True).select_related("job"):
        refresh_full_backup(active)
    if not BackupScope.objects.exists():
        raise DomainError(BackupsError.NO_SCOPES)
    with transaction.atomic():
        try:
            with transaction.atomic():
                full = FullBackup.objects.create(started_by=by)
        except IntegrityError:
            return FullBackup.objects.get(is_active=True), False
        full.job = start_job(
            kind="backup.full",
            title=event_message(FULL_BACKUP_TITLE),
            func="apps.backups.jobs.full_backup_job",
            kwargs={"full_backup_id": full.pk},
            queue="backups",
            by=by,
        )
        full._change_reason = "full backup queued"  # type: ignore[attr-defined]
        full.save(update_fields=["job"])
    full.refresh_from_db()
    return full, True


def perform_full_backup(*, full_backup_id: int, progress: Progress) -> dict[str, Any]:
    """Worker side: each scope backed up and verified in turn; a failure does not stop the rest.

    On PostgreSQL every scope reads ONE moment of the order system (a snapshot held open for
    the whole run): backed up one after the other under load, the transactions backup would
    hold payments of orders the orders backup lacks, and restoring the two together would fail
    its foreign key check."""
    full = FullBackup.objects.select_related("started_by").get(pk=full_backup_id)
    FullBackup.objects.filter(pk=full.pk).update(state=RunState.RUNNING)
    with services.order_system_moment() as snapshot:
        report = _back_up_scopes(full, progress, snapshot)
    return _finish(full, report)


def _back_up_scopes(
    full: FullBackup, progress: Progress, snapshot: engine.SharedSnapshot | None
) -> list[dict[str, Any]]:
    scopes = list(BackupScope.objects.all())
    report: list[dict[str, Any]] = []
    for index, scope in enumerate(scopes):
        run = BackupRun.objects.create(
            scope=scope,
            kind=services.default_kind(scope),
            started_by=full.started_by,
            job_id=full.job_id,
        )
        full.backups.add(run)
        item: dict[str, Any] = {"scope": scope.slug, "backup_id": run.pk, "ok": False}
        try:
            services.perform_backup(
                run_id=run.pk,
                progress=services.ShareOfProgress(progress, index, len(scopes)),  # type: ignore[arg-type]
                snapshot=snapshot,
            )
        except (JobFailure, DomainError) as exc:
            item["message"] = as_stored(exc.message)
        except Exception as exc:  # noqa: BLE001 - the run is failed; the other scopes go on
            item["message"] = as_stored(
                event_message(UNEXPECTED_ERROR, error=f"{type(exc).__name__}: {exc}")
            )
        else:
            run.refresh_from_db()
            outcome = services.verify_backup(name=run.file_name, by=full.started_by)
            item.update(
                ok=outcome.ok, message=as_stored(outcome.as_message()), file_name=run.file_name
            )
        # Stored as data: each reader sees the line (and the outcome) in their language.
        progress.log(event_message(FULL_BACKUP_SCOPE, scope=scope.slug, outcome=item["message"]))
        report.append(item)
        FullBackup.objects.filter(pk=full.pk).update(report=report)
    return report


def _finish(full: FullBackup, report: list[dict[str, Any]]) -> dict[str, Any]:
    failed = [item["scope"] for item in report if not item["ok"]]
    with transaction.atomic():
        full = FullBackup.objects.select_for_update().get(pk=full.pk)
        if full.is_active:
            full.state = RunState.FAILED if failed else RunState.COMPLETE
            full.is_active = False
        full.report = report
        full.finished_at = timezone.now()
        full._change_reason = "full backup finished"  # type: ignore[attr-defined]
        full.save()
    if failed:
        post_to_timeline(
            kind=FULL_BACKUP_FAILED, id=full.pk, scopes=", ".join(failed), by=full.started_by
        )
        raise JobFailure(
            event_message(FULL_BACKUP_FAILED, id=full.pk, scopes=", ".join(failed)),
            result={"full_backup_id": full.pk},
        )
    post_to_timeline(kind=FULL_BACKUP_VERIFIED, id=full.pk, n=len(report), by=full.started_by)
    return {"full_backup_id": full.pk, "scopes": len(report)}


def latest_full_backup() -> FullBackup | None:
    return FullBackup.objects.select_related("job").first()
