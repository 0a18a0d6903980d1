"""Time-driven work, declared by the app that owns it and run by the project's own scheduler.

Each app registers its periodic work from ``AppConfig.ready``::

    register_schedule(
        "backups.due", task="apps.backups.services.start_due_backups",
        every=timedelta(minutes=1), label=_("Backups due by policy"),
    )

``task`` is the dotted path of a callable that takes no arguments and is safe to run twice (it
decides itself what is due). The scheduler process (``manage.py run_scheduler``) calls what is due,
records each run's outcome and shows every schedule with its last and next run; nothing depends on
an external cron. An interval can be changed per deployment with the setting
``SCHEDULE_INTERVALS`` (``{"backups.due": 120}``, seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every: timedelta
    label: Any
    queue: str = "default"

    @property
    def interval(self) -> timedelta:
        seconds = (settings.SCHEDULE_INTERVALS or {}).get(self.name)
        return timedelta(seconds=float(seconds)) if seconds else self.every


_REGISTRY: dict[str, Schedule] = {}


def register_schedule(
    name: str, *, task: str, every: timedelta, label: Any, queue: str = "default"
) -> Schedule:
    """Declare periodic work once; registering the same name again replaces it (app reloads)."""
    schedule = Schedule(name=name, task=task, every=every, label=label, queue=queue)
    _REGISTRY[name] = schedule
    return schedule


def registered_schedules() -> list[Schedule]:
    return sorted(_REGISTRY.values(), key=lambda s: s.name)


def get_schedule(name: str) -> Schedule:
    return _REGISTRY[name]
