from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from apps.core.errors import DomainError

from . import services
from .models import Alarm, AlarmRule, DutyShift, Probe, ProblemReport


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
    list_display = [
        "rule",
        "state",
        "severity",
        "fired_at",
        "notified",
        "acknowledged_at",
        "resolved_at",
    ]
    list_filter = ["state", "severity", "notified"]

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


class DutyShiftAdminForm(forms.ModelForm):
    class Meta:
        model = DutyShift
        fields = ["person", "starts_at", "ends_at"]

    def clean(self):
        data = super().clean() or {}
        person, starts_at, ends_at = (data.get(k) for k in ("person", "starts_at", "ends_at"))
        if person is not None and starts_at is not None and ends_at is not None:
            try:
                services.check_duty_shift(person=person, starts_at=starts_at, ends_at=ends_at)
            except DomainError as exc:
                self.add_error(exc.field, str(exc))
        return data


@admin.register(DutyShift)
class DutyShiftAdmin(SimpleHistoryAdmin):
    """Shifts are added and removed through the roster's services, here as on the roster page."""

    form = DutyShiftAdminForm
    list_display = ["person", "starts_at", "ends_at", "created_by", "created_at"]
    list_filter = ["person"]
    date_hierarchy = "starts_at"

    def has_change_permission(self, request, obj=None):
        return False  # a wrong shift is removed and entered again

    def save_model(self, request, obj, form, change):
        saved = services.add_duty_shift(
            person=obj.person, starts_at=obj.starts_at, ends_at=obj.ends_at, by=request.user
        )
        obj.pk, obj.created_by, obj.created_at = saved.pk, saved.created_by, saved.created_at

    def delete_model(self, request, obj):
        services.remove_duty_shift(shift=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for shift in queryset:
            services.remove_duty_shift(shift=shift, by=request.user)
