from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import Role
from apps.incidents.choices import IncidentState, TaskState, TeamRole
from apps.incidents.models import Incident, Task, TaskTemplate

from .factories import IncidentFactory, TaskFactory

pytestmark = pytest.mark.django_db
LOCAL = "%Y-%m-%dT%H:%M"


def _local(dt):
    return timezone.localtime(dt).strftime(LOCAL)


def test_an_incident_is_declared_from_one_short_form(client, make_user):
    lead = make_user(Role.EMERGENCY_LEAD)
    client.force_login(lead)
    assert client.get(reverse("incidents:incident-declare")).status_code == 200
    response = client.post(
        reverse("incidents:incident-declare"),
        {
            "title": "Order system 5.0 upgrade failed",
            "severity": "critical",
            "detected_at": _local(timezone.now() - timedelta(minutes=3)),
            "impact_business": "high",
            "impact_stability": "high",
            "impact_reputation": "medium",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:incident-detail", args=[incident.pk])
    assert incident.declared_by == lead and incident.tasks.count() == TaskTemplate.objects.count()
    page = client.get(response["Location"]).content.decode()
    assert 'data-state="declared"' in page and 'hx-trigger="every 5s"' in page


def test_a_detection_time_in_the_future_is_shown_next_to_the_field(client, make_user):
    client.force_login(make_user(Role.MANAGER))
    response = client.post(
        reverse("incidents:incident-declare"),
        {
            "title": "x",
            "severity": "low",
            "detected_at": _local(timezone.now() + timedelta(hours=3)),
            "impact_business": "high",
            "impact_stability": "high",
            "impact_reputation": "medium",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "detected_at" in response.context["form"].errors
    assert not Incident.objects.exists()


def test_a_care_agent_sees_the_incident_but_cannot_change_it(client, make_user):
    incident = IncidentFactory()
    client.force_login(make_user(Role.CARE_AGENT))
    page = client.get(reverse("incidents:incident-detail", args=[incident.pk])).content.decode()
    assert reverse("incidents:incident-transition", args=[incident.pk]) not in page
    response = client.post(
        reverse("incidents:incident-transition", args=[incident.pk]),
        {"to": "team_assembled", "version": incident.version},
    )
    assert response.status_code == 403
    assert client.post(reverse("incidents:incident-declare"), {}).status_code == 403


def test_a_stale_form_is_refused_with_a_reload_message(client, make_user):
    lead = make_user(Role.EMERGENCY_LEAD)
    incident = IncidentFactory()
    client.force_login(lead)
    url = reverse("incidents:incident-assessment", args=[incident.pk])
    data = {
        "cause_category": "operator_error",
        "cause_detail": "wrong_step",
        "impact_business": "high",
        "impact_stability": "medium",
        "impact_reputation": "low",
        "version": incident.version,
    }
    assert client.post(url, data).status_code == 302
    data["cause_detail"] = "guide_not_followed"  # a colleague still holds the old version
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Someone else changed this" in response.content.decode()
    incident.refresh_from_db()
    assert incident.cause_detail == "wrong_step"


def test_the_team_and_state_forms_drive_the_incident(client, make_user):
    lead = make_user(Role.EMERGENCY_LEAD)
    incident = IncidentFactory()
    client.force_login(lead)
    client.post(
        reverse("incidents:team-assign", args=[incident.pk]),
        {"team_role": TeamRole.LEADER, "user": lead.pk},
    )
    member = incident.team.get()
    client.post(reverse("incidents:team-acknowledge", args=[incident.pk, member.pk]))
    member.refresh_from_db()
    assert member.acknowledged_at is not None
    client.post(
        reverse("incidents:incident-transition", args=[incident.pk]),
        {"to": IncidentState.TEAM_ASSEMBLED, "version": incident.version, "at": ""},
    )
    incident.refresh_from_db()
    assert incident.state == IncidentState.TEAM_ASSEMBLED and incident.team_assembled_at


def test_the_live_block_and_the_dashboard_card_show_the_open_incident(client, make_user):
    incident = IncidentFactory()
    TaskFactory(
        incident=incident, title_en="Collect logs", due_at=timezone.now() - timedelta(minutes=5)
    )
    client.force_login(make_user(Role.WAREHOUSE_CLERK))
    live = client.get(
        reverse("incidents:incident-live", args=[incident.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Collect logs" in live.content.decode()
    dashboard = client.get(reverse("core:dashboard")).content.decode()
    assert reverse("incidents:open-incident-live") in dashboard and incident.title in dashboard


def test_a_task_is_completed_with_one_click(client, make_user):
    tech = make_user(Role.TECH_SUPPORT)
    task = TaskFactory(owner=tech)
    client.force_login(tech)
    client.post(
        reverse("incidents:task-state", args=[task.pk]),
        {"state": TaskState.DONE, "version": task.version},
    )
    task.refresh_from_db()
    assert task.state == TaskState.DONE and task.completed_by == tech


def test_a_task_given_to_someone_without_the_role_is_refused_on_the_page(client, make_user):
    lead = make_user(Role.EMERGENCY_LEAD)
    task = TaskFactory(team_role=TeamRole.TECH_SUPPORT)
    client.force_login(lead)
    response = client.post(
        reverse("incidents:task-edit", args=[task.pk]),
        {"owner": make_user(Role.CARE_AGENT).pk, "state": "todo", "version": task.version},
    )
    assert response.status_code == 200 and response.context["form"].errors["owner"]
    assert Task.objects.get(pk=task.pk).owner is None


def test_a_manager_edits_the_checklist_templates(client, make_user):
    client.force_login(make_user(Role.MANAGER))
    response = client.post(
        reverse("incidents:template-add"),
        {
            "phase": "resources",
            "title_zh": "准备备用网络线路",
            "title_en": "Prepare a standby network line",
            "team_role": "logistics",
            "due_after_minutes": 90,
            "position": 99,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert TaskTemplate.objects.filter(title_en="Prepare a standby network line").exists()


def test_the_admin_manages_incidents_and_templates_in_the_django_admin(client, make_user):
    incident = IncidentFactory()
    TaskFactory(incident=incident)
    client.force_login(make_user(Role.ADMIN))
    for url in (
        "/admin/incidents/incident/",
        f"/admin/incidents/incident/{incident.pk}/change/",
        "/admin/incidents/tasktemplate/",
        "/admin/incidents/tasktemplate/add/",
        "/admin/incidents/task/",
        "/admin/incidents/timelineentry/",
        "/admin/incidents/readinesscheck/",
    ):
        assert client.get(url).status_code == 200, url
