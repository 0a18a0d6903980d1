"""RQ entry points: take ids and plain values, call one service, report progress."""

from __future__ import annotations

from typing import Any

from . import services


def poll_mailbox_job(*, progress=None) -> dict[str, int]:
    return services.poll_mailbox(progress=progress)


def lookup_in_backup_job(*, query: str, progress=None) -> dict[str, Any]:
    return services.find_orders_in_backup(query=query, progress=progress).as_dict()
