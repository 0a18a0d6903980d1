"""What the incidents app's upgrade readiness check reads from drills (two small functions).

Incidents calls these (imported inside its check functions); this module imports only drills'
own models and selectors, never incidents' services, so there is no import circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _


@dataclass
class Finding:
    ok: bool
    detail: str


def restore_rehearsal_finding() -> Finding:
    """A passing restore rehearsal within ``DRILLS_REHEARSAL_MAX_AGE_HOURS``?"""
    from .selectors import latest_passing_rehearsal

    hours = settings.DRILLS_REHEARSAL_MAX_AGE_HOURS
    latest = latest_passing_rehearsal(since=timezone.now() - timedelta(hours=hours))
    if latest is None:
        return Finding(
            False, _("No passing restore rehearsal in the last %(hours)s hours.") % {"hours": hours}
        )
    return Finding(
        True,
        _("Restore rehearsal #%(id)s passed (RTO %(rto)s s, RPO %(rpo)s s).")
        % {
            "id": latest.pk,
            "rto": round(latest.rto_seconds or 0),
            "rpo": round(latest.rpo_seconds or 0),
        },
    )


def operators_trained_finding() -> Finding:
    """Do the people on duty (every active holder of a role that requires courses) hold current
    certificates of all their required courses? Read from the training readiness matrix."""
    from .selectors import readiness_matrix, required_courses_by_role, untrained_people

    matrix = readiness_matrix()
    if not required_courses_by_role(matrix.courses):
        return Finding(False, _("No course is required of any role yet: nothing proves training."))
    if not matrix.rows:
        return Finding(False, _("No one holds a role that requires training: no one is on duty."))
    lacking = untrained_people(matrix=matrix)
    if lacking:
        shown = "; ".join(
            f"{user}: {', '.join(c.title for c in courses)}" for user, courses in lacking[:10]
        )
        more = len(lacking) - 10
        return Finding(
            False,
            _("%(n)s people lack a current certificate: %(who)s")
            % {"n": len(lacking), "who": shown + (f" (+{more})" if more > 0 else "")},
        )
    return Finding(
        True,
        _("All %(n)s people on duty hold current certificates of their required courses.")
        % {"n": len(matrix.rows)},
    )
