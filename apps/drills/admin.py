from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Certificate, Course, DrillPlan, DrillRun, RestoreRehearsal, TrainingSession


@admin.register(Course)
class CourseAdmin(SimpleHistoryAdmin):
    list_display = ("code", "title_zh", "title_en", "pass_mark", "validity_days", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "title_zh", "title_en")


@admin.register(TrainingSession)
class TrainingSessionAdmin(SimpleHistoryAdmin):
    list_display = ("course", "starts_at", "trainer", "location")
    list_filter = ("course",)


@admin.register(Certificate)
class CertificateAdmin(SimpleHistoryAdmin):
    list_display = ("user", "course", "issued_on", "expires_on", "reminded_at")
    list_filter = ("course",)
    readonly_fields = ("reminded_at",)


@admin.register(DrillPlan)
class DrillPlanAdmin(SimpleHistoryAdmin):
    list_display = ("title", "scheduled_at", "repeat", "created_by")


@admin.register(DrillRun)
class DrillRunAdmin(SimpleHistoryAdmin):
    list_display = ("plan", "started_at", "state", "closed_at")
    readonly_fields = ("incident",)


@admin.register(RestoreRehearsal)
class RestoreRehearsalAdmin(admin.ModelAdmin):
    list_display = ("pk", "state", "target", "rto_seconds", "rpo_seconds", "finished_at")
    readonly_fields = [f.name for f in RestoreRehearsal._meta.fields]
