"""Run and scope status: a run whose job died is failed; a restore moves the scope's status."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar, cast

from django.db import transaction
from django.utils import timezone

from apps.core.choices import JobState
from apps.core.jobs import refresh_job_state

from ..choices import RunState, SystemStatus
from ..models import BackupRun, BackupScope, RestoreRun

AnyRun = TypeVar("AnyRun", bound=BackupRun | RestoreRun)


def refresh_run_state(run: AnyRun) -> AnyRun:
    """A run whose job died (worker killed) is failed with the job's reason, not left running."""
    if run.state in (RunState.QUEUED, RunState.RUNNING) and run.job_id and run.job is not None:
        job = refresh_job_state(run.job)
        if job.is_finished and job.state == JobState.FAILED:
            with transaction.atomic():
                # Locked and checked again: the worker may have just finished the run itself,
                # and a page view must never overwrite its outcome.
                run = cast(AnyRun, type(run).objects.select_for_update().get(pk=run.pk))
                if run.state not in (RunState.QUEUED, RunState.RUNNING):
                    return run
                run.state = RunState.FAILED
                run.error = job.error
                run.finished_at = job.finished_at or timezone.now()
                run._change_reason = "job failed"
                run.save()
                if isinstance(run, RestoreRun) and run.into_order_system:
                    set_status(
                        [b.scope for b in run.backups.all()], SystemStatus.RESTORE_FAILED, job.error
                    )
    return run


def reconcile_runs() -> int:
    """Fail every unfinished backup or restore whose job is gone; returns how many."""
    failed = 0
    unfinished = [RunState.QUEUED, RunState.RUNNING]
    runs: list[BackupRun | RestoreRun] = [
        *BackupRun.objects.filter(state__in=unfinished).select_related("job"),
        *RestoreRun.objects.filter(state__in=unfinished).select_related("job"),
    ]
    for run in runs:
        if refresh_run_state(run).state == RunState.FAILED:
            failed += 1
    return failed


def set_status(scopes: Iterable[BackupScope], status: str, note: str = "") -> None:
    for scope in scopes:
        scope.system_status = status
        scope.status_note = note[:300]
        scope.status_changed_at = timezone.now()
        scope._change_reason = f"status {status}"
        scope.save(update_fields=["system_status", "status_note", "status_changed_at"])
