"""Content-Security-Policy: on every response, scripts only from our static files, and the pages
staff use most run in a real browser without a single violation."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from tests.factories import PASSWORD
from tests.manual_orders.factories import CustomerFactory, priced_product


def _directives(header: str) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in header.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


@pytest.mark.django_db
def test_every_kind_of_response_carries_the_policy(client, make_user):
    anonymous = [
        client.get(reverse("accounts:login")),
        client.get("/no-such-page/"),
        client.get(reverse("core:dashboard")),  # a redirect to the login page
    ]
    client.force_login(make_user(Role.ADMIN))
    signed_in = [
        client.get(reverse("core:dashboard")),
        client.get(reverse("manual_orders:order-new")),
        client.get("/admin/"),
    ]
    for response in anonymous + signed_in:
        policy = _directives(response["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"], response
        assert policy["script-src"] == ["'self'"] or response.wsgi_request.path.startswith(
            "/admin/"
        )
        assert "'unsafe-inline'" not in policy["script-src"]
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


@pytest.mark.django_db
def test_staff_templates_carry_no_inline_script_or_event_handler(client, make_user):
    """Pages rendered for an administrator (who sees every link) carry no inline script."""
    client.force_login(make_user(Role.ADMIN))
    for name in ("core:dashboard", "manual_orders:order-new", "backups:backup-list"):
        page = client.get(reverse(name)).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), name
        assert not re.search(r"\son[a-z]+\s*=", page), name


# --- in the browser -------------------------------------------------------------------------------

# Records every violation the page reports (an init script is not subject to the page's policy).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
window.__printed = 0;
window.print = () => { window.__printed += 1; };
"""


@pytest.fixture
def watched_page(page: Page):
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    page.add_init_script(RECORD_VIOLATIONS)

    def violations():
        recorded = page.evaluate("window.__cspViolations || []")
        return recorded + [m for m in messages if "Content Security Policy" in m]

    page.csp_violations = violations
    return page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_policy_blocks_an_injected_inline_handler(live_server, watched_page):
    """The guard itself: an inline handler slipped into a page does not run, and is reported."""
    page = watched_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate(
        """document.body.insertAdjacentHTML("beforeend",
             '<img src="/static/none.png" onerror="window.__ran = 1">')"""
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__ran") is None
    assert any("script-src" in v for v in page.csp_violations())


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_login_dashboard_and_order_entry_run_without_csp_violations(
    live_server, watched_page, make_user
):
    page = watched_page
    operator = make_user(Role.BUSINESS_SUPPORT, username="wang.fang")
    CustomerFactory(name="赵敏", phone="13812345678", address="杭州市文化路 8 号")
    priced_product(sku="TEA-001", price="12.50", stock="20", by=operator)

    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_test_id("forgot-password")).to_be_visible()
    page.fill("input[name=username]", operator.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD, delay=100)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("dashboard-title")).to_be_visible()
    assert page.csp_violations() == []

    # The language switcher submits on change from the static script, not an inline handler.
    page.select_option("#language-select", "en")
    expect(page.get_by_test_id("dashboard-title")).to_have_text("Dashboard")
    assert page.csp_violations() == []

    page.goto(f"{live_server.url}/orders/new/")
    expect(page.get_by_test_id("customer-search")).to_be_focused()
    page.keyboard.type("1381234", delay=100)
    expect(page.locator("#customer-results [role=option]")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("customer-chosen")).to_contain_text("赵敏")
    page.keyboard.type("tea", delay=100)
    expect(page.locator("tr.line [role=option]")).to_have_count(1)
    page.keyboard.press("Enter")
    page.keyboard.type("2", delay=100)
    expect(page.get_by_test_id("order-total")).to_have_text("25.00")
    assert page.csp_violations() == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_print_buttons_print_through_the_static_script(live_server, watched_page, make_user):
    from tests.inventory_counts.factories import WarehouseFactory

    page = watched_page
    user = make_user(Role.ADMIN, username="printer")
    warehouse = WarehouseFactory()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("current-user")).to_be_visible()
    page.goto(f"{live_server.url}{reverse('manual_orders:pick-list', args=[warehouse.pk])}")
    page.locator("[data-print]").click()
    page.wait_for_function("window.__printed === 1")
    assert page.csp_violations() == []
