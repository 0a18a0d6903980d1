"""Restoring: queueing a restore, the worker's all-or-nothing load, and throw-away copies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.models import User
from apps.core.errors import DomainError, JobFailure
from apps.core.events import Message, json_safe, message
from apps.core.events import message as event_message
from apps.core.jobs import Progress, start_job
from apps.core.timeline import post_to_timeline

from .. import engine, errors, events
from ..choices import RunState, SystemStatus
from ..engine import gateway
from ..errors import BackupsError
from ..models import BackupRun, BackupScope, RestoreRun
from .checks import run_checks
from .common import (
    CHECK_FAILURES,
    ORDER_SYSTEM,
    RUN_FAILURES,
    explain,
    resolve_target,
    scratch_targets,
    step_text,
    target_label,
)
from .keys import get_keyring
from .proposal import Proposal, propose_restore
from .status import refresh_run_state, set_status
from .verify import verified_file_for


@transaction.atomic
def start_restore(
    *,
    scopes: list[BackupScope],
    target: str = ORDER_SYSTEM,
    target_url: str | None = None,
    backups: dict[str, BackupRun] | None = None,
    by: User | None = None,
) -> RestoreRun:
    """Queue a restore of ``scopes``; ``backups`` overrides the proposal per scope slug."""
    if not scopes:
        raise DomainError(BackupsError.NO_SCOPE_CHOSEN, field="scopes")
    # One restore of a scope at a time: lock the scopes, then look for one under way.
    list(BackupScope.objects.select_for_update().filter(pk__in=[s.pk for s in scopes]))
    for other in RestoreRun.objects.filter(
        state__in=[RunState.QUEUED, RunState.RUNNING], backups__scope__in=scopes
    ).distinct():
        if refresh_run_state(other).state in (RunState.QUEUED, RunState.RUNNING):
            raise DomainError(BackupsError.RESTORE_UNDER_WAY, params={"id": other.pk})
    chosen: list[BackupRun] = []
    reasons: list[Message] = []
    for scope in scopes:
        picked = (backups or {}).get(scope.slug)
        if picked is not None:
            if picked.scope_id != scope.pk or picked.state != RunState.COMPLETE:
                raise DomainError(
                    BackupsError.NOT_COMPLETE_BACKUP,
                    params={"name": str(picked), "scope": scope.name},
                )
            chosen.append(picked)
            why = message(events.REASON_CHOSEN)
            reasons.append(
                message(events.REASON_LINE, scope=scope.name, name=picked.file_name, why=why)
            )
            continue
        proposal = propose_restore(scope=scope)
        if proposal.backup is None:
            raise _no_intact_backup(proposal)
        chosen.append(proposal.backup)
        reasons.append(
            message(
                events.REASON_LINE,
                scope=scope.name,
                name=proposal.backup.file_name,
                why=proposal.why,
            )
        )
    if target_url:
        url, into_order_system = target_url, target_url == settings.ORDER_SYSTEM_DATABASE_URL
    elif target == ORDER_SYSTEM:
        url, into_order_system = settings.ORDER_SYSTEM_DATABASE_URL, True
    else:
        if target not in scratch_targets():
            raise DomainError(
                BackupsError.UNKNOWN_TARGET, params={"target": target}, field="target"
            )
        url, into_order_system = scratch_targets()[target], False
    restore = RestoreRun.objects.create(
        target_label=target_label(url),
        into_order_system=into_order_system,
        started_by=by,
        reason="\n".join(str(r) for r in reasons),
        reasons=[{"kind": r.kind, "params": json_safe(r.params)} for r in reasons],
    )
    restore.backups.set(chosen)
    kwargs: dict[str, Any] = {"restore_id": restore.pk}
    kwargs["target_url" if target_url else "target"] = target_url or target
    restore.job = start_job(
        in_caller=bool(target_url),  # a URL may carry a password: it never goes to Redis
        kind="restore",
        title=event_message(events.RESTORE_TITLE, id=restore.pk, target=restore.target_label),
        func="apps.backups.jobs.restore_job",
        kwargs=kwargs,
        queue="backups",
        by=by,
    )
    restore._change_reason = "restore queued"
    restore.save(update_fields=["job"])
    return restore


def ensure_scratch_database(url: str) -> None:
    """A rehearsal target may not exist yet: create an empty PostgreSQL database for it.

    Only configured scratch names are created (the gateway refuses any other); a target given
    as a URL that is not one must already exist.
    """
    if gateway.is_scratch_url(url):
        gateway.create_scratch_database(url)


def _no_intact_backup(proposal: Proposal) -> DomainError:
    return DomainError(
        BackupsError.NO_INTACT_BACKUP,
        params={"scope": proposal.scope.name, "reason": proposal.why},
    )


@contextmanager
def latest_backups_opened(*, slugs: list[str], progress: Progress | None = None) -> Iterator[str]:
    """Restore the proposed backups of ``slugs`` into a throw-away database; yield its URL.

    How other apps read data "from the latest backup" (e.g. manual orders' reference data)
    without touching the order system: the database is dropped afterwards.
    """
    runs = []
    for slug in slugs:
        proposal = propose_restore(scope=BackupScope.objects.get(slug=slug))
        if proposal.backup is None:
            raise _no_intact_backup(proposal)
        runs.append(proposal.backup)
    with gateway.scratch_database() as url:
        try:
            engine.restore_files(
                [verified_file_for(run) for run in runs],
                target_url=url,
                keyring=get_keyring(),
                progress=(
                    lambda pct, step: progress.update(percent=int(pct * 0.6), step=step_text(step))
                )
                if progress
                else None,
            )
            yield url
        except (engine.EngineError, OSError) as exc:
            raise errors.refusal(exc) from exc


def perform_restore(
    *, restore_id: int, progress: Progress, target: str | None = None, target_url: str | None = None
) -> dict[str, Any]:
    """Worker side: restore each chosen backup all-or-nothing, verify, update scope status."""
    restore = RestoreRun.objects.get(pk=restore_id)
    backups = list(restore.backups.select_related("scope").order_by("scope__position"))
    scopes = [b.scope for b in backups]
    RestoreRun.objects.filter(pk=restore.pk).update(state=RunState.RUNNING)
    url = resolve_target(target, target_url)
    if restore.into_order_system:
        set_status(scopes, SystemStatus.RESTORING)
    report: dict[str, Any] = {"tables": [], "files": [], "checks": []}
    try:
        keyring = get_keyring()
        if not restore.into_order_system:
            ensure_scratch_database(url)
        paths = [verified_file_for(backup) for backup in backups]
        for backup in backups:
            progress.log(event_message(events.LOG_RESTORING, name=backup.file_name))
        logs = [b for b in backups if b.scope.is_logs]
        logs_to = None
        if logs:
            logs_to = (
                (logs[0].scope.log_dir or settings.ORDER_SYSTEM_LOG_DIR)
                if restore.into_order_system
                else Path(settings.VAR_DIR) / "restored_logs" / str(restore.pk)
            )
        # One transaction for every scope: all of them are restored, or none.
        results = engine.restore_files(
            paths,
            target_url=url,
            keyring=keyring,
            restore_logs_to=logs_to,
            progress=lambda pct, step: progress.update(
                percent=int(pct * 0.9), step=step_text(step)
            ),
            expected_sha256=[backup.sha256 or None for backup in backups],
        )
        for backup, result in zip(backups, results, strict=True):
            for t in result.tables:
                report["tables"].append(
                    {
                        "backup": backup.file_name,
                        "table": t.name,
                        "rows_expected": t.rows_expected,
                        "rows_restored": t.rows_restored,
                        "ok": t.checksum_ok,
                    }
                )
            report["files"].extend(result.files)
            report.setdefault("warnings", []).extend(result.warnings)
        progress.update(percent=93, step=gettext_lazy("Running integrity and business checks"))
        try:
            report["checks"] = run_checks(url=url, scopes=scopes)
        except CHECK_FAILURES as exc:
            # The data is restored: report that the checks could not run, do not fail.
            report["checks"] = [
                {"name": _("Checks"), "name_en": "Checks", "error": explain(exc), "ok": False}
            ]
    except RUN_FAILURES as exc:
        _fail_restore(restore, scopes, exc, report)
        raise errors.job_failure(exc) from exc
    except Exception as exc:
        _fail_restore(restore, scopes, exc, report)
        raise
    all_ok = all(item["ok"] for item in report["tables"] + report["checks"])
    with transaction.atomic():
        restore = RestoreRun.objects.select_for_update().get(pk=restore.pk)
        stays_failed = restore.state != RunState.RUNNING
        if stays_failed:
            # Declared dead while it was still working: "failed" stands, but the engine's
            # transaction did commit, so the page must say the target *was* changed. (Written
            # before raising: raised inside this block, the write would be rolled back.)
            RestoreRun.objects.filter(pk=restore.pk).update(
                report={**report, "checks": [], "committed_after_failure": True}
            )
        else:
            restore.state = RunState.COMPLETE
            restore.report = report
            restore.finished_at = timezone.now()
            restore._change_reason = "restore complete"
            restore.save()
    if stays_failed:
        progress.log(event_message(events.LOG_RESTORE_STAYS_FAILED))
        if restore.error_code:
            raise JobFailure(BackupsError(restore.error_code), params=restore.error_params)
        raise JobFailure(restore.error or BackupsError.RESTORE_ALREADY_FAILED)
    if restore.into_order_system:
        set_status(
            scopes,
            SystemStatus.RESTORED if all_ok else SystemStatus.RESTORED_WITH_WARNINGS,
            ", ".join(b.file_name for b in backups),
        )
    post_to_timeline(
        kind="restore.verified" if all_ok else "restore.warnings",
        id=restore.pk,
        target=restore.target_label,
        by=restore.started_by,
    )
    return {"restore_id": restore.pk, "checks_ok": all_ok}


def _fail_restore(
    restore: RestoreRun, scopes: list[BackupScope], exc: BaseException, report: dict[str, Any]
) -> None:
    """Record why, as a code shown in each reader's language; checks that never ran go."""
    reason = explain(exc)
    restore.state = RunState.FAILED
    restore.error = reason
    restore.error_code, restore.error_params = errors.classify(exc)
    report["checks"] = []  # a failed restore reports no checks, least of all passed ones
    restore.report = report
    restore.finished_at = timezone.now()
    restore._change_reason = "restore failed"
    restore.save()
    if restore.into_order_system:
        set_status(scopes, SystemStatus.RESTORE_FAILED, reason)
