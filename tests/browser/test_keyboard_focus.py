"""Keyboard-only work shows where the focus is at every step, in a ring people can see."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from apps.inventory_counts import services as counts
from apps.inventory_counts.models import CountLine
from apps.manual_orders.models import ManualOrder
from tests.factories import PASSWORD
from tests.inventory_counts.factories import LocationFactory, ProductFactory, WarehouseFactory
from tests.manual_orders.factories import CustomerFactory, priced_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  return {tag: el.tagName, name: el.name || el.id || el.textContent.trim().slice(0, 30),
          outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth),
          outlineColor: s.outlineColor, boxShadow: s.boxShadow};
}"""


def _luminance(rgb: tuple[int, ...]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(color: str, against: str = "rgb(255, 255, 255)") -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours (alpha taken as opaque)."""
    a, b = (tuple(int(float(x)) for x in re.findall(r"[\d.]+", c)[:3]) for c in (color, against))
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def assert_visible_focus(page: Page, step: str) -> dict:
    """The focused element draws a solid ring at least 2 px wide that stands out 3:1 on white."""
    focus = page.evaluate(_FOCUS_JS)
    assert focus is not None, f"{step}: nothing has the focus"
    assert focus["outlineStyle"] != "none" and focus["outlineWidth"] >= 2, f"{step}: {focus}"
    assert contrast(focus["outlineColor"]) >= 3, f"{step}: ring too faint {focus}"
    return focus


def _sign_in_with_the_keyboard(page: Page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("input[name=username]")).to_be_focused()
    assert_visible_focus(page, "user name")
    page.keyboard.type(user.username, delay=100)
    page.keyboard.press("Tab")
    expect(page.locator("input[name=password]")).to_be_focused()
    assert_visible_focus(page, "password")
    page.keyboard.type(PASSWORD, delay=30)
    page.keyboard.press("Tab")
    assert_visible_focus(page, "sign-in button")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("dashboard-title")).to_be_visible()


def test_inputs_and_selects_show_a_focus_ring_of_3_to_1_against_white(
    live_server, page: Page, make_user
):
    user = make_user(Role.MANAGER)
    _sign_in_with_the_keyboard(page, live_server, user)
    page.goto(f"{live_server.url}{reverse('manual_orders:order-list')}")
    fields = page.get_by_test_id("order-filters").locator("input:not([type=hidden]), select")
    assert fields.count() >= 4
    kinds = set()
    for field in fields.all():
        field.focus()
        kinds.add(assert_visible_focus(page, field.get_attribute("name"))["tag"])
    assert kinds == {"INPUT", "SELECT"}


def test_a_count_is_taken_with_the_keyboard_alone_with_a_visible_focus_at_every_step(
    live_server, page: Page, make_user
):
    clerk = make_user(Role.WAREHOUSE_CLERK)
    manager = make_user(Role.MANAGER)
    warehouse = WarehouseFactory(code="SH1")
    LocationFactory(warehouse=warehouse, code="A-01", barcode="LOC-A-01")
    ProductFactory(sku="TEA-1", barcode="6900000000017", name="Green tea")
    session = counts.create_session(name="Floor", warehouse=warehouse, by=manager, clerks=[clerk])
    counts.start_session(session=session, by=manager)

    page.set_viewport_size({"width": 375, "height": 740})
    _sign_in_with_the_keyboard(page, live_server, clerk)
    page.goto(f"{live_server.url}{reverse('inventory_counts:count-entry', args=[session.pk])}")
    scan = page.get_by_test_id("scan-input")
    expect(scan).to_be_focused()
    assert_visible_focus(page, "scan box")
    page.keyboard.type("LOC-A-01", delay=30)  # a barcode scanner
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("current-location")).to_have_text("A-01")
    expect(scan).to_be_focused()
    assert_visible_focus(page, "scan box after the bin")
    page.keyboard.type("6900000000017", delay=30)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("qty-input")).to_be_focused()
    assert_visible_focus(page, "quantity")
    page.keyboard.type("12", delay=100)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("feedback")).to_have_attribute("data-kind", "ok")
    expect(scan).to_be_focused()
    assert_visible_focus(page, "scan box after the quantity")
    assert CountLine.objects.get(session=session).counted_qty == 12
    # On to the session page by keyboard: the link shows its ring too.
    page.get_by_role("link", name=re.compile("返回|Back")).focus()
    assert_visible_focus(page, "back link")


def test_an_order_is_taken_with_the_keyboard_alone_with_a_visible_focus_at_every_step(
    live_server, page: Page, make_user, settings, tmp_path
):
    settings.SMS_BACKEND = "apps.core.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    operator = make_user(Role.BUSINESS_SUPPORT)
    customer = CustomerFactory(name="赵敏", phone="13812345678", address="杭州市文化路 8 号")
    tea = priced_product(sku="TEA-001", price="12.50", stock="20", by=operator)

    _sign_in_with_the_keyboard(page, live_server, operator)
    page.goto(f"{live_server.url}{reverse('manual_orders:order-new')}")
    expect(page.get_by_test_id("customer-search")).to_be_focused()
    assert_visible_focus(page, "customer search")
    page.keyboard.type("1381234", delay=100)
    expect(page.locator("#customer-results [role=option]")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    assert_visible_focus(page, "customer search while choosing")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("customer-chosen")).to_contain_text("赵敏")
    sku = page.locator("input[name=line_sku]").first
    expect(sku).to_be_focused()
    assert_visible_focus(page, "product code")
    page.keyboard.type("tea", delay=100)
    expect(page.locator("tr.line [role=option]")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator("input[name=line_qty]").first).to_be_focused()
    assert_visible_focus(page, "quantity")
    page.keyboard.type("2", delay=100)
    page.keyboard.press("Enter")
    expect(page.locator("input[name=line_sku]").nth(1)).to_be_focused()
    assert_visible_focus(page, "next line")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    order = ManualOrder.objects.get()
    assert order.customer == customer
    assert list(order.lines.values_list("product_id", "quantity")) == [(tea.pk, 2)]
