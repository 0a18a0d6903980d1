"""Reports: computed into a draft, signed off and frozen; recomputing makes a new version."""

import pytest
from django.db import IntegrityError

from apps.core.errors import DomainError
from apps.evaluations.choices import Dimension, Metric, ReportState
from apps.evaluations.errors import EvaluationError
from apps.evaluations.models import EvaluationReport
from apps.evaluations.services import compute_report, save_narratives, sign_report
from apps.incidents.models import Incident
from tests.incidents.factories import IncidentFactory

from .factories import at, incident_with_known_times

pytestmark = pytest.mark.django_db


def test_computing_twice_before_sign_off_updates_the_one_draft(manager):
    incident = incident_with_known_times().incident
    first = compute_report(incident=incident, by=manager)
    second = compute_report(incident=incident, by=manager)
    assert first.pk == second.pk and second.number == 1
    assert EvaluationReport.objects.filter(incident=incident).count() == 1


def test_a_signed_report_stays_as_signed_and_recomputing_opens_version_two(manager):
    incident = incident_with_known_times().incident
    report = compute_report(incident=incident, by=manager)
    save_narratives(
        report=report, narratives={"response": "Fast."}, version=report.edit_version, by=manager
    )
    report.refresh_from_db()
    signed = sign_report(report=report, version=report.edit_version, by=manager)
    frozen = dict(signed.figures)

    # The incident's record changes afterwards (a late recovery time is corrected).
    Incident.objects.filter(pk=incident.pk).update(recovered_at=at(12, 10))
    newer = compute_report(incident=incident, by=manager)

    assert newer.number == 2 and newer.state == ReportState.DRAFT
    assert newer.narratives == {"response": "Fast."}  # carried over as a starting point
    assert newer.figures["dimensions"]["recovery"]["metrics"][Metric.DECLARED_TO_RECOVERED] == 120
    signed.refresh_from_db()
    assert signed.state == ReportState.SIGNED and signed.figures == frozen
    assert signed.figures["dimensions"]["recovery"]["metrics"][Metric.DECLARED_TO_RECOVERED] == 180


def test_a_signed_report_refuses_a_new_narrative(manager):
    report = compute_report(incident=IncidentFactory(), by=manager)
    sign_report(report=report, version=report.edit_version, by=manager)
    with pytest.raises(DomainError) as exc:
        save_narratives(report=report, narratives={"response": "x"}, version=None, by=manager)
    assert exc.value.code == EvaluationError.REPORT_SIGNED


def test_a_report_cannot_be_signed_twice(manager):
    report = compute_report(incident=IncidentFactory(), by=manager)
    sign_report(report=report, version=None, by=manager)
    with pytest.raises(DomainError) as exc:
        sign_report(report=report, version=None, by=manager)
    assert exc.value.code == EvaluationError.REPORT_NOT_SIGNABLE


def test_a_narrative_saved_over_a_stale_version_is_refused(manager):
    report = compute_report(incident=IncidentFactory(), by=manager)
    stale = report.edit_version
    compute_report(incident=report.incident, by=manager)  # recomputed meanwhile
    with pytest.raises(DomainError) as exc:
        save_narratives(report=report, narratives={"response": "x"}, version=stale, by=manager)
    assert exc.value.code == "stale"


def test_the_database_holds_at_most_one_draft_per_incident(manager):
    report = compute_report(incident=IncidentFactory(), by=manager)
    with pytest.raises(IntegrityError):
        EvaluationReport.objects.create(
            incident=report.incident, number=2, computed_by=manager, figures={}
        )


def test_sign_off_is_kept_in_the_audit_history(manager):
    report = compute_report(incident=IncidentFactory(), by=manager)
    sign_report(report=report, version=None, by=manager)
    reasons = list(
        report.history.order_by("history_date").values_list("history_change_reason", "history_user")
    )
    assert reasons[-1] == ("signed off", manager.pk)


def test_narratives_keep_only_the_five_dimensions(manager):
    report = compute_report(incident=IncidentFactory(), by=manager)
    saved = save_narratives(
        report=report,
        narratives={Dimension.RECOVERY: " Slow restore. ", "bogus": "x"},
        version=None,
        by=manager,
    )
    assert saved.narratives == {"recovery": "Slow restore."}
