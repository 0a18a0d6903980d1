"""Drills and evaluations as one product: a real drill (started, timed and closed through
``apps.drills.services``) appears in the evaluations' figures with its phase times, on the
improvement board and in the reminders."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import Role
from apps.drills import services as drills
from apps.drills.choices import DrillPhase
from apps.drills.models import DrillRun
from apps.evaluations import action_selectors, selectors
from apps.evaluations.choices import ActionCategory, Dimension, Metric
from apps.evaluations.figures import compute_figures, figures_for
from apps.evaluations.models import ImprovementAction
from apps.evaluations.services import compute_report, send_action_reminders
from apps.incidents.choices import IncidentState
from apps.incidents.models import Incident
from tests.drills.factories import DrillPlanFactory

from .factories import at, incident_with_known_times, manual_order, restore_run

pytestmark = pytest.mark.django_db

# Minutes from the drill's start at which each phase is recorded on the drills page.
PHASE_MINUTES = {
    DrillPhase.DECLARED: 5,
    DrillPhase.TEAM_ASSEMBLED: 20,
    DrillPhase.PROBLEM_LOCATED: 40,
    DrillPhase.MANUAL_PROCESS: 65,
    DrillPhase.RECOVERED: 95,
}


def _timed_drill(manager, *, actions=()) -> DrillRun:
    """A drill started two hours ago, every phase recorded on the drills page, then closed."""
    run = drills.start_drill(plan=DrillPlanFactory(), by=manager)
    started = timezone.now() - timedelta(hours=2)
    DrillRun.objects.filter(pk=run.pk).update(started_at=started)
    Incident.objects.filter(pk=run.incident_id).update(detected_at=started, declared_at=started)
    run.refresh_from_db()
    for phase, minutes in PHASE_MINUTES.items():
        drills.record_phase(
            run=run, phase=phase, at=started + timedelta(minutes=minutes), by=manager
        )
    return drills.close_drill(
        run=run, by=manager, went_wrong="slow roll call", actions=list(actions)
    )


def _metrics(figures):
    return {m: v for d in figures["dimensions"].values() for m, v in d["metrics"].items()}


def test_a_drill_report_is_timed_on_the_phases_the_drill_recorded(manager):
    run = _timed_drill(manager)
    figures = figures_for(run.incident)
    metrics = _metrics(figures)
    assert figures["incident"]["is_drill"] is True
    assert metrics[Metric.DECLARED_TO_ASSEMBLED] == 15.0  # 5 → 20 minutes
    assert metrics[Metric.DECLARED_TO_MANUAL] == 60.0  # 5 → 65
    assert metrics[Metric.DECLARED_TO_RECOVERED] == 90.0  # 5 → 95
    report = compute_report(incident=run.incident, by=manager)
    assert report.is_drill is True
    recovery = report.figures["dimensions"][Dimension.RECOVERY]["metrics"]
    assert recovery[Metric.DECLARED_TO_RECOVERED] == 90.0


def test_drills_compared_with_real_incidents_split_on_the_real_drill_flag(manager):
    incident_with_known_times()  # a real incident: assembled 20 min, recovered 180 min after
    run = _timed_drill(manager)
    review = selectors.periodic_review(
        *selectors.day_range(run.started_at.date() - timedelta(days=60), timezone.localdate())
    )
    kinds = {r["id"]: r["is_drill"] for r in review.rows}
    assert kinds[run.incident_id] is True and list(kinds.values()).count(False) == 1
    compared = {row["metric"]: (row["real"], row["drill"]) for row in review.comparison}
    assert compared[Metric.DECLARED_TO_ASSEMBLED] == (20.0, 15.0)
    assert compared[Metric.DECLARED_TO_RECOVERED] == (180.0, 90.0)


def test_a_real_incident_keeps_its_own_times_whatever_drills_recorded(manager):
    real = incident_with_known_times().incident
    _timed_drill(manager)
    metrics = _metrics(figures_for(real))
    assert metrics[Metric.DECLARED_TO_ASSEMBLED] == 20.0
    assert metrics[Metric.DECLARED_TO_RECOVERED] == 180.0


def test_a_drills_closing_action_is_on_the_improvement_board(client, manager, make_user):
    owner = make_user(Role.TECH_SUPPORT)
    due = timezone.localdate() + timedelta(days=10)
    run = _timed_drill(manager, actions=[drills.ActionInput("Refresh the call tree", owner, due)])
    action = ImprovementAction.objects.get()
    assert (action.category, action.source, action.title) == (
        ActionCategory.DRILLS,
        run,
        "Refresh the call tree",
    )
    board = action_selectors.action_board()
    assert board["by_owner"][owner] == [action]
    assert board["by_category"] == {ActionCategory.DRILLS: 1}
    client.force_login(manager)
    html = client.get(reverse("evaluations:action-board"), HTTP_ACCEPT_LANGUAGE="en").content
    assert "Refresh the call tree" in html.decode()


def test_a_drills_action_is_reminded_to_its_owner_before_it_is_due(
    manager, make_user, locmem_mail, settings
):
    settings.EVALUATION_REMINDER_DAYS_BEFORE = 3
    owner = make_user(Role.TECH_SUPPORT, language="en")
    due = timezone.localdate() + timedelta(days=2)
    run = _timed_drill(manager)
    drills.add_improvement_action(
        run=run, description="Print the phone list", owner=owner, due_on=due, by=manager
    )
    assert send_action_reminders() == 1
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "Print the phone list" in mail.outbox[0].subject


def test_the_review_gives_each_incident_and_drill_its_reports_figures(manager):
    """The review reads its figures for all incidents at once (in SQL, times as offsets); each
    must be the figure of the incident's own report: a drill on its recorded phase times (its
    window of manual orders and restores included), an incident still open."""
    incident_with_known_times()
    incident_with_known_times(
        detected_at=at(9, 0, day=20),
        declared_at=at(9, 10, day=20),
        team_assembled_at=None,
        manual_process_at=at(9, 40, day=20),
        recovered_at=None,
        closed_at=None,
        state=IncidentState.FIXING,
    )
    run = _timed_drill(manager)
    started = run.started_at
    manual_order(taken=started + timedelta(minutes=2))  # before the drill's recorded declaration
    manual_order(taken=started + timedelta(minutes=30), handed_back=started + timedelta(minutes=90))
    manual_order(taken=started + timedelta(minutes=40))
    restore_run(started=started + timedelta(minutes=3), finished=started + timedelta(minutes=80))
    restore_run(started=started + timedelta(minutes=10), finished=started + timedelta(minutes=41))
    now = timezone.now()

    review = selectors.periodic_review(at(0, day=1), now + timedelta(days=1), now=now)

    reports = compute_figures(Incident.objects.all(), now=now)
    assert sorted(r["id"] for r in review.rows) == sorted(reports)
    for row in review.rows:
        dims = reports[row["id"]]["dimensions"]
        del dims[Dimension.SATISFACTION]  # reviewed per period, not per incident
        assert row["metrics"] == {m: v for d in dims.values() for m, v in d["metrics"].items()}
        assert row["scores"] == {code: d["score"] for code, d in dims.items()}
    drill = next(r for r in review.rows if r["id"] == run.incident_id)
    assert drill["metrics"][Metric.HANDED_BACK_PERCENT] == 50.0  # 1 of the 2 after minute 5
    assert drill["metrics"][Metric.RESTORE_MINUTES] == 31.0  # the one started at minute 10
