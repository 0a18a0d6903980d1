import re

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from apps.inventory_counts import services
from apps.inventory_counts.models import CountLine
from tests.factories import PASSWORD

from .factories import LocationFactory, ProductFactory, WarehouseFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def test_a_clerk_scans_and_enters_counts_on_a_phone(live_server, page: Page, make_user):
    clerk = make_user(Role.WAREHOUSE_CLERK, username="li.lei")
    manager = make_user(Role.MANAGER)
    warehouse = WarehouseFactory(code="SH1")
    LocationFactory(warehouse=warehouse, code="A-01", barcode="LOC-A-01")
    ProductFactory(sku="TEA-1", barcode="6900000000017", name="Green tea")
    session = services.create_session(
        name="Floor count", warehouse=warehouse, by=manager, clerks=[clerk]
    )
    services.start_session(session=session, by=manager)

    page.set_viewport_size({"width": 375, "height": 740})
    _log_in(page, live_server, clerk)
    page.goto(f"{live_server.url}/inventory/{session.pk}/count/")
    scan = page.get_by_test_id("scan-input")
    qty = page.get_by_test_id("qty-input")
    feedback = page.get_by_test_id("feedback")
    expect(scan).to_be_focused()
    # Fits a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    # An unknown code is refused at once (in Chinese: the default language).
    scan.fill("BOGUS-99")
    scan.press("Enter")
    expect(feedback).to_have_attribute("data-kind", "error")
    expect(feedback).to_contain_text("BOGUS-99")

    # Scanner types the location barcode + Enter, the product barcode + Enter, then the clerk
    # types the quantity + Enter.
    scan.fill("LOC-A-01")
    scan.press("Enter")
    expect(page.get_by_test_id("current-location")).to_have_text("A-01")
    scan.fill("6900000000017")
    scan.press("Enter")
    expect(qty).to_be_focused()
    qty.fill("12")
    qty.press("Enter")
    expect(feedback).to_have_attribute("data-kind", "ok")
    expect(scan).to_be_focused()
    expect(page.get_by_test_id("recent")).to_contain_text("TEA-1")

    # The same product again at once: flagged, added only when confirmed.
    scan.fill("TEA-1")
    scan.press("Enter")
    qty.fill("3")
    qty.press("Enter")
    expect(feedback).to_have_attribute("data-kind", "warn")
    page.get_by_test_id("dup-confirm").click()
    expect(feedback).to_have_attribute("data-kind", "ok")
    expect(feedback).to_contain_text(re.compile("TEA-1"))

    line = CountLine.objects.get(session=session)
    assert line.counted_qty == 15 and line.entries.count() == 2
