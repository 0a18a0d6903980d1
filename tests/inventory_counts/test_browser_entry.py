"""Issue 11 §2, §3 and §6 on the clerk's phone page: a scanner types 30 ms a key and ends each
code with Enter; a person types 100 ms a key. No scan may be swallowed or merged into a number."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from apps.inventory_counts import services
from apps.inventory_counts.models import CountEntry, CountLine
from tests.conftest import wait_for

from .factories import LocationFactory, ProductFactory, WarehouseFactory
from .test_browser import _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCANNER = 30  # ms between keys
PERSON = 100


def scan(page: Page, code: str) -> None:
    page.keyboard.type(code, delay=SCANNER)
    page.keyboard.press("Enter")


def type_quantity(page: Page, qty: str) -> None:
    """A person types once the quantity field has the focus (they read the screen)."""
    expect(page.get_by_test_id("qty-input")).to_be_focused()
    page.keyboard.type(qty, delay=PERSON)
    page.keyboard.press("Enter")


@pytest.fixture
def shop(make_user):
    clerk = make_user(Role.WAREHOUSE_CLERK, username="li.lei")
    manager = make_user(Role.MANAGER)
    warehouse = WarehouseFactory(code="SH1")
    bin_a = LocationFactory(warehouse=warehouse, code="A-01", barcode="LOC-A-01")
    LocationFactory(warehouse=warehouse, code="B-01", barcode="LOC-B-01")
    tea = ProductFactory(sku="TEA-1", barcode="6900000000017", name="Green tea")
    cups = ProductFactory(sku="CUP-1", barcode="6900000000024", name="Cups")
    return {
        "clerk": clerk,
        "manager": manager,
        "warehouse": warehouse,
        "bin_a": bin_a,
        "tea": tea,
        "cups": cups,
    }


def _open(page: Page, live_server, shop, **session_args):
    session = services.create_session(
        name="Floor count",
        warehouse=shop["warehouse"],
        by=shop["manager"],
        clerks=[shop["clerk"]],
        **session_args,
    )
    services.start_session(session=session, by=shop["manager"])
    page.set_viewport_size({"width": 375, "height": 740})
    _log_in(page, live_server, shop["clerk"])
    page.goto(f"{live_server.url}/inventory/{session.pk}/count/")
    expect(page.get_by_test_id("scan-input")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    return session


def _entries(session, product):
    return list(
        CountEntry.objects.filter(session=session, line__product=product)
        .order_by("pk")
        .values_list("quantity", flat=True)
    )


def _wait_entries(session, product, expected):
    wait_for(
        lambda: _entries(session, product) == expected,
        timeout=15,
        message=f"entries of {product.sku}: {_entries(session, product)} != {expected}",
    )


def test_a_scan_during_the_duplicate_prompt_is_held_and_never_answers_it(
    live_server, page: Page, shop
):
    session = _open(page, live_server, shop)
    feedback = page.get_by_test_id("feedback")
    prompt = page.get_by_test_id("prompt")
    scan(page, "LOC-A-01")
    scan(page, "6900000000017")
    expect(page.get_by_test_id("qty-input")).to_be_focused()
    type_quantity(page, "12")
    expect(feedback).to_have_attribute("data-kind", "ok")

    # The same product again at once: the question appears and blocks entry visibly.
    scan(page, "6900000000017")
    expect(page.get_by_test_id("qty-input")).to_be_focused()
    type_quantity(page, "7")
    expect(prompt).to_be_visible()
    expect(page.get_by_test_id("qty-input")).to_be_disabled()

    # The scanner's next code, Enter included, must neither confirm the duplicate nor vanish.
    scan(page, "6900000000024")
    held = page.get_by_test_id("held")
    expect(held).to_contain_text("6900000000024")
    expect(prompt).to_be_visible()
    assert _entries(session, shop["tea"]) == [Decimal("12")]

    # A deliberate key answers: Esc leaves the 7 out; the held scan is then read.
    page.keyboard.press("Escape")
    expect(prompt).to_be_hidden()
    expect(page.get_by_test_id("current-product")).to_contain_text("CUP-1")
    expect(page.get_by_test_id("qty-input")).to_be_focused()
    type_quantity(page, "5")
    expect(feedback).to_have_attribute("data-kind", "ok")
    _wait_entries(session, shop["cups"], [Decimal("5")])
    assert _entries(session, shop["tea"]) == [Decimal("12")]


def test_digits_typed_while_the_prompt_waits_never_join_the_pending_quantity(
    live_server, page: Page, shop
):
    """12, then 7, must never be recorded as 127."""
    session = _open(page, live_server, shop)
    scan(page, "LOC-A-01")
    scan(page, "6900000000017")
    type_quantity(page, "3")
    expect(page.get_by_test_id("feedback")).to_have_attribute("data-kind", "ok")
    scan(page, "6900000000017")
    expect(page.get_by_test_id("qty-input")).to_be_focused()
    type_quantity(page, "12")
    expect(page.get_by_test_id("prompt")).to_be_visible()

    # The clerk taps the quantity box and types a 7 (then Enter), then taps "Add anyway".
    box = page.get_by_test_id("qty-input").bounding_box()
    page.mouse.click(box["x"] + box["width"] - 5, box["y"] + box["height"] / 2)
    page.keyboard.type("7", delay=PERSON)
    page.keyboard.press("Enter")
    page.get_by_test_id("dup-confirm").click()
    expect(page.get_by_test_id("prompt")).to_be_hidden()
    _wait_entries(session, shop["tea"], [Decimal("3"), Decimal("12")])
    line = CountLine.objects.get(session=session, product=shop["tea"])
    assert line.counted_qty == 15


def test_a_second_scan_typed_before_the_first_is_answered_is_never_typed_into_the_quantity(
    live_server, page: Page, shop
):
    session = _open(page, live_server, shop)
    scan(page, "LOC-A-01")
    # Two products in a row, then straight after a quantity the next location and product.
    scan(page, "6900000000017")
    scan(page, "6900000000024")
    expect(page.get_by_test_id("current-product")).to_contain_text("CUP-1")
    expect(page.get_by_test_id("qty-input")).to_be_focused()
    type_quantity(page, "5")
    scan(page, "LOC-B-01")
    scan(page, "6900000000017")
    expect(page.get_by_test_id("current-location")).to_have_text("B-01")
    expect(page.get_by_test_id("current-product")).to_contain_text("TEA-1")
    expect(page.get_by_test_id("qty-input")).to_be_focused()
    type_quantity(page, "2")
    _wait_entries(session, shop["tea"], [Decimal("2")])
    _wait_entries(session, shop["cups"], [Decimal("5")])
    assert CountLine.objects.get(session=session, product=shop["tea"]).location.code == "B-01"


def test_a_fraction_of_a_piece_is_refused_and_the_corrected_number_replaces_it(
    live_server, page: Page, shop
):
    session = _open(page, live_server, shop)
    scan(page, "LOC-A-01")
    scan(page, "6900000000017")
    type_quantity(page, "1.5")
    feedback = page.get_by_test_id("feedback")
    expect(feedback).to_have_attribute("data-kind", "error")
    expect(feedback).to_contain_text("整数")  # whole number, in the default language
    expect(page.get_by_test_id("qty-input")).to_be_focused()
    type_quantity(page, "2")
    expect(feedback).to_have_attribute("data-kind", "ok")
    _wait_entries(session, shop["tea"], [Decimal("2")])


def test_an_implausible_quantity_waits_for_a_deliberate_confirmation(
    live_server, page: Page, shop, settings
):
    settings.INVENTORY_PLAUSIBLE_MAX_PER_BIN = 1000
    session = _open(page, live_server, shop)
    scan(page, "LOC-A-01")
    scan(page, "6900000000017")
    type_quantity(page, "5000")
    prompt = page.get_by_test_id("prompt")
    expect(prompt).to_be_visible()
    expect(page.get_by_test_id("prompt-text")).to_contain_text("1000")
    page.keyboard.press("Enter")  # a scanner's Enter is no answer
    expect(prompt).to_be_visible()
    assert _entries(session, shop["tea"]) == []
    page.keyboard.press("F2")
    expect(prompt).to_be_hidden()
    _wait_entries(session, shop["tea"], [Decimal("5000")])


@pytest.mark.parametrize(
    ("language", "refusal"), [("zh-hans", "不在本次盘点范围内"), ("en", "not part of this count")]
)
def test_a_bin_outside_the_count_is_refused_at_the_scan_before_any_quantity(
    live_server, page: Page, shop, language, refusal
):
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    session = _open(page, live_server, shop, locations=[shop["bin_a"]])
    scan(page, "LOC-A-01")
    expect(page.get_by_test_id("current-location")).to_have_text("A-01")
    scan(page, "LOC-B-01")
    feedback = page.get_by_test_id("feedback")
    expect(feedback).to_have_attribute("data-kind", "error")
    expect(feedback).to_contain_text("B-01")
    expect(feedback).to_contain_text(refusal)
    expect(page.get_by_test_id("current-location")).not_to_have_text(re.compile("[AB]-01"))
    scan(page, "6900000000017")
    expect(page.get_by_test_id("qty-input")).to_be_disabled()
    expect(page.get_by_test_id("scan-input")).to_be_focused()
    assert not CountEntry.objects.filter(session=session).exists()
