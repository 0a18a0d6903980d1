"""Evaluation reports: computed from recorded data, narrated by a manager, signed off, frozen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.core.errors import DomainError, StaleRecord
from apps.incidents.models import Incident

from .. import sources
from ..choices import Dimension, ReportState
from ..errors import EvaluationError
from ..figures import figures_for
from ..models import EvaluationReport

if TYPE_CHECKING:
    from apps.accounts.models import User


def _refuse_signed(report: EvaluationReport) -> None:
    if report.state == ReportState.SIGNED:
        raise DomainError(EvaluationError.REPORT_SIGNED, params={"version": report.number})


@transaction.atomic
def compute_report(*, incident: Incident, by: User) -> EvaluationReport:
    """Compute the incident's figures into its draft report (a new version after a sign-off).

    A signed version is never touched: recomputing then opens the next version, carrying the
    narratives over as a starting point.
    """
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    figures = figures_for(incident)
    draft = EvaluationReport.objects.filter(incident=incident, state=ReportState.DRAFT).first()
    if draft is not None:
        draft.figures = figures
        draft.computed_at = timezone.now()
        draft.computed_by = by
        draft.edit_version += 1
        draft._change_reason = "recomputed"
        draft._history_user = by
        draft.save()
        return draft
    last = EvaluationReport.objects.filter(incident=incident).order_by("-number").first()
    number = (
        EvaluationReport.objects.filter(incident=incident).aggregate(n=Max("number"))["n"] or 0
    ) + 1
    report = EvaluationReport(
        incident=incident,
        number=number,
        is_drill=sources.is_drill(incident),
        figures=figures,
        narratives=dict(last.narratives) if last else {},
        computed_by=by,
    )
    report._change_reason = "computed"
    report._history_user = by
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        # Unreachable while the incident row is locked above; kept as the unique key's backstop.
        return EvaluationReport.objects.get(incident=incident, state=ReportState.DRAFT)
    return report


@transaction.atomic
def save_narratives(
    *, report: EvaluationReport, narratives: dict[str, str], version: int | None, by: User
) -> EvaluationReport:
    """Store the manager's narrative per dimension on a draft; a signed report refuses."""
    report = EvaluationReport.objects.select_for_update().get(pk=report.pk)
    _refuse_signed(report)
    if version is not None and int(version) != report.edit_version:
        raise StaleRecord()
    report.narratives = {
        d: narratives.get(d, "").strip() for d in Dimension.values if narratives.get(d, "").strip()
    }
    report.edit_version += 1
    report._change_reason = "narrative"
    report._history_user = by
    report.save()
    return report


@transaction.atomic
def sign_report(*, report: EvaluationReport, version: int | None, by: User) -> EvaluationReport:
    """Sign the draft off: from now on it is read-only; recomputing makes a new version."""
    report = EvaluationReport.objects.select_for_update().get(pk=report.pk)
    if report.state != ReportState.DRAFT:
        raise DomainError(EvaluationError.REPORT_NOT_SIGNABLE)
    if version is not None and int(version) != report.edit_version:
        raise StaleRecord()
    report.state = ReportState.SIGNED
    report.signed_at = timezone.now()
    report.signed_by = by
    report.edit_version += 1
    report._change_reason = "signed off"
    report._history_user = by
    report.save()
    return report
