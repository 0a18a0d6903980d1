"""Rules added after review: lazy headings, closed incidents are final, locked decisions,
bounded quantities, due times to the minute and tampered input answered without a 500."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise

from apps.accounts.roles import Role
from apps.core.errors import CoreError
from apps.incidents import services, views
from apps.incidents.choices import IncidentState, Phase, ResourceState, Severity, TaskState
from apps.incidents.errors import IncidentsError
from apps.incidents.forms import ResourceForm
from apps.incidents.models import (
    Meeting,
    MeetingDecision,
    ReadinessItem,
    ResourceAllocation,
    Task,
    TimelineEntry,
)
from tests.codes import raises_code

from .factories import (
    IncidentFactory,
    MeetingDecisionFactory,
    ReadinessCheckFactory,
    ResourceFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db
LOCAL = "%Y-%m-%dT%H:%M"


# --- 1. class-level texts are translated per request, not at import --------------------------------


def test_view_headings_and_success_messages_are_lazy_and_follow_the_request_language(
    client, make_user
):
    for view in vars(views).values():
        if isinstance(view, type) and issubclass(view, views.IncidentFormView):
            for attr in ("heading", "success_message"):
                value = getattr(view, attr)
                assert not value or isinstance(value, Promise), (view.__name__, attr)
    client.force_login(make_user(Role.EMERGENCY_LEAD))
    url = reverse("incidents:incident-assessment", args=[IncidentFactory().pk])
    assert "Cause and impact" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "原因与影响" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


# --- 2. closed and reviewed incidents are final -----------------------------------------------------


def _change_attempts(incident, by):
    task = TaskFactory(incident=incident)
    resource = ResourceFactory(incident=incident)
    decision = MeetingDecisionFactory(meeting__incident=incident)
    return {
        "update_assessment": lambda: services.update_assessment(
            incident=incident, version=incident.version, by=by, cause_notes="later"
        ),
        "add_task": lambda: services.add_task(
            incident=incident, title="Late task", phase=Phase.PROBLEM_FIX, by=by
        ),
        "update_task": lambda: services.update_task(
            task=task, version=task.version, by=by, owner=None, due_at=None
        ),
        "set_task_state": lambda: services.set_task_state(
            task=task, state=TaskState.DONE, by=by, version=task.version
        ),
        "task_from_decision": lambda: services.task_from_decision(
            decision=decision, phase=Phase.PROBLEM_FIX, by=by
        ),
        "request_resource": lambda: services.request_resource(
            incident=incident, kind="server", description="x", quantity=Decimal(1), by=by
        ),
        "move_resource": lambda: services.move_resource(
            resource=resource, to=ResourceState.ALLOCATED, by=by
        ),
        "record_meeting": lambda: services.record_meeting(
            incident=incident,
            held_at=timezone.now(),
            title="Too late",
            attendees=[by],
            minutes="-",
            decisions=["x"],
            by=by,
        ),
        "assign_member": lambda: services.assign_member(
            incident=incident, user=by, team_role="leader", by=by
        ),
    }


@pytest.mark.parametrize("state", [IncidentState.CLOSED, IncidentState.REVIEWED])
def test_a_closed_or_reviewed_incident_can_no_longer_be_changed(make_user, state):
    lead = make_user(Role.EMERGENCY_LEAD)
    incident = IncidentFactory(state=state)
    attempts = _change_attempts(incident, lead)
    counts = (Task.objects.count(), ResourceAllocation.objects.count(), Meeting.objects.count())
    for name, attempt in attempts.items():
        with raises_code(IncidentsError.CLOSED, IncidentsError.REVIEWED):
            attempt()
            pytest.fail(f"{name} changed a {state} incident")
    assert (
        Task.objects.count(),
        ResourceAllocation.objects.count(),
        Meeting.objects.count(),
    ) == counts
    assert not Task.objects.filter(state=TaskState.DONE).exists()
    assert not ResourceAllocation.objects.filter(state=ResourceState.ALLOCATED).exists()
    assert not MeetingDecision.objects.filter(task__isnull=False).exists()
    assert not incident.timeline.exists() and not incident.team.exists()


def test_a_closed_incident_still_takes_notes_for_its_review_but_a_reviewed_one_does_not(
    client, make_user
):
    lead = make_user(Role.EMERGENCY_LEAD)
    closed = IncidentFactory(state=IncidentState.CLOSED)
    services.add_note(incident=closed, text="Review: the runbook missed a step", by=lead)
    assert closed.timeline.filter(kind="note").count() == 1
    reviewed = IncidentFactory(state=IncidentState.REVIEWED)
    with raises_code(IncidentsError.REVIEWED):
        services.add_note(incident=reviewed, text="Too late", by=lead)
    client.force_login(lead)
    response = client.post(
        reverse("incidents:note-add", args=[reviewed.pk]),
        {"text": "Too late"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200 and "has been reviewed" in response.content.decode()
    assert not reviewed.timeline.exists()


# --- 3. a decision becomes one task, under a lock ---------------------------------------------------


def test_a_decision_is_locked_and_rechecked_before_it_becomes_a_task(make_user):
    lead = make_user(Role.EMERGENCY_LEAD)
    decision = MeetingDecisionFactory()
    stale = MeetingDecision.objects.get(pk=decision.pk)  # read before a colleague acted
    with CaptureQueriesContext(connection) as queries:
        services.task_from_decision(decision=decision, phase=Phase.PROBLEM_FIX, by=lead)
    table = MeetingDecision._meta.db_table
    assert any(table in q["sql"] and "FOR UPDATE" in q["sql"] for q in queries.captured_queries)
    assert stale.task_id is None
    with raises_code(IncidentsError.DECISION_HAS_TASK):
        services.task_from_decision(decision=stale, phase=Phase.PROBLEM_FIX, by=lead)
    assert Task.objects.filter(incident=decision.meeting.incident).count() == 1


# --- 4. quantities fit the column -------------------------------------------------------------------


def test_a_resource_quantity_too_large_for_the_column_is_refused_not_a_500(client, make_user):
    logistics = make_user(Role.LOGISTICS)
    incident = IncidentFactory()
    data = {"kind": "server", "description": "Servers", "quantity": "123456789012", "unit": ""}
    form = ResourceForm(data)
    assert not form.is_valid() and "quantity" in form.errors
    client.force_login(logistics)
    response = client.post(reverse("incidents:resource-request", args=[incident.pk]), data)
    assert response.status_code == 200
    with raises_code(CoreError.INVALID) as caught:
        services.request_resource(
            incident=incident,
            kind="server",
            description="Servers",
            quantity=Decimal("123456789012"),
            by=logistics,
        )
    assert caught.value.field == "quantity"
    assert not ResourceAllocation.objects.exists()


# --- 5. due times are kept to the minute ------------------------------------------------------------


def test_task_due_times_are_kept_to_the_minute_so_saving_a_task_changes_nothing(client, make_user):
    lead = make_user(Role.EMERGENCY_LEAD)
    incident = services.declare_incident(
        title="Upgrade failed",
        severity=Severity.HIGH,
        detected_at=timezone.now() - timedelta(minutes=5),
        by=lead,
    )
    tasks = list(incident.tasks.all())
    assert tasks and all(t.due_at.second == 0 and t.due_at.microsecond == 0 for t in tasks)
    # A task whose stored time still has seconds: saving the form (minutes only) keeps it.
    task = TaskFactory(incident=incident, due_at=timezone.now() + timedelta(hours=1, seconds=17))
    client.force_login(lead)
    client.post(
        reverse("incidents:task-edit", args=[task.pk]),
        {
            "owner": "",
            "due_at": timezone.localtime(task.due_at).strftime(LOCAL),
            "state": task.state,
            "version": task.version,
        },
    )
    saved = Task.objects.get(pk=task.pk)
    assert saved.due_at == task.due_at and saved.version == task.version
    assert not TimelineEntry.objects.filter(incident=incident, data__task=task.pk).exists()
    # A real change is recorded, to the minute.
    later = timezone.localtime(task.due_at + timedelta(minutes=30))
    services.update_task(task=saved, version=saved.version, by=lead, owner=None, due_at=later)
    saved.refresh_from_db()
    assert saved.due_at == later.replace(second=0, microsecond=0)


# --- 6. tampered input is answered, not a 500 -------------------------------------------------------


def test_tampered_task_buttons_and_readiness_items_are_answered_not_a_500(client, make_user):
    lead = make_user(Role.EMERGENCY_LEAD)
    task = TaskFactory()
    client.force_login(lead)
    url = reverse("incidents:task-state", args=[task.pk])
    response = client.post(url, {"state": "exploded", "version": task.version})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)]
    response = client.post(url, {"state": TaskState.DONE, "version": "abc"})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)]
    task.refresh_from_db()
    assert task.state == TaskState.TODO and task.version == 1
    with raises_code(IncidentsError.UNKNOWN_STATE):
        services.set_task_state(task=task, state="exploded", by=lead, version=task.version)
    with raises_code(CoreError.INCOMPLETE_FORM):
        services.set_task_state(task=task, state=TaskState.DONE, by=lead, version="abc")
    check = ReadinessCheckFactory()
    act = reverse("incidents:readiness-act", args=[check.pk])
    assert client.post(act, {"action": "pass", "item": "abc"}).status_code == 404
    assert client.post(act, {"action": "pass"}).status_code == 404
    assert not ReadinessItem.objects.exclude(state="pending").exists()
