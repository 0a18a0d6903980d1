"""Why the incidents app refused a change: a code per rule, the sentence rendered when shown."""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ErrorCode


class IncidentsError(ErrorCode):
    TIME_IN_FUTURE = "time_in_future", _("That time is in the future: record what has happened.")
    BEFORE_DECLARATION = (
        "before_declaration",
        _("That time is before the incident was declared."),
    )
    REVIEWED = "reviewed", _("This incident has been reviewed and can no longer be changed.")
    CLOSED = "closed", _("This incident is closed.")
    NOT_A_DRILL = "not_a_drill", _("Only a drill can be closed this way.")
    SUBCAUSE_MISMATCH = (
        "subcause_mismatch",
        _("That sub-cause does not belong to the chosen cause."),
    )
    QUANTITY_NOT_POSITIVE = "quantity_not_positive", _("The quantity must be more than zero.")
    UNKNOWN_STATE = "unknown_state", _("Unknown state.")
    RESOURCE_TRANSITION = (
        "resource_transition",
        _("A resource cannot go from “%(from)s” to “%(to)s”."),
    )
    BEFORE_PREVIOUS_STEP = (
        "before_previous_step",
        _("That time is before the resource's previous step."),
    )
    INCIDENT_TRANSITION = (
        "incident_transition",
        _("An incident cannot go from “%(from)s” to “%(to)s”."),
    )
    NO_LEADER = "no_leader", _("Name a leader before declaring the team assembled.")
    BEFORE_PREVIOUS_CHANGE = (
        "before_previous_change",
        _("That time is before the previous state change (%(when)s)."),
    )
    UNKNOWN_TEAM_ROLE = "unknown_team_role", _("Unknown team role.")
    ROLE_NOT_HELD = (
        "role_not_held",
        _("%(user)s does not hold a role that may serve as %(role)s."),
    )
    ALREADY_ON_TEAM = "already_on_team", _("%(user)s is already on the team in that role.")
    NOT_YOUR_ASSIGNMENT = (
        "not_your_assignment",
        _("Only the member can acknowledge their own assignment."),
    )
    ALREADY_SIGNED_OFF = "already_signed_off", _("This check is already signed off.")
    AUTOMATIC_ITEM = (
        "automatic_item",
        _("The system checks this item itself: run the automatic checks again."),
    )
    SIGN_OFF_ROLE = (
        "sign_off_role",
        _("Only a manager or the emergency lead can sign off an upgrade."),
    )
    NOT_ALL_PASSED = "not_all_passed", _("Every item must pass before the upgrade can go ahead.")
    CHOOSE_ITEM = "choose_item", _("Choose an item of this check.")
    CHOOSE_GO = "choose_go", _("Choose go or no go.")
    UNKNOWN_ACTION = "unknown_action", _("Unknown action.")
    EMPTY_NOTE = "empty_note", _("Write something first.")
    OWNER_ROLE = "owner_role", _("%(user)s does not hold the role this task needs.")
    DUE_BEFORE_DECLARATION = (
        "due_before_declaration",
        _("A task cannot be due before the incident was declared."),
    )
    DECISION_HAS_TASK = "decision_has_task", _("This decision already has a task.")
    TASK_TRANSITION = "task_transition", _("A task cannot go from “%(from)s” to “%(to)s”.")
