"""The "orders in the incident window from the order system" audience of a progress notice.

The customers of the order system's orders placed in the incident window are read through the
order-system gateway (one read-only SELECT with a statement timeout); when the order system
does not answer, from the latest orders and users backups opened into a throw-away database
(the care desk's order look-up path). Each is matched to, or created as, a manual orders
``Customer`` through ``find_or_create_customer`` (keyed by the order system's customer id), so
deliveries, opt-outs and "once per customer and channel" work as for any other audience. The
notice remembers the customers read, where from and how old that data was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from apps.backups.engine import SourceUnreachableError, gateway
from apps.core.errors import DomainError
from apps.core.events import message
from apps.manual_orders import changes as order_changes

from ... import outreach_events as events
from ...models import Notice
from ...outreach_choices import AudienceSource, NoticeAudience, NoticeState
from ...outreach_errors import OutreachError
from ..orders import backup_age, backup_slugs

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.core.jobs import Progress
    from apps.core.models import JobRecord

READ_TIMEOUT_MS = 30_000


@dataclass
class SourceCustomer:
    external_id: int
    name: str
    phone: str
    email: str
    language: str


def _language(value: Any) -> str:
    text = str(value or "").strip().lower()
    if text.startswith("en"):
        return "en"
    if text.startswith("zh"):
        return "zh-hans"
    return settings.LANGUAGE_CODE


def _window(notice: Notice) -> tuple[datetime, datetime | None]:
    incident = notice.incident
    if incident is None:
        raise DomainError(OutreachError.NO_INCIDENT)
    return incident.detected_at, incident.recovered_at or incident.closed_at


def read_window_customers(
    *, start: datetime, end: datetime | None, url: str | None = None
) -> list[SourceCustomer]:
    """The customers of the orders placed from ``start`` to ``end`` (open-ended: None), read
    from ``url`` (default: the order system), once each, in id order."""
    columns, _ = gateway.read_rows(
        "SELECT * FROM customers WHERE 1 = 0", url=url, timeout_ms=READ_TIMEOUT_MS
    )
    language = ", c.language" if "language" in columns else ", NULL"
    email = "c.email" if "email" in columns else "''"
    sql = (
        f"SELECT DISTINCT c.id, c.name, c.phone, {email}{language} "  # noqa: S608
        "FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.created_at >= %s"
    )
    params: list[Any] = [start]
    if end is not None:
        sql += " AND o.created_at <= %s"
        params.append(end)
    _, rows = gateway.read_rows(sql + " ORDER BY c.id", params, url=url, timeout_ms=READ_TIMEOUT_MS)
    return [
        SourceCustomer(
            external_id=int(r[0]),
            name=str(r[1] or ""),
            phone=str(r[2] or ""),
            email=str(r[3] or ""),
            language=_language(r[4]),
        )
        for r in rows
    ]


def _check_draft(notice: Notice) -> None:
    if notice.audience != NoticeAudience.ORDER_SYSTEM_ORDERS or notice.state != NoticeState.DRAFT:
        raise DomainError(
            OutreachError.NOTICE_STATE,
            params={"state": notice.get_state_display(), "action": gettext("given new customers")},
        )


@transaction.atomic
def start_audience_read(*, notice: Notice, by: User) -> JobRecord:
    """Read the notice's customers on a worker (opening a backup takes a while)."""
    from apps.core.jobs import start_job

    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    _check_draft(notice)
    _window(notice)
    if notice.audience_job is not None and not notice.audience_job.is_finished:
        return notice.audience_job  # already being read: one read at a time
    job = start_job(
        kind="customer_care.notice_audience",
        title=message(events.AUDIENCE_TITLE, title=notice.title),
        func="apps.customer_care.outreach_jobs.read_audience_job",
        kwargs={"notice_id": notice.pk, "user_id": by.pk},
        by=by,
    )
    Notice.objects.filter(pk=notice.pk).update(audience_job=job)
    return job


def read_order_system_audience(
    *, notice: Notice, by: User, progress: Progress | None = None
) -> dict[str, Any]:
    """Read the customers of the incident window's orders (live, else from the latest backup),
    match or create them as manual orders' customers and make them the notice's audience.

    Reading again replaces the audience (a draft only); the same order-system customer is the
    same ``Customer`` every time (its id is the key), so nothing is duplicated.
    """
    _check_draft(notice)
    start, end = _window(notice)
    problem = ""
    as_of: datetime | None
    try:
        gateway.ping(timeout=3)
        found = read_window_customers(start=start, end=end)
        source, as_of = AudienceSource.LIVE, timezone.now()
    except (SourceUnreachableError, *gateway.DB_ERRORS) as exc:  # type: ignore[misc]
        problem = str(exc)[:300]
        if progress:
            progress.log(message(events.AUDIENCE_FROM_BACKUP, problem=problem))
        from apps.backups.services import latest_backups_opened

        as_of = backup_age()
        source = AudienceSource.BACKUP
        with latest_backups_opened(slugs=backup_slugs(), progress=progress) as url:
            try:
                found = read_window_customers(start=start, end=end, url=url)
            except gateway.DB_ERRORS as exc2:
                if not gateway.is_missing_table(exc2):
                    raise
                raise DomainError(OutreachError.NO_CUSTOMER_BACKUP) from exc2
    return _store(notice=notice, found=found, source=source, as_of=as_of, by=by) | {
        "problem": problem
    }


@transaction.atomic
def _store(
    *,
    notice: Notice,
    found: list[SourceCustomer],
    source: str,
    as_of: datetime | None,
    by: User,
) -> dict[str, Any]:
    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    _check_draft(notice)
    ids: list[int] = []
    created = skipped = 0
    for row in found:
        if not order_changes.normalise_phone(row.phone):
            skipped += 1
            continue
        try:
            with transaction.atomic():
                customer, new = order_changes.find_or_create_customer(
                    phone=row.phone,
                    name=row.name,
                    email=row.email,
                    language=row.language,
                    external_id=row.external_id,
                    by=by,
                )
        except DomainError:  # e.g. an e-mail address the order system let through
            with transaction.atomic():
                customer, new = order_changes.find_or_create_customer(
                    phone=row.phone,
                    name=row.name,
                    language=row.language,
                    external_id=row.external_id,
                    by=by,
                )
        ids.append(customer.pk)
        created += int(new)
    notice.members.set(ids)
    notice.audience_source = source
    notice.audience_as_of = as_of
    notice.audience_loaded_at = timezone.now()
    notice.version += 1
    notice._change_reason = f"customers read from {source}: {len(ids)}"  # type: ignore[attr-defined]
    notice.save()
    return {
        "source": source,
        "customers": len(ids),
        "created": created,
        "skipped": skipped,
        "as_of": as_of.isoformat() if as_of else None,
    }
