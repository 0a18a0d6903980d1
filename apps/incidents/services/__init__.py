"""The incident use cases: every write goes through one of these, inside a transaction.

Each service checks the plan's rules, writes the rows, leaves an audit trail (history rows on the
models, a timeline entry on the incident) and raises ``DomainError`` with a message staff can read.
Concurrent edits are caught by a ``version`` number: the caller says which version it edited, the
service locks the row and refuses when someone else saved in between.

One module per use case; everything is re-exported here, so callers keep writing
``from apps.incidents import services`` and ``services.declare_incident(...)``.
"""

from .checklists import instantiate_templates, save_task_template
from .common import CLOCK_SKEW
from .lifecycle import (
    allowed_next_states,
    close_drill_incident,
    declare_incident,
    transition,
    update_assessment,
)
from .meetings import record_meeting, task_from_decision
from .readiness import (
    AUTOMATIC_CHECKS,
    NOT_AUTOMATIC_YET,
    READINESS_ACTIONS,
    CheckOutcome,
    act_on_readiness_check,
    check_operators_trained,
    check_order_db_reachable,
    check_recent_backups,
    record_readiness_item,
    run_automatic_checks,
    sign_off_readiness,
    start_readiness_check,
)
from .resources import move_resource, request_resource
from .tasks import add_task, set_task_state, update_task
from .team import (
    ASSIGNMENT_BODY,
    ASSIGNMENT_SMS,
    ASSIGNMENT_SUBJECT,
    acknowledge_assignment,
    assign_member,
)
from .timeline import add_note, on_timeline_event, post_event

__all__ = [
    "ASSIGNMENT_BODY",
    "ASSIGNMENT_SMS",
    "ASSIGNMENT_SUBJECT",
    "AUTOMATIC_CHECKS",
    "CLOCK_SKEW",
    "NOT_AUTOMATIC_YET",
    "READINESS_ACTIONS",
    "CheckOutcome",
    "acknowledge_assignment",
    "act_on_readiness_check",
    "add_note",
    "add_task",
    "allowed_next_states",
    "assign_member",
    "check_operators_trained",
    "check_order_db_reachable",
    "check_recent_backups",
    "close_drill_incident",
    "declare_incident",
    "instantiate_templates",
    "move_resource",
    "on_timeline_event",
    "post_event",
    "record_meeting",
    "record_readiness_item",
    "request_resource",
    "run_automatic_checks",
    "save_task_template",
    "set_task_state",
    "sign_off_readiness",
    "start_readiness_check",
    "task_from_decision",
    "transition",
    "update_assessment",
    "update_task",
]
