"""The monitoring app's event kinds (timeline entries, notifications), rendered when shown."""

from django.utils.translation import gettext_lazy as _

from apps.core.events import register_event_kind

from .choices import AlarmSeverity, ProblemPriority

ALARM_FIRED = "monitoring.alarm_fired"
ALARM_EVIDENCE = "monitoring.alarm_evidence"
ALARM_RESOLVED = "monitoring.alarm_resolved"
PROBLEM_LINKED = "monitoring.problem_linked"


def register() -> None:
    register_event_kind(
        ALARM_FIRED,
        _("Alarm"),
        _("Alarm %(rule)s fired (%(severity)s)."),
        icon="🚨",
        choices={"severity": AlarmSeverity},
    )
    register_event_kind(
        ALARM_EVIDENCE,
        _("Alarm"),
        _("Evidence of alarm %(rule)s: %(evidence)s"),
        icon="🚨",
    )
    register_event_kind(
        ALARM_RESOLVED, _("Alarm"), _("Alarm %(rule)s resolved by itself."), icon="✅"
    )
    register_event_kind(
        PROBLEM_LINKED,
        _("Problem report"),
        _("Problem #%(id)s reported by %(reporter)s (%(priority)s): %(what)s"),
        icon="📝",
        choices={"priority": ProblemPriority},
    )
