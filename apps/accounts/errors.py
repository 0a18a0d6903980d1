"""Why the accounts app refused a change: a code per rule, the sentence rendered when shown."""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ErrorCode


class AccountsError(ErrorCode):
    OWN_ADMIN_ROLE = (
        "own_admin_role",
        _("You cannot remove your own administrator role or deactivate yourself."),
    )
    LAST_ADMIN = (
        "last_admin",
        _("This is the last active administrator; appoint another one first."),
    )
    RESET_THROTTLED = (
        "reset_throttled",
        _("Too many password reset requests. Wait a while and try again, or ask an administrator."),
    )
