"""Tracked jobs of the stock counts: thin entry points that take ids and call a service."""

from apps.core.jobs import Progress

from . import services


def check_count_sheet_job(*, progress: Progress, sheet_id: int) -> dict:
    progress(1, "…")
    return services.check_count_sheet(sheet_id=sheet_id, progress=progress)


def import_count_sheet_job(*, progress: Progress, sheet_id: int) -> dict:
    progress(1, "…")
    return services.import_count_sheet(sheet_id=sheet_id, progress=progress)
