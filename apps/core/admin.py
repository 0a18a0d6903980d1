from django.contrib import admin

from .models import JobRecord, Notification


@admin.register(JobRecord)
class JobRecordAdmin(admin.ModelAdmin):
    list_display = (
        "display_title",
        "kind",
        "state",
        "percent",
        "started_by",
        "created_at",
        "finished_at",
    )
    list_filter = ("state", "kind", "queue")
    search_fields = ("title", "kind", "error")
    readonly_fields = [f.name for f in JobRecord._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "address", "subject", "state", "language")
    list_filter = ("channel", "state", "language")
    search_fields = ("address", "subject", "body")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False
