"""Each person's iCalendar feed: their drills (participant or observer) and training sessions."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

if TYPE_CHECKING:
    from apps.accounts.models import User


def build_feed(*, user: User, language: str) -> bytes:
    """The user's drills (as participant or observer) and training sessions, as iCalendar."""
    import icalendar
    from django.utils import translation
    from django.utils.translation import gettext as _

    from .models import DrillPlan, TrainingSession

    cal = icalendar.Calendar()
    cal.add("prodid", "-//recovery_site//drills//EN")
    cal.add("version", "2.0")
    with translation.override(language):
        cal.add("x-wr-calname", _("Drills and training"))
        plans = (
            DrillPlan.objects.filter(participants=user)
            .union(DrillPlan.objects.filter(observers=user))
            .order_by("pk")
        )
        for plan in plans:
            for n, start in enumerate(plan.occurrences()):
                ev = icalendar.Event()
                ev.add("uid", f"drill-{plan.pk}-{n}@recovery_site")
                ev.add("summary", _("Drill: %(title)s") % {"title": plan.title})
                ev.add("dtstart", start)
                ev.add("dtend", start + timedelta(minutes=plan.duration_minutes))
                ev.add("dtstamp", timezone.now())
                if plan.objectives:
                    ev.add("description", plan.objectives)
                cal.add_component(ev)
        sessions = (
            TrainingSession.objects.filter(invitees=user)
            .union(TrainingSession.objects.filter(trainer=user))
            .order_by("pk")
        )
        for session in TrainingSession.objects.filter(
            pk__in=[s.pk for s in sessions]
        ).select_related("course"):
            ev = icalendar.Event()
            ev.add("uid", f"training-{session.pk}@recovery_site")
            ev.add("summary", _("Training: %(course)s") % {"course": session.course.title})
            ev.add("dtstart", session.starts_at)
            ev.add("dtend", session.ends_at)
            ev.add("dtstamp", timezone.now())
            if session.location:
                ev.add("location", session.location)
            cal.add_component(ev)
    return cal.to_ical()
