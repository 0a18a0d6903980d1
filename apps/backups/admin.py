from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import BackupAudit, BackupPolicy, BackupRun, BackupScope, RestoreRun


class PolicyInline(admin.TabularInline):
    model = BackupPolicy
    extra = 0


@admin.register(BackupScope)
class BackupScopeAdmin(SimpleHistoryAdmin):
    list_display = ("slug", "name_zh", "name_en", "tables", "log_pattern", "system_status")
    inlines = [PolicyInline]


@admin.register(BackupRun)
class BackupRunAdmin(SimpleHistoryAdmin):
    list_display = ("file_name", "scope", "kind", "state", "size", "remote_state", "finished_at")
    list_filter = ("scope", "kind", "state", "remote_state")
    search_fields = ("file_name", "sha256")
    readonly_fields = [f.name for f in BackupRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(RestoreRun)
class RestoreRunAdmin(SimpleHistoryAdmin):
    list_display = ("pk", "target_label", "state", "started_by", "created_at", "finished_at")
    list_filter = ("state", "into_order_system")
    readonly_fields = [f.name for f in RestoreRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(BackupAudit)
class BackupAuditAdmin(admin.ModelAdmin):
    list_display = ("at", "action", "backup", "by", "detail")
    list_filter = ("action",)
    readonly_fields = [f.name for f in BackupAudit._meta.fields]

    def has_add_permission(self, request):
        return False
