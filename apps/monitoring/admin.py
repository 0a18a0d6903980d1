from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Alarm, AlarmRule, Probe, ProblemReport


@admin.register(Probe)
class ProbeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "enabled", "url", "timeout_ms"]
    readonly_fields = ["kind", "state"]

    def has_change_permission(self, request, obj=None):
        return False  # HTTP probes are edited on the monitoring pages (validated there)


@admin.register(AlarmRule)
class AlarmRuleAdmin(SimpleHistoryAdmin):
    list_display = ["name", "probe", "condition", "threshold", "consecutive", "severity", "enabled"]

    def has_change_permission(self, request, obj=None):
        return False  # edited on the monitoring pages, through services.save_rule


@admin.register(Alarm)
class AlarmAdmin(SimpleHistoryAdmin):
    list_display = ["rule", "state", "severity", "fired_at", "acknowledged_at", "resolved_at"]
    list_filter = ["state", "severity"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProblemReport)
class ProblemReportAdmin(SimpleHistoryAdmin):
    list_display = ["pk", "reporter", "state", "category", "priority", "reported_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
