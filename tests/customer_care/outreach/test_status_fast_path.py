"""The WSGI fast path of /status/: Django's own answer repeated until a lead changes the page."""

import io
import sys

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from apps.customer_care.outreach_middleware import StatusPageFastPath
from apps.customer_care.services import outreach
from apps.customer_care.services.outreach.status import GENERATION_KEY, status_cache

from .factories import published_status_page

pytestmark = pytest.mark.django_db


class CountingDjango:
    """Django's real WSGI handler, counting the requests that reach it."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()
        self.calls: list[str] = []

    def __call__(self, environ, start_response):
        self.calls.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        return self.handler(environ, start_response)


@pytest.fixture
def django_app():
    # As Django's test client does: the test's transaction must outlive each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield CountingDjango()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def published(care_lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        published_status_page(care_lead)


def get(app, path="/status/", *, method="GET", accept="", query="", cookie="", scheme="http"):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "HTTP_ACCEPT_LANGUAGE": accept,
        "HTTP_COOKIE": cookie,
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    result = app(environ, start_response)
    body = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return seen["status"], seen["headers"], body.decode()


def test_django_answers_once_per_language_then_its_answer_is_repeated(django_app, published):
    app = StatusPageFastPath(django_app)
    first_en = get(app, accept="en-US,en;q=0.8")
    first_zh = get(app, accept="zh-CN,zh;q=0.9")
    assert django_app.calls == ["GET /status/", "GET /status/"]
    for _ in range(3):
        assert get(app, accept="en-US,en;q=0.8") == first_en
        assert get(app, accept="zh-CN,zh;q=0.9") == first_zh
    assert len(django_app.calls) == 2
    status, headers, body = first_en
    assert status == "200 OK" and "please order by phone" in body
    assert headers["Content-Language"] == "en"
    # Every header Django's middleware set comes back with the copy (CSP, framing, sniffing).
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "请拨打热线下单" in first_zh[2]


def test_a_leads_change_reaches_every_copy_at_once(
    django_app, published, care_lead, django_capture_on_commit_callbacks
):
    app = StatusPageFastPath(django_app)
    other_process = StatusPageFastPath(django_app)
    assert "please order by phone" in get(app, accept="en")[2]
    assert "please order by phone" in get(other_process, accept="en")[2]
    with django_capture_on_commit_callbacks(execute=True):
        outreach.publish_update(text_zh="已恢复。", text_en="Ordering works again.", by=care_lead)
    assert "Ordering works again." in get(app, accept="en")[2]
    assert "Ordering works again." in get(other_process, accept="en")[2]
    assert len(django_app.calls) == 4


def test_the_language_is_chosen_as_the_views_choose_it(django_app, published):
    app = StatusPageFastPath(django_app)
    assert "please order by phone" in get(app, accept="zh-CN", query="lang=en")[2]
    assert "请拨打热线下单" in get(app, accept="en", query="lang=zh-hans")[2]
    assert "please order by phone" in get(app, accept="zh-CN", cookie="django_language=en")[2]
    assert "请拨打热线下单" in get(app, accept="fr-FR")[2]  # the site's default language


def test_other_pages_and_methods_always_reach_django(django_app, published):
    app = StatusPageFastPath(django_app)
    for _ in range(2):
        get(app, "/status/feed.json", query="lang=en")
        get(app, method="HEAD", accept="en")
    assert django_app.calls == ["GET /status/feed.json", "HEAD /status/"] * 2


def test_a_cache_that_lost_its_generation_starts_a_new_one(django_app, published):
    app = StatusPageFastPath(django_app)
    get(app, accept="en")
    get(app, accept="en")
    assert len(django_app.calls) == 1
    status_cache().delete(GENERATION_KEY)  # a restarted Redis keeps nothing
    assert "please order by phone" in get(app, accept="en")[2]
    assert len(django_app.calls) == 2
    assert status_cache().get(GENERATION_KEY) is not None


def test_an_https_answer_is_never_repeated_to_a_request_django_would_redirect(
    django_app, published, settings
):
    settings.SECURE_SSL_REDIRECT = True
    django_app = CountingDjango()  # its middleware reads the setting when it is built
    app = StatusPageFastPath(django_app)
    assert get(app, accept="en", scheme="https")[0] == "200 OK"
    assert get(app, accept="en", scheme="https")[0] == "200 OK"
    status, headers, _body = get(app, accept="en", scheme="http")
    assert status.startswith("301") and headers["Location"].startswith("https://")
    assert len(django_app.calls) == 2
