"""Periodic tasks the scheduler tests register (importable by a scheduler subprocess)."""

import threading

CALLS: list[str] = []
_lock = threading.Lock()


def count_call() -> int:
    with _lock:
        CALLS.append("count")
        return len(CALLS)


def explode() -> None:
    raise RuntimeError("the task broke")


def refuse() -> None:
    from apps.core.errors import CoreError, DomainError

    raise DomainError(CoreError.QUEUE_UNAVAILABLE)
