from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import ResponseTarget, Team


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ("name", "lead", "opens_at", "closes_at", "round_the_clock")
    filter_horizontal = ("members",)


@admin.register(ResponseTarget)
class ResponseTargetAdmin(SimpleHistoryAdmin):
    list_display = ("priority", "channel", "first_response_minutes", "resolution_minutes")
