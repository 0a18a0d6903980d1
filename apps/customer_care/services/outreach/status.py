"""The public status page (7.2, 7.2.2): edited by care leads, served from a cache.

What visitors see is built once per language from the page's row and the latest public
updates, and kept in the ``status`` cache (Redis when there is one, shared by every web
process) until a lead changes it: a traffic spike costs no database query per visitor.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import transaction
from django.utils import timezone

from apps.core.errors import DomainError

from ... import outreach_events as events
from ...models import PublicUpdate, StatusPage
from ...outreach_choices import ServiceState
from ...outreach_errors import OutreachError

if TYPE_CHECKING:
    from apps.accounts.models import User

CACHE_KEYS = ("page", "json", "rss")
LATEST_UPDATES = 10


def status_cache() -> BaseCache:
    return caches["status"]


def cache_key(what: str, language: str) -> str:
    return f"status:{what}:{language}"


GENERATION_KEY = "generation"


def clear_status_cache() -> None:
    """Drop the built pages, then move the generation on: web processes that keep a copy of
    the whole answer (``StatusPageFastPath``) see the new generation and ask Django again."""
    keys = [cache_key(what, lang) for what in CACHE_KEYS for lang, _name in settings.LANGUAGES]
    cache = status_cache()
    cache.delete_many(keys)
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no generation yet (a new or restarted Redis): start one
        new_generation()


def new_generation() -> None:
    """A random start (an int, stored by Redis as a plain number that ``incr`` can move on), so a
    Redis that lost its keys never hands out a generation some process already holds a page for."""
    status_cache().add(GENERATION_KEY, secrets.randbits(62), timeout=None)


def current_status_page() -> StatusPage:
    page = StatusPage.objects.order_by("pk").first()
    if page is None:
        from apps.incidents.selectors import get_open_incident

        page = StatusPage.objects.create(incident=get_open_incident())
    return page


@transaction.atomic
def update_status_page(
    *,
    ordering: str,
    payment: str,
    delivery: str,
    phone: str,
    mailbox: str,
    channels_zh: str,
    channels_en: str,
    version: int,
    by: User,
) -> StatusPage:
    """Change what the public page says (states and workarounds); visitors see it at once."""
    from apps.core.timeline import post_to_timeline
    from apps.incidents.selectors import get_open_incident

    page = StatusPage.objects.select_for_update().get(pk=current_status_page().pk)
    if int(version) != page.version:
        raise DomainError(OutreachError.STALE)
    for value in (ordering, payment, delivery):
        if value not in ServiceState.values:
            raise DomainError(OutreachError.STALE)
    page.ordering, page.payment, page.delivery = ordering, payment, delivery
    page.phone, page.mailbox = phone.strip(), mailbox.strip()
    page.channels_zh, page.channels_en = channels_zh.strip(), channels_en.strip()
    page.incident = get_open_incident()
    page.version += 1
    page.updated_by = by
    page.updated_at = timezone.now()
    page.save()
    post_to_timeline(kind=events.STATUS_UPDATED, by=by)
    transaction.on_commit(clear_status_cache)
    return page


@transaction.atomic
def publish_update(*, text_zh: str, text_en: str, by: User) -> PublicUpdate:
    """A public notice on the page and in the feeds, in both languages (both required)."""
    for language, text in (("中文", text_zh), ("English", text_en)):
        if not text.strip():
            raise DomainError(
                OutreachError.EMPTY_LANGUAGE,
                params={"language": language},
                field="text_zh" if language == "中文" else "text_en",
            )
    update = PublicUpdate.objects.create(
        text_zh=text_zh.strip(), text_en=text_en.strip(), published_by=by
    )
    transaction.on_commit(clear_status_cache)
    return update


def status_snapshot(language: str) -> dict[str, Any]:
    """Everything the public page and feeds show, as plain values (cacheable, no model rows)."""
    page = current_status_page()
    english = language == "en"
    rows = list(PublicUpdate.objects.order_by("-published_at", "-pk")[:LATEST_UPDATES])
    updates = [
        {
            "guid": str(u.guid),
            "text": u.text_en if english else u.text_zh,
            "published_at": u.published_at,
        }
        for u in rows
    ]
    services = [
        ("ordering", page.ordering),
        ("payment", page.payment),
        ("delivery", page.delivery),
    ]
    since = page.incident.detected_at if page.incident_id and page.incident else None
    return {
        "services": services,
        "phone": page.phone,
        "mailbox": page.mailbox,
        "channels": page.channels_en if english else page.channels_zh,
        "updates": updates,
        "latest": updates[0] if updates else None,
        "updated_at": max([page.updated_at, *[u.published_at for u in rows]]),
        "since": since,
    }
