import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone, translation

from apps.accounts.roles import Role
from apps.core.errors import CoreError
from apps.core.models import Notification
from apps.incidents import services
from apps.incidents.choices import (
    Phase,
    ResourceState,
    Severity,
    TaskState,
    TeamRole,
)
from apps.incidents.errors import IncidentsError
from apps.incidents.models import Task, TaskTemplate
from tests.codes import raises_code

from .factories import IncidentFactory, MeetingDecisionFactory, TaskFactory, TaskTemplateFactory

pytestmark = pytest.mark.django_db


def _declare(by, **kwargs):
    return services.declare_incident(
        title="Upgrade failed",
        severity=Severity.HIGH,
        detected_at=timezone.now() - timedelta(minutes=5),
        by=by,
        **kwargs,
    )


# --- templates ------------------------------------------------------------------------------------


def test_a_declared_incident_gets_every_active_template_as_a_task(make_user):
    lead = make_user(Role.EMERGENCY_LEAD)
    TaskTemplateFactory(is_active=False, title_en="Retired step")
    active = TaskTemplate.objects.filter(is_active=True)
    incident = _declare(lead)
    tasks = incident.tasks.all()
    assert tasks.count() == active.count() >= 15
    assert {t.phase for t in tasks} == set(Phase.values)
    assert not tasks.filter(title_en="Retired step").exists()
    stop = tasks.get(template__title_en__startswith="Stop the upgrade")
    assert stop.team_role == TeamRole.TECH_SUPPORT
    due = incident.declared_at + timedelta(minutes=stop.template.due_after_minutes)
    assert stop.due_at == due.replace(second=0, microsecond=0)  # kept to the minute
    with translation.override("en"):
        assert stop.title.startswith("Stop the upgrade")
    with translation.override("zh-hans"):
        assert stop.title == "立即停止升级操作，保护现场"


def test_a_template_edited_by_a_manager_shapes_the_next_incident_only(make_user):
    lead = make_user(Role.EMERGENCY_LEAD)
    first = _declare(lead)
    template = TaskTemplate.objects.get(title_en="Arrange staff shifts")
    template.title_en = "Arrange staff shifts for 24 hours"
    manager = make_user(Role.MANAGER)
    services.save_task_template(template=template, by=manager)
    second = _declare(lead)
    assert first.tasks.filter(title_en="Arrange staff shifts").exists()
    assert second.tasks.filter(title_en="Arrange staff shifts for 24 hours").exists()
    assert template.history.first().history_user == manager  # audited


# --- team -----------------------------------------------------------------------------------------


def test_a_member_is_assigned_by_role_notified_by_mail_and_sms_and_acknowledges(make_user, sms_dir):
    lead = make_user(Role.EMERGENCY_LEAD)
    tech = make_user(Role.TECH_SUPPORT, language="en", phone="13900000001")
    incident = _declare(lead)
    member = services.assign_member(
        incident=incident,
        user=tech,
        team_role=TeamRole.TECH_SUPPORT,
        by=lead,
        incident_url="http://x/1/",
    )
    (message,) = mail.outbox
    assert message.to == [tech.email]
    assert "Tech support" in message.subject and "http://x/1/" in message.body
    (sms,) = list(sms_dir.glob("*.json"))
    assert json.loads(sms.read_text())["phone"] == "13900000001"
    assert Notification.objects.filter(recipient=tech).count() == 2
    # Template tasks for that team role now have an owner.
    assert incident.tasks.filter(team_role=TeamRole.TECH_SUPPORT, owner=tech).exists()

    with raises_code(IncidentsError.NOT_YOUR_ASSIGNMENT):
        services.acknowledge_assignment(member=member, by=lead)
    member = services.acknowledge_assignment(member=member, by=tech)
    first = member.acknowledged_at
    assert first is not None
    assert services.acknowledge_assignment(member=member, by=tech).acknowledged_at == first


def test_notices_reach_each_member_in_their_own_language(make_user):
    lead = make_user(Role.MANAGER)
    zh = make_user(Role.LOGISTICS, language="zh-hans", phone="")
    incident = _declare(lead)
    services.assign_member(incident=incident, user=zh, team_role=TeamRole.LOGISTICS, by=lead)
    (message,) = mail.outbox
    assert message.to == [zh.email]
    # Without the lead's Chinese catalog yet, at least the incident is named.
    assert str(incident) in message.body


@pytest.mark.parametrize(
    "role,team_role",
    [
        (Role.TECH_SUPPORT, TeamRole.LEADER),
        (Role.CARE_AGENT, TeamRole.BUSINESS_SUPPORT),
        (Role.BUSINESS_SUPPORT, TeamRole.LOGISTICS),
        (Role.WAREHOUSE_CLERK, TeamRole.TECH_SUPPORT),
    ],
)
def test_a_member_without_the_role_is_refused(make_user, role, team_role):
    lead = make_user(Role.EMERGENCY_LEAD)
    incident = IncidentFactory()
    with raises_code(IncidentsError.ROLE_NOT_HELD):
        services.assign_member(
            incident=incident, user=make_user(role), team_role=team_role, by=lead
        )
    assert not incident.team.exists()


def test_a_manager_or_the_emergency_lead_may_lead(make_user):
    incident = IncidentFactory()
    for role in (Role.MANAGER, Role.EMERGENCY_LEAD):
        services.assign_member(
            incident=incident, user=make_user(role), team_role=TeamRole.LEADER, by=None
        )
    assert incident.team.filter(team_role=TeamRole.LEADER).count() == 2


# --- tasks ----------------------------------------------------------------------------------------


def test_a_task_assigned_to_someone_without_the_role_is_refused(make_user):
    task = TaskFactory(team_role=TeamRole.TECH_SUPPORT)
    lead = make_user(Role.EMERGENCY_LEAD)
    with raises_code(IncidentsError.OWNER_ROLE):
        services.update_task(
            task=task, version=task.version, by=lead, owner=make_user(Role.LOGISTICS)
        )
    task.refresh_from_db()
    assert task.owner is None
    with raises_code(IncidentsError.OWNER_ROLE):
        services.add_task(
            incident=task.incident,
            title="Count stock",
            phase=Phase.BUSINESS_RECOVERY,
            by=lead,
            owner=make_user(Role.CARE_AGENT),
        )


def test_completing_a_task_records_who_and_when(make_user):
    tech = make_user(Role.TECH_SUPPORT)
    task = TaskFactory(owner=tech)
    task = services.set_task_state(task=task, state=TaskState.DONE, by=tech, version=task.version)
    assert task.state == TaskState.DONE and task.completed_by == tech and task.completed_at
    assert task.incident.timeline.filter(kind="task.updated").exists()


def test_two_staff_editing_one_task_do_not_lose_an_update(make_user):
    tech, other = make_user(Role.TECH_SUPPORT), make_user(Role.TECH_SUPPORT)
    task = TaskFactory()
    stale = task.version
    services.update_task(task=task, version=stale, by=tech, owner=tech, due_at=task.due_at)
    with raises_code(CoreError.STALE):
        services.update_task(task=task, version=stale, by=other, owner=other, due_at=task.due_at)
    task.refresh_from_db()
    assert task.owner == tech and task.version == stale + 1


def test_a_task_due_before_the_declaration_is_refused(make_user):
    incident = IncidentFactory()
    with raises_code(IncidentsError.DUE_BEFORE_DECLARATION):
        services.add_task(
            incident=incident,
            title="Too late",
            phase=Phase.PROBLEM_FIX,
            by=make_user(Role.EMERGENCY_LEAD),
            due_at=incident.declared_at - timedelta(hours=3),
        )


def test_overdue_tasks_are_listed_for_the_dashboard():
    from apps.incidents.selectors import live_summary

    incident = IncidentFactory()
    late = TaskFactory(incident=incident, due_at=timezone.now() - timedelta(minutes=1))
    TaskFactory(incident=incident, state=TaskState.DONE, due_at=timezone.now() - timedelta(hours=1))
    TaskFactory(incident=incident)
    assert live_summary(incident)["overdue"] == [late]


# --- resources and meetings -----------------------------------------------------------------------


def test_resources_are_requested_allocated_and_released_with_times(make_user):
    logistics = make_user(Role.LOGISTICS)
    incident = IncidentFactory()
    resource = services.request_resource(
        incident=incident,
        kind="storage",
        description="Backup disk array",
        quantity=Decimal("4"),
        unit="TB",
        by=logistics,
    )
    resource = services.move_resource(resource=resource, to=ResourceState.ALLOCATED, by=logistics)
    resource = services.move_resource(resource=resource, to=ResourceState.RELEASED, by=logistics)
    assert resource.requested_at <= resource.allocated_at <= resource.released_at
    assert resource.hours_in_use is not None
    with raises_code(IncidentsError.RESOURCE_TRANSITION):
        services.move_resource(resource=resource, to=ResourceState.ALLOCATED, by=logistics)
    assert incident.timeline.filter(kind__startswith="resource.").count() == 3


def test_a_resource_request_time_in_the_future_is_refused(make_user):
    with raises_code(IncidentsError.TIME_IN_FUTURE):
        services.request_resource(
            incident=IncidentFactory(),
            kind="server",
            description="x",
            quantity=Decimal(1),
            by=make_user(Role.LOGISTICS),
            at=timezone.now() + timedelta(days=1),
        )


def test_a_meeting_decision_spawns_a_task(make_user):
    lead = make_user(Role.EMERGENCY_LEAD)
    incident = IncidentFactory()
    meeting = services.record_meeting(
        incident=incident,
        held_at=timezone.now(),
        title="First coordination",
        attendees=[lead],
        minutes="Backups are intact.",
        decisions=["Restore orders from the 10:00 backup", "", "Open manual order taking"],
        by=lead,
    )
    assert meeting.decisions.count() == 2
    decision = meeting.decisions.first()
    task = services.task_from_decision(decision=decision, phase=Phase.PROBLEM_FIX, by=lead)
    assert task.incident == incident and task.title_zh == decision.text
    decision.refresh_from_db()
    assert decision.task == task
    with raises_code(IncidentsError.DECISION_HAS_TASK):
        services.task_from_decision(decision=decision, phase=Phase.PROBLEM_FIX, by=lead)


def test_a_meeting_before_the_declaration_is_refused(make_user):
    decision = MeetingDecisionFactory()
    incident = decision.meeting.incident
    with raises_code(IncidentsError.BEFORE_DECLARATION):
        services.record_meeting(
            incident=incident,
            held_at=incident.declared_at - timedelta(days=1),
            title="x",
            attendees=[],
            minutes="",
            decisions=[],
            by=None,
        )
    assert Task.objects.count() == 0
