"""Core's periodic work, as plain callables the scheduler (and commands) run."""

from __future__ import annotations

from .jobs import ensure_queue_available, reconcile_stale_jobs, sweep_waiting_jobs
from .notifications import sweep_waiting_notifications


def sweep_outbox() -> int:
    """Enqueue the jobs and notifications waiting for the queue; how many reached it.

    Raises ``QueueUnavailable`` while Redis does not answer (the run is recorded as failed).
    """
    ensure_queue_available()
    return sweep_waiting_jobs() + sweep_waiting_notifications()


def reconcile_dead_jobs() -> int:
    """Fail every unfinished job whose worker is gone; how many were failed."""
    return reconcile_stale_jobs()
