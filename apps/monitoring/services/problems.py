"""Problem intake (plan 8.2): staff report what they saw, tech support classifies and solves it,
the reporter is told when it is solved."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.choices import Channel
from apps.core.errors import DomainError, StaleRecord
from apps.core.notifications import send_notification

from .. import events
from ..choices import PROBLEM_TRANSITIONS, ProblemState
from ..errors import MonitoringError
from ..models import ProblemReport

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.incidents.models import Incident

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
MAX_PIXELS = 40_000_000


def check_screenshot(content: bytes) -> str:
    """The screenshot's content type, after checking it is an image (by Pillow, not its name)."""
    from PIL import Image, UnidentifiedImageError

    limit = settings.MONITORING_SCREENSHOT_MAX_MB
    if len(content) > limit * 1024 * 1024:
        raise DomainError(
            MonitoringError.SCREENSHOT_SIZE, params={"limit": limit}, field="screenshot"
        )
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format or ""
            if kind not in IMAGE_TYPES:
                raise DomainError(MonitoringError.SCREENSHOT_TYPE, field="screenshot")
            if image.width * image.height > MAX_PIXELS:
                raise DomainError(MonitoringError.SCREENSHOT_UNREADABLE, field="screenshot")
            image.verify()
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DomainError(MonitoringError.SCREENSHOT_UNREADABLE, field="screenshot") from None
    return IMAGE_TYPES[kind]


@transaction.atomic
def report_problem(
    *, what: str, where: str = "", screenshot: bytes | None = None, by: User
) -> ProblemReport:
    """Anyone on staff reports a technical problem from any page."""
    what = (what or "").strip()
    if not what:
        raise DomainError(MonitoringError.PROBLEM_EMPTY, field="what")
    content_type = check_screenshot(screenshot) if screenshot else ""
    report = ProblemReport(
        reporter=by,
        what=what[:4000],
        where=(where or "")[:500],
        screenshot=screenshot or b"",
        screenshot_type=content_type,
    )
    report._history_user = by  # type: ignore[attr-defined]
    report.save()
    return report


def _lock(problem: ProblemReport, version: int | None) -> ProblemReport:
    locked = ProblemReport.objects.select_for_update().get(pk=problem.pk)
    if version is not None and locked.version != version:
        raise StaleRecord()
    return locked


def _move(problem: ProblemReport, to: str) -> None:
    if to not in PROBLEM_TRANSITIONS[problem.state]:
        raise DomainError(MonitoringError.PROBLEM_SOLVED, params={"id": problem.pk})
    problem.state = to


@transaction.atomic
def triage_problem(
    *,
    problem: ProblemReport,
    version: int | None,
    category: str,
    priority: str,
    incident: Incident | None,
    by: User,
) -> ProblemReport:
    """Tech support classifies and prioritises a report and links it to the incident."""
    problem = _lock(problem, version)
    _move(problem, ProblemState.TRIAGED)
    newly_linked = incident is not None and problem.incident_id != incident.pk
    problem.category, problem.priority, problem.incident = category, priority, incident
    problem.version += 1
    problem._history_user = by  # type: ignore[attr-defined]
    problem.save()
    if newly_linked and incident is not None:
        from apps.incidents import services as incidents

        incidents.post_event(
            incident=incident,
            kind=events.PROBLEM_LINKED,
            params={
                "id": problem.pk,
                "reporter": str(problem.reporter),
                "priority": problem.priority,
                "what": problem.what[:200],
            },
            by=by,
        )
    return problem


@transaction.atomic
def solve_problem(
    *, problem: ProblemReport, version: int | None, resolution: str, by: User
) -> ProblemReport:
    """Mark a report solved and tell the reporter, in their language."""
    problem = _lock(problem, version)
    resolution = (resolution or "").strip()
    if not resolution:
        raise DomainError(MonitoringError.RESOLUTION_NEEDED, field="resolution")
    _move(problem, ProblemState.SOLVED)
    problem.resolution = resolution[:4000]
    problem.solved_at = timezone.now()
    problem.version += 1
    problem._history_user = by  # type: ignore[attr-defined]
    problem.save()
    params: dict[str, Any] = {
        "id": problem.pk,
        "what": problem.what[:300],
        "resolution": problem.resolution,
    }
    reporter = problem.reporter
    if reporter.email:
        send_notification(
            channel=Channel.EMAIL,
            recipient=reporter,
            subject=_("The problem you reported (#%(id)s) is solved"),
            body=_(
                "You reported: %(what)s\n\nTech support solved it: %(resolution)s\n\n"
                "Thank you for telling us."
            ),
            params=params,
            by=by,
        )
    return problem
