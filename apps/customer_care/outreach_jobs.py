"""Outreach's job entry points: thin, ids in, one service, progress out."""

from __future__ import annotations

import uuid
from typing import Any

from apps.core.jobs import Progress


def send_notice_job(*, progress: Progress, notice_id: int) -> dict[str, Any]:
    from .services import outreach

    return outreach.deliver_notice(notice_id=notice_id, progress=progress)


def read_audience_job(*, progress: Progress, notice_id: int, user_id: int) -> dict[str, Any]:
    from apps.accounts.models import User

    from .models import Notice
    from .services import outreach

    return outreach.read_order_system_audience(
        notice=Notice.objects.get(pk=notice_id),
        by=User.objects.get(pk=user_id),
        progress=progress,
    )


def bulk_grant_job(
    *, progress: Progress, customer_ids: list[int], grant: dict, batch: str, user_id: int
) -> dict[str, Any]:
    from apps.accounts.models import User

    from .services import outreach

    return outreach.grant_in_bulk(
        customer_ids=customer_ids,
        grant=outreach.grant_from_payload(grant),
        batch=uuid.UUID(batch),
        by=User.objects.get(pk=user_id),
        progress=progress,
    )
