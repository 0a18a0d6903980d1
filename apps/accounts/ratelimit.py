"""A small fixed-window counter on the "ratelimit" cache (Redis when configured, so every web
process shares it). Keys are hashed: no e-mail address or client address is stored in clear."""

from __future__ import annotations

import hashlib
import logging

from django.core.cache import caches

logger = logging.getLogger(__name__)


def hit(scope: str, key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one attempt for ``key``; False once more than ``limit`` fell in the current window.

    If the cache cannot be reached the attempt is allowed (and logged): a Redis outage must not
    lock staff out of their accounts.
    """
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    name = f"{scope}:{digest}"
    cache = caches["ratelimit"]
    try:
        if cache.add(name, 1, timeout=window_seconds):
            count = 1
        else:
            try:
                count = cache.incr(name)
            except ValueError:  # expired between add() and incr()
                cache.set(name, 1, timeout=window_seconds)
                count = 1
    except Exception:
        logger.warning("rate limit %s not checked: the cache is unavailable", scope, exc_info=True)
        return True
    return count <= limit
