"""RQ entry points for backups and restores: ids in, a service call, progress out."""

from apps.core.jobs import Progress

from . import services


def backup_job(*, progress: Progress, run_id: int) -> dict:
    return services.perform_backup(run_id=run_id, progress=progress)


def restore_job(
    *, progress: Progress, restore_id: int, target: str | None = None, target_url: str | None = None
) -> dict:
    return services.perform_restore(
        restore_id=restore_id, progress=progress, target=target, target_url=target_url
    )
