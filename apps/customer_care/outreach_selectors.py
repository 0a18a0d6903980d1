"""Outreach's read side: the figures the evaluation reports read, lists for the pages, and the
care plan's reminder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import Direction
from .models import Case, CaseMessage, Compensation, FollowUp, Notice, PlannedContact, Survey
from .outreach_choices import FollowUpState

SATISFIED = 4  # a score of 4 or 5 counts as satisfied (CSAT)


@dataclass
class Figures:
    label: str
    cases: int
    first_response: timedelta | None
    resolution: timedelta | None
    first_contact_resolution: float | None
    csat: float | None
    surveys: int
    compensation_cost: Decimal


def _figures(label: str, cases: QuerySet[Case]) -> Figures:
    """First response and resolution times (averages), first-contact resolution (resolved with
    at most one reply and never reopened), CSAT (share of answered surveys scoring 4 or 5) and
    the compensation granted on the cases."""
    base = cases.annotate(
        first_span=ExpressionWrapper(
            F("first_responded_at") - F("created_at"), output_field=DurationField()
        ),
        resolve_span=ExpressionWrapper(
            F("resolved_at") - F("created_at"), output_field=DurationField()
        ),
    ).aggregate(
        n=Count("pk"),
        first=Avg("first_span"),
        resolve=Avg("resolve_span"),
        resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
    )
    resolved = dict(cases.filter(resolved_at__isnull=False).values_list("pk", "reopened_count"))
    replies = dict(
        CaseMessage.objects.filter(case_id__in=list(resolved), direction=Direction.OUTBOUND)
        .values("case_id")
        .annotate(n=Count("pk"))
        .values_list("case_id", "n")
    )
    rows = list(resolved)
    fcr_hits = sum(1 for pk in rows if replies.get(pk, 0) <= 1 and resolved[pk] == 0)
    surveys = Survey.objects.filter(case__in=cases.values("pk"), score__isnull=False).aggregate(
        n=Count("pk"), happy=Count("pk", filter=Q(score__gte=SATISFIED))
    )
    cost = Compensation.objects.filter(case__in=cases.values("pk")).aggregate(total=Sum("cost"))[
        "total"
    ]
    return Figures(
        label=label,
        cases=base["n"],
        first_response=base["first"],
        resolution=base["resolve"],
        first_contact_resolution=(fcr_hits / len(rows)) if rows else None,
        csat=(surveys["happy"] / surveys["n"]) if surveys["n"] else None,
        surveys=surveys["n"],
        compensation_cost=cost or Decimal("0"),
    )


def figures_by_agent() -> list[Figures]:
    from apps.accounts.models import User

    owners = User.objects.filter(pk__in=Case.objects.values("owner_id")).order_by("username")
    result = [
        _figures(str(u.get_full_name() or u.username), Case.objects.filter(owner=u)) for u in owners
    ]
    if Case.objects.filter(owner__isnull=True).exists():
        result.append(_figures(str(_("Nobody")), Case.objects.filter(owner__isnull=True)))
    return result


def figures_by_channel() -> list[Figures]:
    from .choices import CaseChannel

    channels = Case.objects.values_list("channel", flat=True).distinct().order_by("channel")
    return [_figures(str(CaseChannel(c).label), Case.objects.filter(channel=c)) for c in channels]


def figures_by_incident() -> list[Figures]:
    """Cases opened while each incident was open (detected until recovered, closed or now)."""
    from apps.incidents.models import Incident

    result = []
    for incident in Incident.objects.order_by("-detected_at")[:20]:
        end = incident.recovered_at or incident.closed_at or timezone.now()
        cases = Case.objects.filter(created_at__gte=incident.detected_at, created_at__lte=end)
        result.append(_figures(incident.title, cases))
    return result


def open_follow_ups() -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(state=FollowUpState.OPEN).select_related("case", "survey")


def planned_contacts() -> QuerySet[PlannedContact]:
    return PlannedContact.objects.select_related("customer", "contacted_by").order_by(
        F("contacted_at").asc(nulls_first=True), "due_at"
    )


def recent_notices() -> QuerySet[Notice]:
    return Notice.objects.select_related("job", "created_by")[:50]


def remind_due_contacts(*, now=None) -> int:
    """Tell the care leads about planned VIP contacts now due, once per contact (scheduled)."""
    from apps.accounts.models import User
    from apps.accounts.roles import Role
    from apps.core.notifications import send_notification

    now = now or timezone.now()
    due = list(
        PlannedContact.objects.filter(
            contacted_at__isnull=True, reminded_at__isnull=True, due_at__lte=now
        ).select_related("customer")
    )
    if not due:
        return 0
    leads = list(User.objects.filter(groups__name=Role.CARE_LEAD, is_active=True).exclude(email=""))
    reminded = 0
    for contact in due:
        if not PlannedContact.objects.filter(pk=contact.pk, reminded_at__isnull=True).update(
            reminded_at=now
        ):
            continue
        for lead in leads:
            send_notification(
                channel="email",
                recipient=lead,
                subject=_("A VIP contact is due"),
                body=_("Contact %(customer)s is due: %(purpose)s"),
                params={"customer": str(contact.customer), "purpose": contact.purpose},
            )
        reminded += 1
    return reminded


def ledger_rows(customer) -> dict[str, Any]:
    from .services.outreach import ledger

    return ledger(customer)
