"""The monitoring app's error codes (the label is the message, rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ErrorCode


class MonitoringError(ErrorCode):
    ALARM_RESOLVED = "alarm_resolved", _("This alarm has already resolved.")
    ALARM_ACKNOWLEDGED = (
        "alarm_acknowledged",
        _("%(who)s acknowledged this alarm already."),
    )
    ALARM_HAS_INCIDENT = (
        "alarm_has_incident",
        _("This alarm is already linked to incident #%(id)s."),
    )
    AUTO_DECLARE_NOT_CRITICAL = (
        "auto_declare_not_critical",
        _("Only a critical rule may declare an incident by itself."),
    )
    THRESHOLD_NEEDED = (
        "threshold_needed",
        _("A rule that compares the value needs a threshold."),
    )
    NOT_HTTP = "not_http", _("Only HTTP probes can be added or edited here.")
    BAD_URL = "bad_url", _("The URL must start with http:// or https://.")
    PROBLEM_SOLVED = "problem_solved", _("Problem #%(id)s is solved already.")
    PROBLEM_EMPTY = "problem_empty", _("Say what you saw.")
    SCREENSHOT_TYPE = (
        "screenshot_type",
        _("The screenshot must be a PNG, JPEG, GIF or WebP image."),
    )
    SCREENSHOT_SIZE = (
        "screenshot_size",
        _("The screenshot is larger than %(limit)s MB."),
    )
    SCREENSHOT_UNREADABLE = (
        "screenshot_unreadable",
        _("The screenshot could not be read as an image."),
    )
    RESOLUTION_NEEDED = "resolution_needed", _("Say how the problem was solved.")
    SHIFT_ENDS_BEFORE_START = (
        "shift_ends_before_start",
        _("A duty shift must end after it starts."),
    )
    NOT_TECH_SUPPORT = (
        "not_tech_support",
        _("%(person)s is not an active tech-support account: only tech support can be on duty."),
    )
