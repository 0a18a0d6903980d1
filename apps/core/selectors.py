from django.db.models import QuerySet

from .models import JobRecord, Notification


def list_jobs_for(user) -> QuerySet[JobRecord]:
    qs = JobRecord.objects.select_related("started_by")
    if not user.has_perm("core.view_all_jobs"):
        qs = qs.filter(started_by=user)
    return qs


def get_visible_job(user, pk) -> JobRecord | None:
    return list_jobs_for(user).filter(pk=pk).first()


def list_notifications() -> QuerySet[Notification]:
    return Notification.objects.select_related("recipient", "resent_as")
