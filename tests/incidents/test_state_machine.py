from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.roles import Role
from apps.core.errors import CoreError
from apps.incidents import services
from apps.incidents.choices import ALLOWED_TRANSITIONS, IncidentState, Severity, TeamRole
from apps.incidents.errors import IncidentsError
from apps.incidents.models import Incident, IncidentTransition
from tests.codes import raises_code

S = IncidentState
pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(make_user):
    return make_user(Role.EMERGENCY_LEAD)


@pytest.fixture
def incident(lead):
    return services.declare_incident(
        title="Order system 5.0 upgrade failed",
        severity=Severity.CRITICAL,
        detected_at=timezone.now() - timedelta(minutes=20),
        by=lead,
    )


def _with_leader(incident, lead):
    services.assign_member(incident=incident, user=lead, team_role=TeamRole.LEADER, by=lead)


HAPPY_PATH = [
    S.TEAM_ASSEMBLED,
    S.INVESTIGATING,
    S.FIXING,
    S.MANUAL_PROCESS,
    S.RECOVERED,
    S.MONITORING,
    S.CLOSED,
    S.REVIEWED,
]


def test_declaring_records_the_declared_state_with_time_and_author(incident, lead):
    (row,) = IncidentTransition.objects.filter(incident=incident)
    assert (row.from_state, row.to_state, row.by) == ("", S.DECLARED, lead)
    assert incident.state == S.DECLARED and incident.declared_at == row.at
    assert incident.declared_by == lead


def test_an_incident_walks_the_whole_plan_with_every_step_timestamped_and_attributed(
    incident, lead
):
    _with_leader(incident, lead)
    for state in HAPPY_PATH:
        incident = services.transition(incident=incident, to=state, by=lead)
    incident.refresh_from_db()
    assert incident.state == S.REVIEWED
    rows = list(incident.transitions.all())
    assert [r.to_state for r in rows] == [S.DECLARED, *HAPPY_PATH]
    assert all(r.by == lead for r in rows)
    for state in HAPPY_PATH:
        assert incident.entered_at(state) is not None
    assert incident.response_time and incident.recovery_time


@pytest.mark.parametrize(
    "start,target",
    [
        (start, target)
        for start in S.values
        for target in S.values
        if target not in ALLOWED_TRANSITIONS[start]
    ],
)
def test_illegal_jumps_are_refused_with_a_clear_message(lead, start, target):
    from tests.incidents.factories import IncidentFactory

    incident = IncidentFactory(state=start)
    with raises_code(IncidentsError.INCIDENT_TRANSITION) as error:
        services.transition(incident=incident, to=target, by=lead)
    assert error.value.params == {
        "from": IncidentState(start).label,
        "to": IncidentState(target).label,
    }
    incident.refresh_from_db()
    assert incident.state == start
    assert incident.transitions.count() == 1


def test_jumping_from_declared_straight_to_recovered_is_refused(incident, lead):
    with raises_code(IncidentsError.INCIDENT_TRANSITION):
        services.transition(incident=incident, to=S.RECOVERED, by=lead)


def test_the_team_is_not_assembled_without_a_leader(incident, lead):
    with raises_code(IncidentsError.NO_LEADER):
        services.transition(incident=incident, to=S.TEAM_ASSEMBLED, by=lead)


def test_a_state_entered_twice_keeps_its_first_timestamp(incident, lead):
    _with_leader(incident, lead)
    for state in (S.TEAM_ASSEMBLED, S.INVESTIGATING, S.FIXING):
        incident = services.transition(incident=incident, to=state, by=lead)
    first_investigation = incident.investigating_at
    first_fix = incident.fixing_at
    incident = services.transition(incident=incident, to=S.INVESTIGATING, by=lead, note="relapse")
    incident = services.transition(incident=incident, to=S.FIXING, by=lead)
    incident.refresh_from_db()
    assert incident.investigating_at == first_investigation
    assert incident.fixing_at == first_fix
    assert incident.transitions.filter(to_state=S.INVESTIGATING).count() == 2


def test_staff_may_record_when_a_step_really_happened(lead):
    from tests.incidents.factories import IncidentFactory

    incident = IncidentFactory()  # declared five minutes ago
    _with_leader(incident, lead)
    when = timezone.now() - timedelta(minutes=2)
    incident = services.transition(incident=incident, to=S.TEAM_ASSEMBLED, by=lead, at=when)
    assert incident.team_assembled_at == when


def test_a_transition_time_in_the_future_is_refused(incident, lead):
    _with_leader(incident, lead)
    with raises_code(IncidentsError.TIME_IN_FUTURE):
        services.transition(
            incident=incident,
            to=S.TEAM_ASSEMBLED,
            by=lead,
            at=timezone.now() + timedelta(hours=1),
        )
    incident.refresh_from_db()
    assert incident.team_assembled_at is None


def test_a_transition_time_before_the_declaration_is_refused(incident, lead):
    _with_leader(incident, lead)
    with raises_code(IncidentsError.BEFORE_DECLARATION):
        services.transition(
            incident=incident,
            to=S.TEAM_ASSEMBLED,
            by=lead,
            at=incident.declared_at - timedelta(hours=1),
        )


def test_a_transition_time_before_the_previous_one_is_refused(incident, lead):
    _with_leader(incident, lead)
    services.transition(incident=incident, to=S.TEAM_ASSEMBLED, by=lead)
    with raises_code(IncidentsError.BEFORE_PREVIOUS_CHANGE):
        services.transition(incident=incident, to=S.INVESTIGATING, by=lead, at=incident.declared_at)


def test_a_detection_time_in_the_future_is_refused(lead):
    with raises_code(IncidentsError.TIME_IN_FUTURE):
        services.declare_incident(
            title="x",
            severity=Severity.LOW,
            detected_at=timezone.now() + timedelta(hours=2),
            by=lead,
        )
    assert not Incident.objects.exists()


def test_two_staff_changing_the_same_incident_do_not_lose_an_update(incident, lead):
    _with_leader(incident, lead)
    seen_by_both = incident.version
    services.transition(incident=incident, to=S.TEAM_ASSEMBLED, by=lead, version=seen_by_both)
    with raises_code(CoreError.STALE):
        services.update_assessment(
            incident=incident, version=seen_by_both, by=lead, cause_category="data_migration"
        )
    incident.refresh_from_db()
    assert incident.state == S.TEAM_ASSEMBLED and incident.cause_category == ""


def test_cause_and_impact_are_refined_with_the_plans_categories(incident, lead):
    incident = services.update_assessment(
        incident=incident,
        version=incident.version,
        by=lead,
        cause_category="data_migration",
        cause_detail="db_incompatible",
        impact_order_backlog=True,
        impact_reputation="high",
    )
    assert (incident.cause_category, incident.cause_detail) == ("data_migration", "db_incompatible")
    assert incident.timeline.filter(kind="incident.assessment").exists()
    with raises_code(IncidentsError.SUBCAUSE_MISMATCH):
        services.update_assessment(
            incident=incident,
            version=incident.version,
            by=lead,
            cause_category="security",
            cause_detail="hardware",
        )
