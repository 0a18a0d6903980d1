"""Policies: which backups are due, and starting them (every minute, from the schedule)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from ..choices import RunState
from ..models import BackupPolicy, BackupRun
from .backup import start_backups
from .status import reconcile_runs


def due_policies(*, now: datetime | None = None) -> list[BackupPolicy]:
    """Policies whose newest backup (complete, queued or running) is older than their interval."""
    now = now or timezone.now()
    due = []
    for policy in BackupPolicy.objects.select_related("scope"):
        latest = (
            BackupRun.objects.filter(scope=policy.scope, kind=policy.kind)
            .exclude(state=RunState.FAILED)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if latest is None or latest <= now - timedelta(minutes=policy.interval_minutes):
            due.append(policy)
    return due


def start_due_backups(*, now: datetime | None = None) -> list[BackupRun]:
    """Start the due policies' backups (the order system's scopes in one job that reads one
    moment: ``start_backups``); the scheduler runs this every minute.

    It first settles runs whose worker died, so a killed backup neither blocks its policy nor
    leaves the dashboard saying "restoring" until someone opens the run's page.
    """
    reconcile_runs()
    return start_backups([(p.scope, p.kind) for p in due_policies(now=now)])
