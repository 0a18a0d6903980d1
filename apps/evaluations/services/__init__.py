"""The evaluations use cases, one module per concern, all re-exported here.

Other apps (drills, customer care) call ``create_improvement_action`` from here.
"""

from .actions import create_improvement_action, send_action_reminders, set_action_state
from .plans import (
    compare_versions,
    decide_plan_change,
    ensure_plan_version,
    propose_plan_change,
    snapshot_items,
    version_for,
)
from .reports import compute_report, save_narratives, sign_report
from .targets import set_targets

__all__ = [
    "compare_versions",
    "compute_report",
    "create_improvement_action",
    "decide_plan_change",
    "ensure_plan_version",
    "propose_plan_change",
    "save_narratives",
    "send_action_reminders",
    "set_action_state",
    "set_targets",
    "sign_report",
    "snapshot_items",
    "version_for",
]
