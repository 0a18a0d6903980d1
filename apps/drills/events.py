"""The drills app's event kinds (stored as kind + params, rendered in the reader's language)."""

from django.utils.translation import gettext_lazy as _

from apps.core.events import register_event_kind

from .choices import DrillPhase

STARTED = "drills.started"
INJECT = "drills.inject"
REMARK = "drills.remark"
PHASE = "drills.phase"
CLOSED = "drills.closed"
REHEARSAL_TITLE = "drills.rehearsal.title"
REHEARSAL_SCOPE = "drills.rehearsal.scope"
REHEARSAL_FAILED = "drills.rehearsal.failed"
REHEARSAL_PASSED = "drills.rehearsal.passed"


def register() -> None:
    register_event_kind(STARTED, _("Drill"), _("Drill started from plan “%(plan)s”."), icon="🚧")
    # Observers' injects and remarks are free text typed by staff: stored and shown as typed.
    register_event_kind(INJECT, _("Drill inject"), icon="🎯")
    register_event_kind(REMARK, _("Observer remark"), icon="👁")
    register_event_kind(
        PHASE,
        _("Drill phase"),
        _("Phase reached: %(phase)s (%(minutes)s min, target %(target)s min)."),
        choices={"phase": DrillPhase},
    )
    register_event_kind(
        CLOSED, _("Drill"), _("Drill closed with %(actions)s improvement action(s).")
    )
    register_event_kind(
        REHEARSAL_TITLE, _("Restore rehearsal"), _("Restore rehearsal #%(id)s into %(target)s")
    )
    register_event_kind(
        REHEARSAL_SCOPE,
        _("Restore rehearsal"),
        _("Rehearsing %(scope)s (%(n)s of %(total)s)"),
    )
    register_event_kind(
        REHEARSAL_FAILED,
        _("Restore rehearsal failed"),
        _("Restore rehearsal #%(id)s failed: %(reason)s"),
        icon="⚠",
    )
    register_event_kind(
        REHEARSAL_PASSED,
        _("Restore rehearsal"),
        _("Restore rehearsal #%(id)s passed: RTO %(rto)s s, RPO %(rpo)s s."),
    )
