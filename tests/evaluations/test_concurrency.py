"""Two managers at once: one draft per incident, one sign-off."""

import threading

import pytest
from django.db import connection

from apps.core.errors import DomainError
from apps.evaluations.errors import EvaluationError
from apps.evaluations.models import EvaluationReport
from apps.evaluations.services import compute_report, sign_report
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _race(target, n=2):
    barrier = threading.Barrier(n)
    results: list = []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_managers_computing_at_once_make_one_draft(manager):
    incident = IncidentFactory()
    results = _race(lambda: compute_report(incident=incident, by=manager).pk)
    assert len(results) == 2 and all(isinstance(r, int) for r in results), results
    assert results[0] == results[1]
    assert EvaluationReport.objects.filter(incident=incident).count() == 1


def test_two_managers_signing_at_once_sign_once(manager):
    report = compute_report(incident=IncidentFactory(), by=manager)
    results = _race(lambda: sign_report(report=report, version=None, by=manager))
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].code == EvaluationError.REPORT_NOT_SIGNABLE
    assert report.history.filter(history_change_reason="signed off").count() == 1
