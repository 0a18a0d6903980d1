from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from apps.core.errors import DomainError

from . import services
from .models import BackupAudit, BackupPolicy, BackupRun, BackupScope, RestoreRun


class PolicyInline(admin.TabularInline):
    model = BackupPolicy
    extra = 0


class BackupScopeForm(forms.ModelForm):
    """Each check is tried before it is saved: one SELECT that returns one whole number."""

    class Meta:
        model = BackupScope
        fields = [
            "slug",
            "name_zh",
            "name_en",
            "tables",
            "log_dir",
            "log_pattern",
            "checks",
            "position",
        ]

    def clean_checks(self):
        checks = self.cleaned_data.get("checks")
        if not isinstance(checks, list):
            return checks
        problems = []
        for check in checks:
            if not isinstance(check, dict) or not {"name", "sql"} <= set(check):
                continue  # the model's clean() names this mistake
            try:
                services.validate_check(sql=str(check["sql"]))
            except DomainError as exc:
                problems.append(f"{check['name']}: {exc}")
        if problems:
            raise forms.ValidationError(problems)
        return checks


@admin.register(BackupScope)
class BackupScopeAdmin(SimpleHistoryAdmin):
    form = BackupScopeForm
    list_display = ("slug", "name_zh", "name_en", "tables", "log_pattern", "system_status")
    inlines = [PolicyInline]

    def get_readonly_fields(self, request, obj=None):
        """The checks run against the order system: editing them is its own permission."""
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("backups.change_scope_checks"):
            readonly.append("checks")
        return readonly


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
    list_display = ("at", "action", "backup", "by", "shown_detail")
    list_filter = ("action",)
    readonly_fields = [
        *(f.name for f in BackupAudit._meta.fields if f.editable and f.name != "detail"),
        "shown_detail",
    ]
    fields = tuple(readonly_fields)

    @admin.display(description=_("detail"))
    def shown_detail(self, obj: BackupAudit) -> str:
        return obj.display_detail

    def has_add_permission(self, request):
        return False
