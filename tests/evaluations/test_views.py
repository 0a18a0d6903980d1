"""The managers' pages: what they show, what they refuse, who may open them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import Role
from apps.evaluations.models import EvaluationReport, ImprovementAction, PlanChange
from apps.evaluations.services import compute_report, sign_report
from tests.incidents.factories import IncidentFactory

from .factories import at, incident_with_known_times

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, manager, settings):
    client.force_login(manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_an_incident_without_a_report_offers_to_compute_one_and_the_button_does(signed_in):
    incident = incident_with_known_times().incident
    page = signed_in.get(reverse("evaluations:incident-report", args=[incident.pk]))
    assert "Compute the figures" in page.content.decode()
    response = signed_in.post(reverse("evaluations:report-compute", args=[incident.pk]))
    report = EvaluationReport.objects.get(incident=incident)
    assert response["Location"] == reverse("evaluations:report-detail", args=[report.pk])


def test_the_report_page_shows_each_dimension_with_its_chart_and_not_measured(signed_in, manager):
    report = compute_report(incident=incident_with_known_times().incident, by=manager)
    html = signed_in.get(reverse("evaluations:report-detail", args=[report.pk])).content.decode()
    assert html.count("<svg") == 4  # satisfaction is not measured: no chart, no zero
    assert 'role="img"' in html and "<title" in html
    assert "Manual orders: taken vs handed back" in html
    assert "not measured" in html
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>")[0]


def test_a_signed_report_shows_no_narrative_form_and_refuses_a_posted_one(signed_in, manager):
    report = compute_report(incident=IncidentFactory(), by=manager)
    sign_report(report=report, version=None, by=manager)
    html = signed_in.get(reverse("evaluations:report-detail", args=[report.pk])).content.decode()
    assert "Save the narrative" not in html and "Recompute as a new version" in html
    response = signed_in.post(
        reverse("evaluations:report-narrative", args=[report.pk]),
        {"version": report.edit_version + 1, "response": "Rewritten"},
    )
    assert response.status_code == 400
    assert "is signed off and can no longer be edited" in response.content.decode()
    report.refresh_from_db()
    assert report.narratives == {}


def test_an_improvement_action_with_a_past_due_date_keeps_what_was_typed(signed_in, manager):
    report = compute_report(incident=IncidentFactory(), by=manager)
    response = signed_in.post(
        reverse("evaluations:action-create"),
        {
            "report": report.pk,
            "title": "Shorter call tree",
            "category": "people",
            "owner": manager.pk,
            "due": (timezone.localdate() - timedelta(days=2)).isoformat(),
            "dimension": "response",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "has already passed" in html and "Shorter call tree" in html
    assert not ImprovementAction.objects.exists()


def test_the_review_of_an_empty_range_says_so(signed_in):
    response = signed_in.get(
        reverse("evaluations:review"), {"period": "month", "year": 2024, "month": 3}
    )
    assert "No incidents or drills were declared in this range." in response.content.decode()


def test_a_reversed_range_is_explained_on_the_form(signed_in):
    response = signed_in.get(
        reverse("evaluations:review"),
        {"period": "range", "start": "2026-11-10", "end": "2026-11-01"},
    )
    assert "before it starts" in response.content.decode()


def test_the_quarter_review_draws_its_trends(signed_in):
    incident_with_known_times()
    html = signed_in.get(
        reverse("evaluations:review"), {"period": "quarter", "year": 2026, "quarter": 4}
    ).content.decode()
    assert html.count("<svg") == 3
    assert "Time to recover (minutes)" in html


def test_the_review_page_reads_as_many_queries_for_50_incidents_as_for_5(signed_in):
    url = reverse("evaluations:review")
    params = {"period": "quarter", "year": 2026, "quarter": 4}

    def add(days):
        for day in days:
            incident_with_known_times(
                detected_at=at(9, 0, day=day % 28 + 1), declared_at=at(9, 10, day=day % 28 + 1)
            )

    add(range(5))
    signed_in.get(url, params)  # the session and permissions are read once either way
    with CaptureQueriesContext(connection) as few:
        html = signed_in.get(url, params).content.decode()
    assert html.count('href="/evaluations/incidents/') == 5
    add(range(5, 50))
    with CaptureQueriesContext(connection) as many:
        html = signed_in.get(url, params).content.decode()
    assert html.count('href="/evaluations/incidents/') == 50
    assert len(many) == len(few)


def test_a_manager_proposes_and_approves_a_plan_change_then_compares(signed_in):
    signed_in.post(
        reverse("evaluations:plan-propose"),
        {
            "kind": "add",
            "phase": "emergency_response",
            "title_zh": "通知客服",
            "title_en": "Tell customer care",
            "due_after_minutes": 15,
        },
    )
    change = PlanChange.objects.get()
    signed_in.post(reverse("evaluations:plan-decide", args=[change.pk]), {"decision": "approve"})
    html = signed_in.get(reverse("evaluations:plan-compare")).content.decode()
    assert "Tell customer care" in html and "added" in html


@pytest.mark.parametrize("role", [Role.EMERGENCY_LEAD, Role.CARE_AGENT, Role.TECH_SUPPORT])
def test_only_managers_and_admins_see_reports(client, make_user, manager, role):
    report = compute_report(incident=IncidentFactory(), by=manager)
    client.force_login(make_user(role))
    assert client.get(reverse("evaluations:report-detail", args=[report.pk])).status_code == 403
    assert client.get(reverse("evaluations:report-pdf", args=[report.pk])).status_code == 403


def test_an_admin_reads_and_exports_but_cannot_sign(client, make_user, manager):
    report = compute_report(incident=IncidentFactory(), by=manager)
    client.force_login(make_user(Role.ADMIN))
    assert client.get(reverse("evaluations:report-xlsx", args=[report.pk])).status_code == 200
    assert client.post(reverse("evaluations:report-sign", args=[report.pk])).status_code == 403


def test_the_dashboard_shows_the_running_incidents_figures_open_actions_and_rehearsal(
    signed_in, manager
):
    from .factories import ImprovementActionFactory

    incident_with_known_times(
        title="Still running", state="manual_process", recovered_at=None, closed_at=None
    )
    ImprovementActionFactory(owner=manager, title="Call tree")
    html = signed_in.get(reverse("evaluations:dashboard")).content.decode()
    assert "Still running" in html
    assert "Detected → declared (minutes)" in html and "≤ 15" in html
    assert "Last restore rehearsal" in html and "not measured" in html
    assert f"{manager}</strong>: 1" in html


def test_the_board_lists_open_actions_by_owner_and_moves_one_along(signed_in, manager):
    from .factories import ImprovementActionFactory

    late = ImprovementActionFactory(owner=manager, due=timezone.localdate() - timedelta(days=1))
    html = signed_in.get(reverse("evaluations:action-board")).content.decode()
    assert late.title in html and "overdue" in html
    signed_in.post(
        reverse("evaluations:action-state", args=[late.pk]),
        {"state": "done", "version": late.version},
    )
    late.refresh_from_db()
    assert late.state == "done"
    assert late.title not in signed_in.get(reverse("evaluations:action-board")).content.decode()


def test_a_negative_target_is_refused_next_to_its_field_and_a_valid_one_saved(signed_in):
    from apps.evaluations.choices import METRIC_SPEC
    from apps.evaluations.models import Target

    values = {m: spec[2] for m, spec in METRIC_SPEC.items()}
    response = signed_in.post(reverse("evaluations:targets"), {**values, "csat": "-1"})
    assert response.status_code == 400
    assert "A target cannot be negative." in response.content.decode()
    assert not Target.objects.exists()
    signed_in.post(reverse("evaluations:targets"), {**values, "csat": "4.5"})
    assert Target.objects.get(metric="csat").value == Decimal("4.5")
