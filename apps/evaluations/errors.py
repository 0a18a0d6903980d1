"""The evaluations app's refusals: a stable code, the message rendered in the reader's language."""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ErrorCode


class EvaluationError(ErrorCode):
    REPORT_SIGNED = (
        "report_signed",
        _("Report version %(version)s is signed off and can no longer be edited."),
    )
    REPORT_NOT_SIGNABLE = ("report_not_signable", _("Only a draft report can be signed off."))
    NOT_AN_INCIDENT_END = (
        "not_an_incident_end",
        _("The range ends (%(end)s) before it starts (%(start)s)."),
    )
    RANGE_TOO_LONG = ("range_too_long", _("A review covers at most %(days)s days."))
    ACTION_TRANSITION = (
        "action_transition",
        _("An improvement action cannot go from “%(from)s” to “%(to)s”."),
    )
    UNKNOWN_CATEGORY = ("unknown_category", _("Unknown category “%(category)s”."))
    DUE_IN_PAST = ("due_in_past", _("The due date %(due)s has already passed."))
    OWNER_INACTIVE = ("owner_inactive", _("%(owner)s cannot own an action (inactive account)."))
    UNKNOWN_FINDING = ("unknown_finding", _("The finding this action comes from was not found."))
    PROPOSAL_DECIDED = (
        "proposal_decided",
        _("This plan change was already %(state)s."),
    )
    TEMPLATE_REQUIRED = (
        "template_required",
        _("Choose the checklist item to change or retire."),
    )
    TEMPLATE_RETIRED = (
        "template_retired",
        _("The checklist item “%(title)s” is no longer in the plan."),
    )
    ITEM_FIELDS_REQUIRED = (
        "item_fields_required",
        _("A new checklist item needs a phase and both titles."),
    )
    NOTHING_CHANGED = ("nothing_changed", _("The proposal changes nothing in the plan."))
    TARGET_NEGATIVE = ("target_negative", _("A target cannot be negative."))
