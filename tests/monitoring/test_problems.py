"""Problem intake (plan 8.2): report from any page, triage, link to the incident, tell the reporter."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts.roles import Role
from apps.core.errors import DomainError, StaleRecord
from apps.incidents.models import TimelineEntry
from apps.monitoring import events, services
from apps.monitoring.choices import ProblemState
from apps.monitoring.errors import MonitoringError
from apps.monitoring.models import ProblemReport

from .images import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(make_user):
    return make_user(Role.CARE_AGENT, email="agent@example.com", language="en")


@pytest.fixture
def tech(make_user):
    return make_user(Role.TECH_SUPPORT)


def test_a_care_agent_reports_a_problem_with_a_screenshot_from_any_page(client, agent):
    client.force_login(agent)
    page = client.get(reverse("manual_orders:order-list"))
    report_link = reverse("monitoring:problem-report")
    assert report_link in page.content.decode()
    response = client.post(
        report_link + "?where=/orders/",
        {
            "what": "订单页面一直转圈",
            "where": "/orders/",
            "screenshot": SimpleUploadedFile("s.png", png_bytes(), content_type="image/png"),
        },
    )
    assert response.status_code == 302
    report = ProblemReport.objects.get()
    assert report.reporter == agent and report.where == "/orders/"
    assert report.screenshot_type == "image/png" and bytes(report.screenshot)[:4] == b"\x89PNG"


def test_a_file_that_is_not_an_image_is_refused_and_what_was_typed_is_kept(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("monitoring:problem-report"),
        {
            "what": "页面报错",
            "screenshot": SimpleUploadedFile(
                "s.png", b"MZ\x90\x00 not a png", content_type="image/png"
            ),
        },
    )
    assert response.status_code == 200
    assert not ProblemReport.objects.exists()
    assert "页面报错" in response.content.decode()
    with pytest.raises(DomainError) as exc:
        services.report_problem(what="x", screenshot=b"GIF89a broken", by=agent)
    assert exc.value.code == MonitoringError.SCREENSHOT_UNREADABLE


def test_an_image_of_another_format_or_too_large_is_refused(agent, settings):
    with pytest.raises(DomainError) as exc:
        services.report_problem(what="x", screenshot=png_bytes(fmt="BMP"), by=agent)
    assert exc.value.code == MonitoringError.SCREENSHOT_TYPE
    settings.MONITORING_SCREENSHOT_MAX_MB = 0
    with pytest.raises(DomainError) as exc:
        services.report_problem(what="x", screenshot=png_bytes(), by=agent)
    assert exc.value.code == MonitoringError.SCREENSHOT_SIZE


def test_an_empty_report_is_refused(agent):
    with pytest.raises(DomainError) as exc:
        services.report_problem(what="   ", by=agent)
    assert exc.value.code == MonitoringError.PROBLEM_EMPTY


def test_tech_support_classifies_and_links_the_problem_to_the_incident_timeline(agent, tech):
    from tests.incidents.factories import IncidentFactory

    incident = IncidentFactory()
    report = services.report_problem(what="付款失败", by=agent)
    report = services.triage_problem(
        problem=report,
        version=report.version,
        category="payment",
        priority="urgent",
        incident=incident,
        by=tech,
    )
    assert report.state == ProblemState.TRIAGED and report.incident == incident
    entry = TimelineEntry.objects.get(incident=incident, kind=events.PROBLEM_LINKED)
    assert entry.params["id"] == report.pk and entry.params["priority"] == "urgent"
    with pytest.raises(StaleRecord):
        services.triage_problem(
            problem=report, version=1, category="data", priority="low", incident=None, by=tech
        )


def test_the_reporter_is_told_by_mail_in_their_language_when_it_is_solved(agent, tech, smtp_server):
    report = services.report_problem(what="打印机不出单", by=agent)
    services.solve_problem(problem=report, version=report.version, resolution="驱动已重装", by=tech)
    (mail,) = smtp_server.messages
    assert mail.rcpt_tos == ["agent@example.com"]
    text = mail.content.decode("utf-8", "replace")
    assert "is solved" in text  # the reporter reads English
    report.refresh_from_db()
    assert report.state == ProblemState.SOLVED and report.solved_at is not None
    with pytest.raises(DomainError) as exc:
        services.solve_problem(problem=report, version=report.version, resolution="again", by=tech)
    assert exc.value.code == MonitoringError.PROBLEM_SOLVED


def test_solving_needs_a_resolution_shown_on_the_page(client, agent, tech):
    report = services.report_problem(what="x", by=agent)
    client.force_login(tech)
    response = client.post(
        reverse("monitoring:problem-solve", args=[report.pk]),
        {"version": report.version, "resolution": ""},
    )
    assert response.status_code == 200
    report.refresh_from_db()
    assert report.state == ProblemState.NEW


def test_the_screenshot_is_served_only_as_the_checked_image_type(client, agent, tech):
    report = services.report_problem(what="x", screenshot=png_bytes(), by=agent)
    client.force_login(tech)
    response = client.get(reverse("monitoring:problem-screenshot", args=[report.pk]))
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(agent)
    assert client.get(reverse("monitoring:problem-screenshot", args=[report.pk])).status_code == 403
