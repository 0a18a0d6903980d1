"""Which journal segments retention may delete (none yet: the journal keeps every segment
until a retained full backup no longer needs it)."""

from __future__ import annotations

from typing import Any


def plan_segment_pruning() -> list[Any]:
    return []


def delete_segment(deletion: Any) -> None:  # pragma: no cover - nothing planned yet
    raise NotImplementedError
