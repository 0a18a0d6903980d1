from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .choices import STATE_TIMESTAMP_FIELD
from .models import (
    Incident,
    IncidentTransition,
    Meeting,
    MeetingDecision,
    ReadinessCheck,
    ReadinessItem,
    ResourceAllocation,
    Task,
    TaskTemplate,
    TeamMember,
    TimelineEntry,
)


class TransitionInline(admin.TabularInline):
    model = IncidentTransition
    extra = 0
    can_delete = False
    readonly_fields = ("from_state", "to_state", "at", "recorded_at", "by", "note")

    def has_add_permission(self, request, obj=None):
        return False


class TeamInline(admin.TabularInline):
    model = TeamMember
    extra = 0
    readonly_fields = ("assigned_at", "acknowledged_at", "assigned_by")


@admin.register(Incident)
class IncidentAdmin(SimpleHistoryAdmin):
    list_display = (
        "pk",
        "title",
        "severity",
        "state",
        "detected_at",
        "declared_at",
        "recovered_at",
    )
    list_filter = ("state", "severity", "cause_category")
    search_fields = ("title", "description")
    # The state and its timestamps change only through the state machine (services.transition).
    readonly_fields = ("state", "version", "declared_by", *STATE_TIMESTAMP_FIELD.values())
    inlines = [TeamInline, TransitionInline]


@admin.register(Task)
class TaskAdmin(SimpleHistoryAdmin):
    list_display = ("title_zh", "incident", "phase", "owner", "due_at", "state")
    list_filter = ("phase", "state")
    search_fields = ("title_zh", "title_en")
    readonly_fields = ("version", "completed_at", "completed_by")


@admin.register(TaskTemplate)
class TaskTemplateAdmin(SimpleHistoryAdmin):
    list_display = ("title_zh", "title_en", "phase", "team_role", "due_after_minutes", "is_active")
    list_filter = ("phase", "is_active")
    list_editable = ("is_active",)

    def save_model(self, request, obj, form, change):
        # Through the service, so the living plan records the change as a new version.
        from .services import save_task_template

        save_task_template(template=obj, by=request.user)


@admin.register(TimelineEntry)
class TimelineEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "incident", "kind", "message", "by")
    list_filter = ("kind",)
    search_fields = ("text",)
    readonly_fields = ("incident", "at", "kind", "message", "text", "params", "by", "data")

    def has_add_permission(self, request):
        return False


@admin.register(ResourceAllocation)
class ResourceAdmin(SimpleHistoryAdmin):
    list_display = (
        "incident",
        "kind",
        "description",
        "quantity",
        "unit",
        "state",
        "allocated_at",
        "released_at",
    )
    list_filter = ("kind", "state")


class DecisionInline(admin.TabularInline):
    model = MeetingDecision
    extra = 0


@admin.register(Meeting)
class MeetingAdmin(SimpleHistoryAdmin):
    list_display = ("title", "incident", "held_at", "recorded_by")
    inlines = [DecisionInline]


class ReadinessItemInline(admin.TabularInline):
    model = ReadinessItem
    extra = 0
    readonly_fields = ("kind", "automatic", "state", "detail", "checked_by", "checked_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReadinessCheck)
class ReadinessCheckAdmin(SimpleHistoryAdmin):
    list_display = ("title", "planned_for", "result", "signed_off_by", "signed_off_at")
    list_filter = ("result",)
    readonly_fields = ("result", "signed_off_by", "signed_off_at", "created_by")
    inlines = [ReadinessItemInline]
