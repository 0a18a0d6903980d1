"""The drill pages: who may do what, forms that say what is wrong, the drill badge."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import Role
from apps.drills.models import DrillPlan, DrillRun
from apps.incidents.models import Incident

from .factories import DrillPlanFactory, DrillRunFactory, TrainingSessionFactory

pytestmark = pytest.mark.django_db


def test_only_managers_and_the_emergency_lead_plan_and_start_drills(client, make_user):
    plan = DrillPlanFactory()
    for role, allowed in (
        (Role.MANAGER, True),
        (Role.EMERGENCY_LEAD, True),
        (Role.TECH_SUPPORT, False),
        (Role.WAREHOUSE_CLERK, False),
    ):
        client.force_login(make_user(role))
        assert (client.get(reverse("drills:plan-add")).status_code == 200) is allowed, role
        response = client.post(reverse("drills:drill-start", args=[plan.pk]))
        assert (response.status_code == 302) is allowed, role
        DrillRun.objects.all().delete()
        Incident.objects.all().delete()
    client.force_login(make_user(Role.WAREHOUSE_CLERK))
    assert client.get(reverse("drills:plan-list")).status_code == 403
    assert client.get(reverse("drills:matrix")).status_code == 403
    assert client.get(reverse("drills:training")).status_code == 200


def test_only_tech_support_managers_and_admins_start_restore_rehearsals(client, make_user):
    for role, allowed in (
        (Role.TECH_SUPPORT, True),
        (Role.MANAGER, True),
        (Role.EMERGENCY_LEAD, False),
    ):
        client.force_login(make_user(role))
        status = client.post(reverse("drills:rehearsal-start"), {"target": "x"}).status_code
        assert (status != 403) is allowed, role


def test_the_plan_form_keeps_what_was_typed_and_shows_the_overlap_warning(client, make_user):
    manager = make_user(Role.MANAGER, language="en")
    person = make_user(Role.TECH_SUPPORT)
    existing = DrillPlanFactory(participants=[person])
    client.force_login(manager)
    when = timezone.localtime(existing.scheduled_at + timedelta(minutes=30))
    data = {
        "title": "Clashing drill",
        "severity": "critical",
        "scheduled_at": when.strftime("%Y-%m-%d %H:%M"),
        "duration_minutes": 60,
        "repeat": "none",
        "participants": [person.pk],
        "target_declared": 5,
        "target_team_assembled": 30,
        "target_problem_located": 60,
        "target_manual_process": 90,
        "target_recovered": 120,
    }
    response = client.post(reverse("drills:plan-add"), data, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200 and "overlaps another drill" in html
    assert "Clashing drill" in html
    data["confirm_overlap"] = "on"
    response = client.post(reverse("drills:plan-add"), data)
    assert response.status_code == 302
    assert DrillPlan.objects.filter(title="Clashing drill").exists()


def test_the_incident_list_and_dashboard_show_a_drill_unmistakably(client, make_user):
    run = DrillRunFactory()
    client.force_login(make_user(Role.MANAGER))
    listing = client.get(reverse("incidents:incident-list")).content.decode()
    assert 'data-testid="drill-badge"' in listing
    dashboard = client.get(reverse("core:dashboard")).content.decode()
    assert 'data-testid="drill-badge"' in dashboard
    detail = client.get(reverse("incidents:incident-detail", args=[run.incident_id])).content
    assert b'data-testid="drill-badge"' in detail


def test_a_real_incident_carries_no_drill_badge(client, make_user):
    from tests.incidents.factories import IncidentFactory

    incident = IncidentFactory()
    client.force_login(make_user(Role.MANAGER))
    detail = client.get(reverse("incidents:incident-detail", args=[incident.pk])).content
    assert b'data-testid="drill-badge"' not in detail


def test_attendance_is_not_offered_before_the_session_starts(client, make_user):
    session = TrainingSessionFactory(starts_at=timezone.now() + timedelta(days=2))
    client.force_login(make_user(Role.MANAGER))
    html = client.get(reverse("drills:session-detail", args=[session.pk])).content.decode()
    assert reverse("drills:attendance-record", args=[session.pk]) not in html


def test_drill_pages_list_the_drills_actions_kept_by_the_evaluations(client, make_user):
    from apps.drills import services
    from apps.evaluations.services import create_improvement_action

    manager = make_user(Role.MANAGER, language="en")
    run = services.start_drill(plan=DrillPlanFactory(title="Payment outage"), by=manager)
    due = timezone.localdate() + timedelta(days=5)
    services.add_improvement_action(
        run=run, description="Rehearse the call tree", owner=manager, due_on=due, by=manager
    )
    # An action from another finding is not a drill's.
    create_improvement_action(
        title="Reword the apology", category="process", owner=manager, due=due, by=manager
    )
    client.force_login(manager)
    listing = client.get(reverse("drills:plan-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Rehearse the call tree" in listing and "Reword the apology" not in listing
    assert reverse("drills:run-detail", args=[run.pk]) in listing
    assert reverse("evaluations:action-board") in listing
    page = client.get(reverse("drills:run-detail", args=[run.pk])).content.decode()
    assert "Rehearse the call tree" in page and "Reword the apology" not in page


def test_an_action_due_in_the_past_is_refused_with_what_was_typed_kept(client, make_user):
    from apps.core.errors import DomainError
    from apps.drills import services
    from apps.evaluations.errors import EvaluationError
    from apps.evaluations.models import ImprovementAction

    manager = make_user(Role.MANAGER, language="en")
    run = services.start_drill(plan=DrillPlanFactory(), by=manager)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    client.force_login(manager)
    response = client.post(
        reverse("drills:action-add", args=[run.pk]),
        {"description": "Fix the roster", "owner": manager.pk, "due_on": yesterday},
    )
    assert response.status_code == 200
    form = response.context["form"]
    refusal = DomainError(EvaluationError.DUE_IN_PAST, params={"due": yesterday})
    assert str(refusal) in form.non_field_errors()
    assert form["description"].value() == "Fix the roster"
    assert not ImprovementAction.objects.exists()
