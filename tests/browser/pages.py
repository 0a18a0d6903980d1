"""The staff pages a set of permissions reaches, and signed-in browser contexts to visit them."""

from __future__ import annotations

from html.parser import HTMLParser

from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser

from tests.accounts.test_role_matrix import SAMPLE_KWARGS, _required, staff_pages

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
# URLs that answer with a fragment polled by htmx: checked inside the pages that show them.
# (Downloads and JSON answers are recognised by their headers.)
FRAGMENTS = {
    "core:job-progress",
    "incidents:incident-live",
    "incidents:open-incident-live",
    "backups:scope-status",
}
ORDER_ENTRY = "manual_orders:order-new"


class _Structure(HTMLParser):
    """The set of (parent > element) shapes inside <main>: tags, classes, roles, types and the
    names of ARIA attributes, without texts, links or ids."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str]] = []
        self.inside = False
        self.shapes: set[str] = set()

    def handle_starttag(self, tag, attrs):
        names = sorted(f"[{k}]" for k, _ in attrs if k in ("role", "type") or k.startswith("aria-"))
        classes = sorted((dict(attrs).get("class") or "").split())
        shape = ".".join([tag, *classes]) + "".join(names)
        if self.inside and self.stack:
            self.shapes.add(f"{self.stack[-1][1]}>{shape}")
        if tag == "main":
            self.inside = True
        if tag not in self.VOID:
            self.stack.append((tag, shape))

    def handle_endtag(self, tag):
        if tag in self.VOID or not any(t == tag for t, _ in self.stack):
            return
        while self.stack and self.stack.pop()[0] != tag:
            pass
        if tag == "main":
            self.inside = False


def main_structure(html: str) -> frozenset[str]:
    parser = _Structure()
    parser.feed(html)
    return frozenset(parser.shapes)


def reachable_pages(permissions: set[str], user) -> list[tuple[str, str, frozenset[str]]]:
    """(name, url, structure of its main content) of every HTML page these permissions reach,
    with objects made for the pages that show one (the permission matrix test's samples)."""
    client = Client()
    client.force_login(user)
    pages = []
    for name, pattern in staff_pages():
        if name in FRAGMENTS or name == ORDER_ENTRY:
            continue
        if not hasattr(pattern.callback.view_class, "get"):
            continue
        if not _required(pattern) <= permissions:
            continue
        kwargs = SAMPLE_KWARGS[name](user) if pattern.pattern.converters else {}
        url = reverse(name, kwargs=kwargs)
        response = client.get(url)
        assert response.status_code == 200, f"{name}: {response.status_code}"
        if response.has_header("Content-Disposition") or not response["Content-Type"].startswith(
            "text/html"
        ):
            continue  # a download or a JSON answer
        html = response.content.decode()
        assert "<main" in html, f"{name} is a fragment: add it to FRAGMENTS"
        pages.append((name, url, main_structure(html)))
    return pages


def sample_url(name: str, user) -> str:
    pattern = dict(staff_pages())[name]
    return reverse(name, kwargs=SAMPLE_KWARGS[name](user) if pattern.pattern.converters else {})


def signed_in_context(browser: Browser, live_server, user, *, language: str, viewport: dict):
    """A browser context already signed in as ``user`` (a session cookie, no login form per
    role) that speaks ``language``."""
    client = Client()
    client.force_login(user)
    domain = live_server.url.split("//", 1)[1].split(":")[0]
    context = browser.new_context(
        viewport=viewport, locale="zh-CN" if language == "zh-hans" else "en-US"
    )
    cookies = {"sessionid": client.cookies["sessionid"].value, "django_language": language}
    context.add_cookies(
        [{"name": k, "value": v, "domain": domain, "path": "/"} for k, v in cookies.items()]
    )
    return context
