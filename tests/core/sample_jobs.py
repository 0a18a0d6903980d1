"""Job functions the tests run through real workers (importable by the worker process)."""

import time

from apps.core.errors import JobFailure


def count_to(*, progress, n: int, delay: float = 0.0):
    for i in range(1, n + 1):
        progress.update(percent=i * 100 // n, step=f"item {i} of {n}")
        progress.log(f"did item {i}")
        if delay:
            time.sleep(delay)
    return {"counted": n}


def refuse(*, progress, reason: str):
    progress.update(percent=10, step="checking")
    raise JobFailure(reason)


def crash(*, progress):
    progress.update(percent=5, step="about to crash")
    raise RuntimeError("disk on fire")


def stop_at_a_table(*, progress):
    """A backup-like job: its step and its error are stored as data, not as the starter's words."""
    from apps.backups.services import step_text

    progress.update(percent=40, step=step_text("Backing up table orders"))
    raise RuntimeError("disk on fire")


def log_and_refuse_with_a_code(*, progress, name: str):
    """Its log line and its reason are stored as kind + parameters, whoever started it."""
    from apps.backups import events
    from apps.backups.errors import BackupsError
    from apps.core.events import message

    progress.log(message(events.LOG_WRITING, name=name))
    progress.log("a line given as plain text")
    raise JobFailure(BackupsError.REMOTE_STORE_FAILED, params={"error": "connection refused"})
