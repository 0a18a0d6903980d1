"""Outreach's error codes (compensation, notices, status page, surveys and opt-outs)."""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ErrorCode


class OutreachError(ErrorCode):
    ABOVE_LIMIT = (
        "above_limit",
        _(
            "A grant worth %(value)s is above your approval limit of %(limit)s: ask a care lead "
            "or a manager to grant it."
        ),
    )
    ALREADY_COMPENSATED = (
        "already_compensated",
        _(
            "Case %(reference)s has already been compensated: only a manager can grant again, "
            "with a reason."
        ),
    )
    OVERRIDE_NEEDS_REASON = "override_needs_reason", _("Give the reason for compensating again.")
    BAD_VALUE = "bad_value", _("The value must be more than zero.")
    BAD_PERCENT = "bad_percent", _("A percentage must be between 1 and 100.")
    PERCENT_NEEDS_CAP = (
        "percent_needs_cap",
        _("A percentage coupon needs the most it may take off an order."),
    )
    BAD_VALIDITY = "bad_validity", _("The coupon must be valid until a time after it starts.")
    NO_CUSTOMERS = "no_customers", _("Choose at least one customer.")
    UNKNOWN_FORMAT = "unknown_format", _("Unknown export format.")
    NOTHING_TO_HAND_OVER = "nothing_to_hand_over", _("Every grant has already been handed over.")
    EMPTY_LANGUAGE = (
        "empty_language",
        _("The %(language)s version of the notice is empty: write both before sending."),
    )
    NO_CHANNEL = "no_channel", _("Choose SMS, e-mail or both.")
    NOTICE_STATE = "notice_state", _("A notice that is %(state)s cannot be %(action)s.")
    STALE = "stale", _("Someone else changed this in the meantime. Reload it and try again.")
    BAD_LINK = (
        "bad_link",
        _("This link is not valid: it may have expired or been used already."),
    )
    BAD_SCORE = "bad_score", _("Choose a score from 1 to 5.")
    NO_OUTCOME = "no_outcome", _("Write what came of the contact.")
    AUDIENCE_NOT_READ = (
        "audience_not_read",
        _("Read the customers from the order system (or its latest backup) before sending."),
    )
    NO_INCIDENT = "no_incident", _("This notice has no incident: its window is unknown.")
    NO_CUSTOMER_BACKUP = (
        "no_customer_backup",
        _("The order system does not answer and there is no backup of its customers to read."),
    )
