"""The drills use cases, one module each, re-exported here (``from apps.drills import services``).

Every write goes through one of these, inside a transaction, and leaves its trail (history
rows, a timeline entry on the drill's incident through incidents' public ``post_event``).
"""

from .plans import overlapping_plans, plan_drill
from .rehearsals import (
    perform_rehearsal,
    rehearse_if_due,
    resolve_target,
    restore_order,
    start_rehearsal,
)
from .runs import (
    ActionInput,
    add_improvement_action,
    close_drill,
    inject,
    missing_phases,
    record_phase,
    start_drill,
)
from .training import (
    plan_session,
    record_attendance,
    run_expiry_reminders,
    send_expiry_reminders,
)

__all__ = [
    "ActionInput",
    "add_improvement_action",
    "close_drill",
    "inject",
    "missing_phases",
    "overlapping_plans",
    "perform_rehearsal",
    "plan_drill",
    "plan_session",
    "record_attendance",
    "record_phase",
    "rehearse_if_due",
    "resolve_target",
    "restore_order",
    "run_expiry_reminders",
    "send_expiry_reminders",
    "start_drill",
    "start_rehearsal",
]
