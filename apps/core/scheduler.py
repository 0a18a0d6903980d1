"""The project's own scheduler: runs what apps registered in ``schedules.py`` when it is due.

``manage.py run_scheduler`` loops over ``run_due_schedules``; ``make run`` (embedded default) and
``make worker`` start it, so no external cron is needed. Every schedule has a ``ScheduleState``
row; a scheduler claims a due schedule with one conditional ``UPDATE`` (compare-and-set on
``next_run_at``), so any number of scheduler processes run each schedule once per interval. Each
run is recorded as a ``ScheduleRun`` (who ran it, when, outcome, error) for the schedules page.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .choices import ScheduleOutcome
from .errors import DomainError
from .events import as_event, message
from .jobs import UNEXPECTED_ERROR
from .models import ScheduleRun, ScheduleState
from .schedules import Schedule, registered_schedules

logger = logging.getLogger(__name__)


def scheduler_name() -> str:
    """How a scheduler process is named on the page: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _state_for(schedule: Schedule, now: datetime) -> ScheduleState:
    """The schedule's row, made on first sight (due at once); two schedulers may race here."""
    state = ScheduleState.objects.filter(name=schedule.name).first()
    if state is not None:
        return state
    try:
        with transaction.atomic():
            return ScheduleState.objects.create(name=schedule.name, next_run_at=now)
    except IntegrityError:
        return ScheduleState.objects.get(name=schedule.name)


def claim(schedule: Schedule, *, now: datetime) -> bool:
    """Claim one due run of ``schedule``; True for exactly one claimant per interval.

    The next run is counted from now (a scheduler that was stopped for an hour runs a schedule
    once when it comes back, not once per missed interval).
    """
    state = _state_for(schedule, now)
    if state.next_run_at > now:
        return False
    return bool(
        ScheduleState.objects.filter(pk=state.pk, next_run_at=state.next_run_at).update(
            next_run_at=now + schedule.interval
        )
    )


def _summary(result: Any) -> str:
    """A short, language-neutral note of what a task returned (a count, mostly)."""
    if result is None:
        return ""
    if isinstance(result, list | tuple | set | dict):
        return str(len(result))
    return str(result)[:500]


def run_schedule(schedule: Schedule, *, now: datetime | None = None, by: str = "") -> ScheduleRun:
    """Run one schedule's task now and record how it went (the caller has claimed it)."""
    run = ScheduleRun.objects.create(
        name=schedule.name, scheduler=by or scheduler_name(), started_at=now or timezone.now()
    )
    ScheduleState.objects.filter(name=schedule.name).update(last_run=run)
    try:
        task: Callable[[], Any] = import_string(schedule.task)
        result = task()
    except DomainError as exc:
        logger.warning("schedule %s failed: %s", schedule.name, exc)
        run.outcome = ScheduleOutcome.FAILED
        run.error_kind, run.error_params, run.error = as_event(exc.message)
    except Exception as exc:  # noqa: BLE001 - recorded for staff and logged in full
        logger.exception("schedule %s failed", schedule.name)
        if not connection.in_atomic_block:  # a broken connection is replaced for the record
            close_old_connections()
        run.outcome = ScheduleOutcome.FAILED
        run.error_kind, run.error_params, run.error = as_event(
            message(UNEXPECTED_ERROR, error=f"{type(exc).__name__}: {exc}")
        )
    else:
        run.outcome, run.detail = ScheduleOutcome.SUCCEEDED, _summary(result)
    run.finished_at = timezone.now()
    run.save(
        update_fields=["outcome", "detail", "error", "error_kind", "error_params", "finished_at"]
    )
    return run


def run_due_schedules(*, now: datetime | None = None, by: str = "") -> list[ScheduleRun]:
    """One tick: run every registered schedule that is due and this process could claim."""
    runs = []
    for schedule in registered_schedules():
        tick = now or timezone.now()
        if claim(schedule, now=tick):
            runs.append(run_schedule(schedule, now=tick, by=by))
    return runs


def run_forever(
    *,
    stop: threading.Event,
    tick_seconds: float = 1.0,
    on_run: Callable[[ScheduleRun], None] | None = None,
) -> None:
    """The scheduler process's loop, until ``stop`` is set (SIGTERM/SIGINT in the command)."""
    name = scheduler_name()
    while not stop.is_set():
        close_old_connections()
        try:
            for run in run_due_schedules(by=name):
                if on_run is not None:
                    on_run(run)
        except Exception:  # noqa: BLE001 - a database blip must not end the scheduler
            logger.exception("scheduler tick failed; trying again")
            connection.close()
        stop.wait(tick_seconds)
    connection.close()


@dataclass
class ScheduleRow:
    """What the schedules page shows of one schedule."""

    schedule: Schedule
    next_run_at: datetime | None
    last_run: ScheduleRun | None
    overdue: bool

    @property
    def interval_seconds(self) -> int:
        return int(self.schedule.interval.total_seconds())


def schedule_overview(*, now: datetime | None = None) -> list[ScheduleRow]:
    """Every registered schedule with its next and last run; ``overdue`` when no scheduler
    has claimed it for a while (no scheduler process running)."""
    now = now or timezone.now()
    states = {s.name: s for s in ScheduleState.objects.select_related("last_run").order_by("name")}
    rows = []
    for schedule in registered_schedules():
        state = states.get(schedule.name)
        next_run_at = state.next_run_at if state else None
        grace = max(timedelta(minutes=2), schedule.interval)
        overdue = state is None or (next_run_at is not None and next_run_at < now - grace)
        rows.append(
            ScheduleRow(
                schedule=schedule,
                next_run_at=next_run_at,
                last_run=state.last_run if state else None,
                overdue=overdue,
            )
        )
    return rows
