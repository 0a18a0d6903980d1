"""Drills run on the real tools: an incident flagged as a drill, phase times, the close."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from apps.accounts.roles import Role
from apps.core.errors import DomainError
from apps.core.models import Notification
from apps.drills import services
from apps.drills.choices import DrillPhase, Repeat, RunState
from apps.drills.errors import DrillsError
from apps.drills.models import DrillRun, PhaseTime
from apps.drills.selectors import list_improvement_actions, phase_rows
from apps.evaluations.choices import ActionCategory
from apps.incidents import selectors as incident_selectors
from apps.incidents import services as incident_services
from apps.incidents.choices import IncidentState, TeamRole
from apps.incidents.models import Incident
from tests.incidents.factories import IncidentFactory, TaskTemplateFactory

from .factories import TARGETS, DrillPlanFactory

pytestmark = pytest.mark.django_db


def _plan(manager, people, **kwargs):
    defaults = dict(
        title="Migration left orders inconsistent",
        scheduled_at=timezone.now() + timedelta(days=2),
        participants=people,
        by=manager,
        scenario_category="data_migration",
        scenario_detail="migration_error",
        objectives="Orders by phone within 30 minutes.",
        phase_targets={str(k): v for k, v in TARGETS.items()},
    )
    defaults.update(kwargs)
    return services.plan_drill(**defaults)


# --- planning -------------------------------------------------------------------------------------


def test_planning_a_drill_invites_each_person_in_their_own_language(manager, make_user):
    zh = make_user(Role.TECH_SUPPORT, language="zh-hans")
    en = make_user(Role.BUSINESS_SUPPORT, language="en")
    observer = make_user(Role.EMERGENCY_LEAD, language="en")
    plan = _plan(manager, [zh, en], observers=[observer])
    invites = {n.recipient_id: n for n in Notification.objects.all()}
    assert set(invites) == {zh.pk, en.pk, observer.pk}
    assert "演习" in invites[zh.pk].subject and plan.title in invites[zh.pk].subject
    assert invites[en.pk].subject.startswith("Drill planned")
    assert "an observer" in invites[observer.pk].body
    assert "Data migration" in invites[en.pk].body


def test_an_overlapping_drill_for_the_same_people_is_warned_about(manager, make_user):
    person = make_user(Role.TECH_SUPPORT)
    first = _plan(manager, [person])
    with pytest.raises(DomainError) as exc:
        _plan(
            manager, [person], title="Second", scheduled_at=first.scheduled_at + timedelta(hours=1)
        )
    assert exc.value.code == DrillsError.OVERLAP
    assert exc.value.field == "confirm_overlap"
    second = _plan(
        manager,
        [person],
        title="Second",
        scheduled_at=first.scheduled_at + timedelta(hours=1),
        confirm_overlap=True,
    )
    assert second.pk


def test_drills_for_different_people_or_at_other_times_do_not_overlap(manager, make_user):
    a, b = make_user(Role.TECH_SUPPORT), make_user(Role.TECH_SUPPORT)
    first = _plan(manager, [a])
    _plan(manager, [b], title="Other people", scheduled_at=first.scheduled_at)
    _plan(manager, [a], title="Later", scheduled_at=first.scheduled_at + timedelta(hours=3))


def test_a_repeating_drill_overlapping_a_later_one_is_warned_about(manager, make_user):
    person = make_user(Role.TECH_SUPPORT)
    weekly = _plan(manager, [person], repeat=Repeat.WEEKLY)
    with pytest.raises(DomainError) as exc:
        _plan(
            manager,
            [person],
            title="In week three",
            scheduled_at=weekly.scheduled_at + timedelta(weeks=3),
        )
    assert exc.value.code == DrillsError.OVERLAP


def test_a_repeating_plan_lists_its_dates_until_its_end(manager, make_user):
    start = timezone.now() + timedelta(days=1)
    plan = _plan(
        manager,
        [make_user(Role.TECH_SUPPORT)],
        scheduled_at=start,
        repeat=Repeat.MONTHLY,
        repeat_until=(start + timedelta(days=95)).date(),
    )
    dates = plan.occurrences()
    assert len(dates) == 4
    assert [d.month for d in dates] == [
        (timezone.localtime(start).month - 1 + i) % 12 + 1 for i in range(4)
    ]


def test_a_plan_needs_participants_and_a_repetition_that_ends_after_it_starts(manager, make_user):
    with pytest.raises(DomainError) as exc:
        _plan(manager, [])
    assert exc.value.code == DrillsError.NO_PARTICIPANTS
    with pytest.raises(DomainError) as exc:
        _plan(
            manager,
            [make_user(Role.TECH_SUPPORT)],
            repeat=Repeat.WEEKLY,
            repeat_until=timezone.localdate() - timedelta(days=1),
        )
    assert exc.value.code == DrillsError.ENDS_BEFORE_START


# --- running --------------------------------------------------------------------------------------


def test_starting_a_drill_opens_an_incident_flagged_as_a_drill_with_the_plans_templates(manager):
    chosen = TaskTemplateFactory(title_en="Phone the top customers")
    TaskTemplateFactory(title_en="Not in this drill")
    plan = DrillPlanFactory()
    plan.templates.set([chosen])
    run = services.start_drill(plan=plan, by=manager)
    incident = run.incident
    assert incident.is_drill and incident.state == IncidentState.DECLARED
    assert incident.cause_category == "data_migration"
    assert [t.title_en for t in incident.tasks.all()] == ["Phone the top customers"]
    assert incident.timeline.filter(kind="drills.started").exists()
    assert run.phase_times.get().phase == DrillPhase.DECLARED


def test_a_plan_runs_one_drill_at_a_time(manager):
    plan = DrillPlanFactory()
    first = services.start_drill(plan=plan, by=manager)
    with pytest.raises(DomainError) as exc:
        services.start_drill(plan=plan, by=manager)
    assert exc.value.code == DrillsError.DRILL_ALREADY_RUNNING
    assert exc.value.params == {"id": first.pk}
    assert Incident.objects.filter(is_drill=True).count() == 1


def test_real_incident_figures_exclude_drills_and_drill_reports_include_them(manager):
    real = IncidentFactory(title="Real failure")
    real.team_assembled_at = real.detected_at + timedelta(minutes=20)
    real.save()
    run = services.start_drill(plan=DrillPlanFactory(), by=manager)
    Incident.objects.filter(pk=run.incident.pk).update(
        team_assembled_at=run.incident.detected_at + timedelta(minutes=200)
    )
    figures = incident_selectors.incident_figures()
    assert figures["count"] == 1 and figures["mean_response_minutes"] == 20.0
    drills = incident_selectors.incident_figures(incident_selectors.drill_incidents())
    assert drills["count"] == 1 and drills["mean_response_minutes"] == pytest.approx(200, abs=0.1)
    assert list(incident_selectors.real_incidents()) == [real]


def test_a_real_incident_takes_the_other_apps_events_even_while_a_drill_runs(manager):
    run = services.start_drill(plan=DrillPlanFactory(), by=manager)
    assert incident_selectors.get_open_incident() == run.incident  # only the drill: it practises
    real = IncidentFactory()
    assert incident_selectors.get_open_incident() == real


def _started_hours_ago(run, hours=3):
    DrillRun.objects.filter(pk=run.pk).update(started_at=run.started_at - timedelta(hours=hours))
    run.refresh_from_db()
    return run


def test_phase_times_are_measured_against_the_plans_targets(manager):
    run = _started_hours_ago(services.start_drill(plan=DrillPlanFactory(), by=manager))
    services.record_phase(
        run=run,
        phase=DrillPhase.TEAM_ASSEMBLED,
        at=run.started_at + timedelta(minutes=45),
        by=manager,
    )
    services.record_phase(
        run=run,
        phase=DrillPhase.PROBLEM_LOCATED,
        at=run.started_at + timedelta(minutes=60),
        by=manager,
    )
    rows = {r.phase: r for r in phase_rows(run)}
    assert (rows["team_assembled"].minutes, rows["team_assembled"].target) == (45.0, 30)
    assert rows["team_assembled"].late is True
    assert rows["problem_located"].late is False
    assert rows["recovered"].minutes is None
    entry = run.incident.timeline.filter(kind="drills.phase").first()
    with translation.override("en"):
        assert "45.0 min, target 30 min" in entry.message


def test_a_phase_time_in_the_future_or_before_the_start_is_refused(manager):
    run = services.start_drill(plan=DrillPlanFactory(), by=manager)
    with pytest.raises(DomainError) as exc:
        services.record_phase(
            run=run, phase="recovered", at=timezone.now() + timedelta(hours=1), by=manager
        )
    assert exc.value.code == DrillsError.TIME_IN_FUTURE
    with pytest.raises(DomainError) as exc:
        services.record_phase(
            run=run, phase="recovered", at=run.started_at - timedelta(hours=1), by=manager
        )
    assert exc.value.code == DrillsError.BEFORE_DRILL_START


def test_a_drill_cannot_be_closed_without_its_phase_times(manager):
    run = services.start_drill(plan=DrillPlanFactory(), by=manager)
    with pytest.raises(DomainError) as exc:
        services.close_drill(run=run, by=manager)
    assert exc.value.code == DrillsError.PHASE_TIMES_MISSING
    with translation.override("en"):
        assert "Team assembled" in str(exc.value) and "Recovered" in str(exc.value)
    run.refresh_from_db()
    assert run.state == RunState.RUNNING


def test_phases_worked_on_the_real_incident_tools_count_as_phase_times(manager, make_user):
    run = services.start_drill(plan=DrillPlanFactory(), by=manager)
    incident = run.incident
    lead = make_user(Role.EMERGENCY_LEAD)
    incident_services.assign_member(
        incident=incident, user=lead, team_role=TeamRole.LEADER, by=manager
    )
    for state in ("team_assembled", "investigating", "fixing", "manual_process", "recovered"):
        incident = incident_services.transition(incident=incident, to=state, by=manager)
    run = services.close_drill(run=run, by=manager, went_wrong="Slow to find the leader.")
    assert run.state == RunState.CLOSED
    assert set(run.phase_times.values_list("phase", flat=True)) == set(DrillPhase.values)
    assert PhaseTime.objects.get(run=run, phase="recovered").reached_at == incident.recovered_at
    run.incident.refresh_from_db()
    assert run.incident.state == IncidentState.CLOSED


def _all_phases(run, by):
    for n, phase in enumerate(DrillPhase.values[1:], start=1):
        services.record_phase(run=run, phase=phase, at=run.started_at + timedelta(seconds=n), by=by)


def test_closing_records_what_went_wrong_and_improvement_actions_for_the_evaluations(
    manager, make_user
):
    owner = make_user(Role.TECH_SUPPORT)
    run = services.start_drill(plan=DrillPlanFactory(), by=manager)
    _all_phases(run, manager)
    due = timezone.localdate() + timedelta(days=14)
    run = services.close_drill(
        run=run,
        by=manager,
        went_wrong="The phone list was out of date.",
        actions=[services.ActionInput("Update the phone list", owner, due)],
    )
    action = list_improvement_actions(open_only=True).get()
    assert (action.description, action.owner, action.due, action.source) == (
        "Update the phone list",
        owner,
        due,
        run,
    )
    assert (action.title, action.category, action.created_by) == (
        "Update the phone list",
        ActionCategory.DRILLS,
        manager,
    )
    event = run.incident.timeline.get(kind="drills.closed")
    assert event.params == {"actions": 1}
    assert run.went_wrong == "The phone list was out of date."


def test_an_improvement_action_needs_an_owner_and_a_due_date(manager):
    run = services.start_drill(plan=DrillPlanFactory(), by=manager)
    _all_phases(run, manager)
    with pytest.raises(DomainError) as exc:
        services.close_drill(
            run=run, by=manager, actions=[services.ActionInput("Fix it", None, None)]
        )
    assert exc.value.code == DrillsError.ACTION_INCOMPLETE
    run.refresh_from_db()
    assert run.state == RunState.RUNNING  # nothing of the close was kept


def test_observers_inject_events_and_remarks_as_typed_until_the_drill_closes(manager):
    run = services.start_drill(plan=DrillPlanFactory(), by=manager)
    services.inject(run=run, text="The payment gateway times out", by=manager)
    services.inject(run=run, text="Leader did not confirm the roll call", by=manager, remark=True)
    kinds = list(
        run.incident.timeline.filter(kind__startswith="drills.").values_list("kind", "text")
    )
    assert ("drills.inject", "The payment gateway times out") in kinds
    assert ("drills.remark", "Leader did not confirm the roll call") in kinds
    with pytest.raises(DomainError) as exc:
        services.inject(run=run, text="   ", by=manager)
    assert exc.value.code == DrillsError.EMPTY_TEXT
    _all_phases(run, manager)
    services.close_drill(run=run, by=manager)
    with pytest.raises(DomainError) as exc:
        services.inject(run=run, text="late", by=manager)
    assert exc.value.code == DrillsError.RUN_CLOSED


def test_a_stale_close_form_is_refused(manager):
    run = services.start_drill(plan=DrillPlanFactory(), by=manager)
    _all_phases(run, manager)
    from apps.core.errors import StaleRecord

    with pytest.raises(StaleRecord):
        services.close_drill(run=run, by=manager, version=run.version + 5)


def test_only_a_drill_incident_can_be_closed_outside_the_state_machine(manager):
    real = IncidentFactory()
    with pytest.raises(DomainError):
        incident_services.close_drill_incident(incident=real, by=manager)
    real.refresh_from_db()
    assert real.state == IncidentState.DECLARED
