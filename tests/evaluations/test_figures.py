"""Every figure of every dimension, from an incident whose timestamps are known."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.evaluations.choices import Dimension, Metric
from apps.evaluations.figures import (
    compute_figures,
    current_targets,
    figures_for,
    review_figures,
)
from apps.evaluations.models import Target
from apps.incidents.models import Incident
from tests.incidents.factories import IncidentFactory

from .factories import at, incident_with_known_times

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures():
    scenario = incident_with_known_times()
    return figures_for(scenario.incident)["dimensions"]


def test_response_speed_is_measured_from_detection_to_the_first_task_started(figures):
    response = figures[Dimension.RESPONSE]
    assert response["metrics"] == {
        Metric.DETECTED_TO_DECLARED: 10.0,
        Metric.DECLARED_TO_ASSEMBLED: 20.0,
        Metric.ASSEMBLED_TO_FIRST_TASK: 10.0,
        Metric.MEAN_ACKNOWLEDGEMENT: 10.0,
    }
    assert datetime.fromisoformat(response["times"]["first_task_started_at"]) == at(10, 40)


def test_each_members_acknowledgement_time_is_listed_and_a_silent_member_is_not_measured(figures):
    minutes = [row["minutes"] for row in figures[Dimension.RESPONSE]["acknowledgements"]]
    assert sorted(minutes, key=lambda m: (m is None, m)) == [5.0, 15.0, None]


def test_recovery_times_restores_and_the_manual_order_backlog(figures):
    recovery = figures[Dimension.RECOVERY]
    assert recovery["metrics"] == {
        Metric.DECLARED_TO_MANUAL: 50.0,
        Metric.DECLARED_TO_RECOVERED: 180.0,
        Metric.RESTORE_MINUTES: 50.0,
        Metric.HANDED_BACK_PERCENT: 75.0,
    }
    assert [r["minutes"] for r in recovery["restores"]] == [30.0, 50.0]
    assert recovery["orders_taken"] == 4 and recovery["orders_handed_back"] == 3
    backlog = recovery["backlog"]
    assert len(backlog) == 12
    assert datetime.fromisoformat(backlog[-1]["at"]) == at(14, 10)
    assert (backlog[-1]["taken"], backlog[-1]["handed_back"]) == (4, 3)
    assert backlog[0]["taken"] == 0  # 10:30, before the first manual order


def test_resource_utilisation_compares_held_and_needed_quantity_hours(figures):
    resources = figures[Dimension.RESOURCES]
    rows = {row["kind"]: row for row in resources["by_kind"]}
    assert rows["server"] == {
        "kind": "server",
        "requested": 1,
        "allocated_qty_hours": 7.33,
        "used_qty_hours": 5.33,
    }
    assert rows["storage"]["allocated_qty_hours"] == 0
    assert resources["metrics"][Metric.RESOURCE_USE_PERCENT] == 72.7


def test_collaboration_counts_tasks_on_time_by_role_attendance_and_decisions(figures):
    collaboration = figures[Dimension.COLLABORATION]
    assert collaboration["metrics"] == {
        Metric.TASKS_ON_TIME_PERCENT: 50.0,
        Metric.ATTENDANCE_PERCENT: 83.3,
        Metric.DECISIONS_DONE_PERCENT: 50.0,
    }
    assert collaboration["tasks_by_role"] == [
        {"role": "business_support", "on_time": 1, "late": 1},
        {"role": "tech_support", "on_time": 1, "late": 1},
    ]
    assert collaboration["acknowledgement_delays"] == {
        "acknowledged": 2,
        "not_acknowledged": 1,
        "longest_minutes": 15.0,
    }
    assert [(m["expected"], m["attended"]) for m in collaboration["meetings"]] == [(3, 2), (3, 3)]


def test_customer_satisfaction_is_not_measured_while_customer_care_has_no_cases(figures):
    satisfaction = figures[Dimension.SATISFACTION]
    assert satisfaction["measured"] is False
    assert set(satisfaction["metrics"].values()) == {None}
    assert satisfaction["score"] is None


def test_each_dimension_is_scored_against_the_default_targets(figures):
    scores = {d: figures[d]["score"] for d in Dimension.values}
    assert scores == {
        "response": 100,
        "recovery": 75,
        "resources": 0,
        "collaboration": 33,
        "satisfaction": None,
    }


def test_a_managers_target_changes_the_score():
    scenario = incident_with_known_times()
    Target.objects.create(metric=Metric.RESOURCE_USE_PERCENT, value=Decimal("70"))
    figures = figures_for(scenario.incident)
    assert figures["dimensions"]["resources"]["score"] == 100
    assert figures["targets"][Metric.RESOURCE_USE_PERCENT] == 70.0


def test_an_incident_still_running_shows_not_measured_never_zero():
    incident = IncidentFactory(detected_at=at(10, 0), declared_at=at(10, 10))
    dims = figures_for(incident)["dimensions"]
    assert dims["response"]["metrics"][Metric.DECLARED_TO_ASSEMBLED] is None
    assert dims["response"]["metrics"][Metric.MEAN_ACKNOWLEDGEMENT] is None
    assert dims["recovery"]["metrics"][Metric.DECLARED_TO_RECOVERED] is None
    assert dims["recovery"]["metrics"][Metric.HANDED_BACK_PERCENT] is None
    assert dims["resources"]["metrics"][Metric.RESOURCE_USE_PERCENT] is None
    assert dims["collaboration"]["metrics"][Metric.ATTENDANCE_PERCENT] is None
    assert dims["response"]["score"] == 100  # only detected → declared is measured (10 ≤ 15)
    assert dims["collaboration"]["score"] is None


def test_figures_for_many_incidents_take_a_bounded_number_of_queries():
    for _ in range(3):
        incident_with_known_times()
    with CaptureQueriesContext(connection) as few:
        compute_figures(Incident.objects.all())
    for _ in range(5):
        incident_with_known_times()
    with CaptureQueriesContext(connection) as many:
        result = compute_figures(Incident.objects.all())
    assert len(result) == 8
    assert len(many) == len(few)


def test_the_reviews_figures_are_the_reports_figures():
    for _ in range(2):
        incident_with_known_times()
    incidents = list(Incident.objects.all())
    now = timezone.now()
    full = compute_figures(incidents, now=now)
    rows = review_figures(at(0), at(0, day=3), now=now, targets=current_targets())
    assert [r["id"] for r in rows] == sorted(full)
    for row in rows:
        dims = full[row["id"]]["dimensions"]
        del dims[Dimension.SATISFACTION]  # reviewed per period, not per incident
        assert row["metrics"] == {m: v for d in dims.values() for m, v in d["metrics"].items()}
        assert row["scores"] == {code: d["score"] for code, d in dims.items()}
