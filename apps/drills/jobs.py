"""RQ entry points: ids in, a service call, progress out."""

from apps.core.jobs import Progress

from . import services


def rehearse_restore_job(
    *, progress: Progress, rehearsal_id: int, target_url: str | None = None
) -> dict:
    return services.perform_rehearsal(
        rehearsal_id=rehearsal_id, progress=progress, target_url=target_url
    )
