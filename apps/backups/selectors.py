from django.db.models import QuerySet

from .models import BackupRun, BackupScope, RestoreRun


def list_scopes() -> QuerySet[BackupScope]:
    return BackupScope.objects.prefetch_related("policies")


def list_backups(*, scope: str | None = None) -> QuerySet[BackupRun]:
    qs = BackupRun.objects.select_related("scope", "started_by", "job")
    if scope:
        qs = qs.filter(scope__slug=scope)
    return qs


def list_restores() -> QuerySet[RestoreRun]:
    return RestoreRun.objects.select_related("started_by", "job").prefetch_related("backups")
