"""The public status page's fast path: a cached copy is answered before sessions, CSRF,
authentication and the rest of the stack run (Django's cache middleware does the same)."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import parse_qs

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.cookie import parse_cookie
from django.utils import translation

STATUS_PATH = "/status/"


class StatusPageCacheMiddleware:
    """Placed right after the security and CSP middleware: a GET of ``/status/`` whose page is
    in the status cache is answered from it; anything else (and a miss) goes on to the view,
    which fills the cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "GET" and request.path_info == STATUS_PATH:
            language = request.GET.get("lang", "")
            if language not in ("en", "zh-hans"):
                language = translation.get_language_from_request(request)
                language = "en" if language == "en" else "zh-hans"
            from .services.outreach.status import cache_key, status_cache

            content = status_cache().get(cache_key("page", language))
            if content is not None:
                response = HttpResponse(content)
                response["Content-Language"] = language
                response["Cache-Control"] = "public, max-age=30"
                response["Vary"] = "Accept-Language, Cookie"
                return response
        return self.get_response(request)


class StatusPageFastPath:
    """WSGI, around Django: answers a GET of ``/status/`` with Django's own last answer for that
    language (status, every header, body) while the page's generation in the status cache is
    unchanged — one small cache read per visitor instead of Django's whole request cycle, which
    cost five times as much CPU (``bench/outreach_bench.py``). A lead's change moves the
    generation on (``clear_status_cache``), so every process asks Django again at once.

    Only a 200 without ``Set-Cookie`` is kept; a copy is also dropped after
    ``LOCAL_SECONDS`` so time-based expiry of the shared cache still reaches visitors. Any
    trouble reading the generation (Redis down) sends the request through Django unchanged.
    """

    LOCAL_SECONDS = 30.0
    MAX_ANSWERS = 64

    def __init__(self, app) -> None:
        self.app = app
        self._answers: dict[tuple[str, ...], tuple[Any, float, str, list[tuple[str, str]], bytes]]
        self._answers = {}
        self._read_generation: Callable[[], Any] | None = None

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO") != STATUS_PATH:
            return self.app(environ, start_response)
        try:
            # Also by what Django's security checks read (scheme, proxy header, host): an https
            # answer is never repeated to a plain-http request that Django would redirect.
            key = (
                self._language(environ),
                environ.get("wsgi.url_scheme", ""),
                environ.get("HTTP_X_FORWARDED_PROTO", ""),
                environ.get("HTTP_HOST", ""),
            )
            generation = self._generation()
        except Exception:  # noqa: BLE001 - Django's own path reports and handles it
            return self.app(environ, start_response)
        answer = self._answers.get(key)
        if answer and answer[0] == generation and answer[1] > time.monotonic():
            start_response(answer[2], list(answer[3]))
            return [answer[4]]
        captured: dict[str, Any] = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        headers = captured.get("headers") or []
        if not captured.get("status", "").startswith("200 ") or any(
            name.lower() == "set-cookie" for name, _value in headers
        ):
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        expires = time.monotonic() + min(self.LOCAL_SECONDS, settings.CARE_STATUS_CACHE_SECONDS)
        if len(self._answers) >= self.MAX_ANSWERS:  # odd Host headers cannot grow it for ever
            self._answers.clear()
        self._answers[key] = (generation, expires, captured["status"], list(headers), body)
        return [body]

    @staticmethod
    def _language(environ) -> str:
        """The same choice as the status views make (``?lang=``, else cookie and browser)."""
        wanted = parse_qs(environ.get("QUERY_STRING", "")).get("lang", [""])[-1]
        if wanted in ("en", "zh-hans"):
            return wanted
        # All that the choice reads of a request: its cookies and its headers.
        visitor = SimpleNamespace(
            COOKIES=parse_cookie(environ.get("HTTP_COOKIE", "")), META=environ
        )
        language = translation.get_language_from_request(cast(HttpRequest, visitor))
        return "en" if language == "en" else "zh-hans"

    def _generation(self) -> Any:
        if self._read_generation is None:
            self._read_generation = _generation_reader()
        generation = self._read_generation()
        if generation is None:
            from .services.outreach.status import new_generation

            new_generation()
            generation = self._read_generation()
        return generation


def _generation_reader() -> Callable[[], Any]:
    """A Redis status cache is read with one plain GET on a kept connection (Django's cache API
    costs three times as much per call); any other cache through its API."""
    from django.core.cache.backends.redis import RedisCache

    from .services.outreach.status import GENERATION_KEY, status_cache

    cache = status_cache()
    if not isinstance(cache, RedisCache):
        return lambda: cache.get(GENERATION_KEY)
    import redis

    configured: dict[str, Any] = settings.CACHES["status"]
    options: dict[str, Any] = configured.get("OPTIONS", {})
    client = redis.Redis.from_url(
        configured["LOCATION"],
        socket_connect_timeout=options.get("socket_connect_timeout", 2),
        socket_timeout=options.get("socket_timeout", 2),
    )
    key = cache.make_and_validate_key(GENERATION_KEY)
    return lambda: client.get(key)
