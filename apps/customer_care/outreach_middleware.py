"""The public status page's fast path: a cached copy is answered before sessions, CSRF,
authentication and the rest of the stack run (Django's cache middleware does the same)."""

from __future__ import annotations

from django.http import HttpResponse
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
