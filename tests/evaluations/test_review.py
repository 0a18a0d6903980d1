"""The periodic review: figures across incidents for a month, a quarter or any range."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.errors import DomainError
from apps.evaluations import sources
from apps.evaluations.choices import Metric
from apps.evaluations.errors import EvaluationError
from apps.evaluations.selectors import day_range, month_range, periodic_review, quarter_range

from .factories import at, incident_with_known_times

pytestmark = pytest.mark.django_db


def test_a_quarter_runs_from_its_first_day_to_the_next_quarters_first_day():
    start, end = quarter_range(2026, 4)
    assert (start.date(), end.date()) == (date(2026, 10, 1), date(2027, 1, 1))
    start, end = month_range(2026, 2)
    assert (start.date(), end.date()) == (date(2026, 2, 1), date(2026, 3, 1))


def test_a_range_that_ends_before_it_starts_is_refused():
    with pytest.raises(DomainError) as exc:
        day_range(date(2026, 11, 5), date(2026, 11, 1))
    assert exc.value.code == EvaluationError.NOT_AN_INCIDENT_END


def test_a_range_with_no_incidents_says_so():
    review = periodic_review(*month_range(2025, 1))
    assert review.is_empty
    assert set(review.trends[Metric.MEAN_ACKNOWLEDGEMENT]["real"]) == {None}


def test_the_review_averages_incidents_per_period_and_leaves_unmeasured_gaps():
    incident_with_known_times()  # recovered 180 min after declaration, ack mean 10
    incident_with_known_times(
        detected_at=at(9, 0, day=20),
        declared_at=at(9, 10, day=20),
        team_assembled_at=None,
        manual_process_at=None,
        recovered_at=at(10, 10, day=20),
        closed_at=at(11, 0, day=20),
    )
    review = periodic_review(*month_range(2026, 11))
    assert len(review.rows) == 2
    recover = review.trends[Metric.DECLARED_TO_RECOVERED]["real"]
    assert [v for v in recover if v is not None] == [180.0, 60.0]
    comparison = {r["metric"]: r for r in review.comparison}
    assert comparison[Metric.DECLARED_TO_RECOVERED]["real"] == 120.0
    assert comparison[Metric.DECLARED_TO_RECOVERED]["drill"] is None  # no drills recorded
    assert review.rehearsals is sources.NOT_MEASURED
    assert set(review.csat) == {None}


def test_a_quarterly_review_takes_the_same_number_of_queries_for_more_incidents():
    incident_with_known_times()
    with CaptureQueriesContext(connection) as few:
        periodic_review(*quarter_range(2026, 4))
    for day in range(3, 9):
        incident_with_known_times(detected_at=at(10, 0, day=day), declared_at=at(10, 10, day=day))
    with CaptureQueriesContext(connection) as many:
        review = periodic_review(*quarter_range(2026, 4))
    assert len(review.rows) == 7
    assert len(many) == len(few)


def test_care_figures_are_summarised_from_cases_and_survey_answers():
    t0 = timezone.make_aware(datetime(2026, 11, 2, 10, 0))
    cases = [
        sources.CaseRow(
            t0,
            t0 + timezone.timedelta(minutes=30),
            t0 + timezone.timedelta(hours=4),
            True,
            Decimal("20"),
        ),
        sources.CaseRow(t0, t0 + timezone.timedelta(minutes=10), None, False, None),
    ]
    figures = sources.summarise_cases(cases, [5, 4, 3])
    assert figures == {
        "cases": 2,
        "csat": 4.0,
        "csat_answers": 3,
        "complaints": 1,
        "compensation": 20.0,
        "first_response_minutes": 20.0,
        "resolution_minutes": 240.0,
    }


def test_rehearsals_are_summarised_in_minutes_oldest_first():
    t0 = timezone.make_aware(datetime(2026, 11, 2, 10, 0))
    rows = sources.summarise_rehearsals(
        [
            sources.Rehearsal(t0 + timezone.timedelta(days=1), 300, None, True),
            sources.Rehearsal(t0, 120, 60, True),
        ]
    )
    assert [(r["rto_minutes"], r["rpo_minutes"]) for r in rows] == [(2.0, 1.0), (5.0, None)]


def test_sources_absent_today_answer_not_measured_never_zero():
    t0 = timezone.now()
    assert sources.care_figures(t0 - timezone.timedelta(days=1), t0) is sources.NOT_MEASURED
    assert sources.last_rehearsal() is sources.NOT_MEASURED
    assert sources.NOT_MEASURED != 0 and not sources.NOT_MEASURED


def test_drills_are_compared_with_real_incidents_on_the_drill_flag():
    incident_with_known_times()  # real: recovered 180 min after declaration
    incident_with_known_times(
        title="Drill: restore the orders",
        is_drill=True,
        detected_at=at(9, 0, day=20),
        declared_at=at(9, 5, day=20),
        recovered_at=at(10, 35, day=20),
        closed_at=at(11, 0, day=20),
    )
    review = periodic_review(*month_range(2026, 11))
    comparison = {r["metric"]: r for r in review.comparison}
    assert comparison[Metric.DECLARED_TO_RECOVERED]["real"] == 180.0
    assert comparison[Metric.DECLARED_TO_RECOVERED]["drill"] == 90.0
    assert [r["is_drill"] for r in review.rows] == [False, True]
    drill_trend = review.trends[Metric.DECLARED_TO_RECOVERED]["drill"]
    assert [v for v in drill_trend if v is not None] == [90.0]
