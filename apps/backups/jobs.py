"""RQ entry points for backups and restores: ids in, a service call, progress out."""

from apps.core.errors import JobFailure
from apps.core.jobs import Progress

from . import services
from .errors import BackupsError


def backup_job(*, progress: Progress, run_id: int) -> dict:
    return services.perform_backup(run_id=run_id, progress=progress)


def backup_group_job(*, progress: Progress, run_ids: list[int]) -> dict:
    return services.perform_backups(run_ids=run_ids, progress=progress)


def restore_job(
    *, progress: Progress, restore_id: int, target: str | None = None, target_url: str | None = None
) -> dict:
    return services.perform_restore(
        restore_id=restore_id, progress=progress, target=target, target_url=target_url
    )


def verify_job(*, progress: Progress, run_id: int, by_id: int | None = None) -> dict:
    from django.contrib.auth import get_user_model

    from .models import BackupRun

    run = BackupRun.objects.get(pk=run_id)
    by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    progress.update(percent=5, step=run.file_name)
    outcome = services.verify_backup(name=run.file_name, by=by)
    if not outcome.ok:
        raise JobFailure(
            BackupsError(outcome.code),
            params=outcome.params,
            result={"backup_id": run.pk, "intact": False},
        )
    # Figures, not only the sentence: the job page renders them in the reader's language.
    report = outcome.report
    return {
        "backup_id": run.pk,
        "intact": True,
        "message": outcome.message,
        "tables": len(report.tables) if report else None,
        "rows": sum(t.rows for t in report.tables) if report else None,
        "size": report.size if report else None,
    }


def full_backup_job(*, progress: Progress, full_backup_id: int) -> dict:
    from .full_backup import perform_full_backup

    return perform_full_backup(full_backup_id=full_backup_id, progress=progress)
