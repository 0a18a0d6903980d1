"""The evaluation sources read the real drills and customer-care tables."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.customer_care.models import Case, Survey
from apps.customer_care.services.common import start_clock
from apps.drills.choices import RehearsalState
from apps.evaluations import sources
from apps.evaluations.selectors import month_range, periodic_review
from tests.drills.factories import RestoreRehearsalFactory
from tests.manual_orders.factories import CustomerFactory

from .factories import at, incident_with_known_times

pytestmark = pytest.mark.django_db


def _case(*, opened, first=None, resolved=None, case_type="order_query") -> Case:
    case = Case(customer=CustomerFactory(), channel="phone", case_type=case_type, subject="s")
    start_clock(case)
    case.save()
    Case.objects.filter(pk=case.pk).update(
        created_at=opened, first_responded_at=first, resolved_at=resolved
    )
    return case


def test_rehearsals_come_from_drills_with_their_outcome_and_running_ones_left_out():
    now = timezone.now()
    RestoreRehearsalFactory(finished_at=now - timedelta(hours=2), rto_seconds=120, rpo_seconds=60)
    RestoreRehearsalFactory(
        state=RehearsalState.FAILED, finished_at=now - timedelta(hours=1), rto_seconds=None
    )
    RestoreRehearsalFactory(state=RehearsalState.RUNNING, finished_at=None)

    rows = sources.rehearsals()

    assert [(r["rto_minutes"], r["rpo_minutes"], r["ok"]) for r in rows] == [
        (2.0, 1.0, True),
        (None, 10.0, False),
    ]
    assert sources.last_rehearsal()["ok"] is False


def test_no_rehearsal_is_not_measured():
    assert sources.rehearsals() is sources.NOT_MEASURED


def test_care_figures_are_measured_from_cases_opened_in_the_window():
    start = timezone.now() - timedelta(days=1)
    _case(
        opened=start + timedelta(hours=1),
        first=start + timedelta(hours=1, minutes=10),
        resolved=start + timedelta(hours=2),
        case_type="complaint",
    )
    _case(opened=start + timedelta(hours=3), first=start + timedelta(hours=3, minutes=30))
    _case(opened=start - timedelta(hours=1))  # before the window

    figures = sources.care_figures(start, start + timedelta(days=1))

    assert figures["cases"] == 2
    assert figures["complaints"] == 1
    assert figures["first_response_minutes"] == 20.0
    assert figures["resolution_minutes"] == 60.0
    assert figures["compensation"] == 0.0


def test_a_window_without_cases_is_not_measured():
    start = timezone.now() - timedelta(days=10)
    assert sources.care_figures(start, start + timedelta(days=1)) is sources.NOT_MEASURED


def test_case_rows_are_summarised_with_decimal_compensation():
    row = sources.CaseRow(
        opened_at=timezone.now(),
        first_response_at=None,
        resolved_at=None,
        is_complaint=False,
        compensation=Decimal("12.50"),
    )
    assert sources.summarise_cases([row], [4, 5])["compensation"] == 12.5


def test_the_reviews_csat_is_the_mean_score_answered_in_each_period():
    case = _case(opened=at(9, 0, day=2))
    for score, day in [(5, 2), (4, 3), (2, 10)]:
        Survey.objects.create(
            case=case, nonce=uuid.uuid4().hex, score=score, answered_at=at(12, day=day)
        )
    Survey.objects.create(case=case, nonce=uuid.uuid4().hex)  # sent, never answered
    incident_with_known_times()

    review = periodic_review(*month_range(2026, 11))  # weeks from 1 November

    assert review.csat == [4.5, 2.0, None, None, None]
    weeks = [(at(0, day=1 + 7 * n), at(0, day=8 + 7 * n)) for n in range(2)]
    assert review.csat[:2] == [sources.care_figures(*week)["csat"] for week in weeks]
