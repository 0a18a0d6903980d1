import re
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from apps.manual_orders.models import ManualOrder
from tests.factories import PASSWORD

from .factories import CustomerFactory, priced_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_keys_a_phone_order_with_the_keyboard_alone(
    live_server, page: Page, make_user, settings, tmp_path
):
    settings.SMS_BACKEND = "apps.core.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    operator = make_user(Role.BUSINESS_SUPPORT, username="wang.fang")
    customer = CustomerFactory(name="赵敏", phone="13812345678", address="杭州市文化路 8 号")
    tea = priced_product(sku="TEA-001", price="12.50", stock="20", by=operator)
    priced_product(sku="CUP-001", price="30.00", stock="5", by=operator)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", operator.username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("dashboard-title")).to_be_visible()

    page.goto(f"{live_server.url}/orders/new/")
    expect(page.get_by_test_id("customer-search")).to_be_focused()
    page.keyboard.type("1381234")
    expect(page.locator("#customer-results [role=option]")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("customer-chosen")).to_contain_text("赵敏")
    expect(page.locator("input[name=delivery_address]")).to_have_value("杭州市文化路 8 号")

    sku = page.locator("input[name=line_sku]").first
    expect(sku).to_be_focused()
    page.keyboard.type("tea")
    expect(page.locator("tr.line [role=option]")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(sku).to_have_value("TEA-001")
    expect(page.locator("input[name=line_qty]").first).to_be_focused()
    page.keyboard.type("2")
    expect(page.get_by_test_id("order-total")).to_have_text("25.00")
    page.keyboard.press("Enter")  # the next line
    expect(page.locator("input[name=line_sku]").nth(1)).to_be_focused()
    page.keyboard.press("Enter")  # an empty line: the order is complete

    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    order = ManualOrder.objects.get()
    expect(page.get_by_test_id("order-number")).to_have_text(order.number)
    expect(page.get_by_test_id("detail-total")).to_have_text("25.00")
    assert order.customer == customer and order.channel == "phone"
    assert list(order.lines.values_list("product_id", "quantity")) == [(tea.pk, 2)]


# --- fast typing, scanners, re-rendered forms, the ARIA combobox ---------------------------------


def _sign_in(page: Page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("dashboard-title")).to_be_visible()


def _keys(page: Page, text: str, delay: int) -> None:
    """Type as a person or a scanner does: every key (Enter written as \\n) ``delay`` ms apart."""
    page.keyboard.type(text, delay=delay)


def _choose_customer(page: Page, phone: str) -> None:
    page.get_by_test_id("customer-search").focus()
    _keys(page, phone, 100)
    expect(page.locator("#customer-results [role=option]")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("customer-chosen")).to_contain_text(phone)


@contextmanager
def _suggestions_held(page: Page, what: str = "products"):
    """The suggestions answer only after the block's keys: the operator is always faster than
    the server, whatever the machine's load."""
    held, released = [], False

    def hold(route):
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route(f"**/orders/{what}/search/**", hold)
    yield
    released = True
    for route in held:
        route.continue_()
    page.unroute(f"**/orders/{what}/search/**", hold)


@pytest.mark.parametrize("delay", [100, 30], ids=["typist-100ms", "scanner-30ms"])
def test_enter_on_a_whole_phone_number_before_the_suggestions_chooses_that_customer(
    live_server, page: Page, make_user, delay
):
    operator = make_user(Role.BUSINESS_SUPPORT, username="li.na", language="en")
    customer = CustomerFactory(name="赵敏", phone="13812345678", address="杭州市文化路 8 号")
    CustomerFactory(name="钱多", phone="13812340000")  # shares the prefix: a prefix is no pick
    _sign_in(page, live_server, operator)
    page.goto(f"{live_server.url}/orders/new/")
    page.get_by_test_id("customer-search").focus()
    with _suggestions_held(page, "customers"):
        _keys(page, f"{customer.phone}\n", delay)
    expect(page.get_by_test_id("customer-chosen")).to_contain_text("赵敏")
    expect(page.locator("input[name=line_sku]").first).to_be_focused()


@pytest.fixture
def desk(live_server, page: Page, make_user):
    """An operator signed in on an empty order form with a customer chosen."""
    operator = make_user(Role.BUSINESS_SUPPORT, username="wang.fang", language="en")
    customer = CustomerFactory(name="赵敏", phone="13812345678", address="杭州市文化路 8 号")
    _sign_in(page, live_server, operator)
    page.goto(f"{live_server.url}/orders/new/")
    _choose_customer(page, customer.phone)
    expect(page.locator("input[name=line_sku]").first).to_be_focused()
    return operator, customer


@pytest.mark.parametrize("delay", [100, 30], ids=["typist-100ms", "scanner-30ms"])
def test_enter_before_the_suggestions_takes_the_exact_product_and_the_typed_quantity(
    desk, page: Page, delay
):
    operator, customer = desk
    product = priced_product(sku="PX-7969", price="796.90", stock="50", by=operator)
    product.barcode = "6901234567892"
    product.save()
    code = "PX-7969" if delay == 100 else "6901234567892"
    # Code, Enter, quantity, Enter: all keys ``delay`` ms apart, faster than the suggestions.
    with _suggestions_held(page):
        _keys(page, f"{code}\n2\n", delay)
    expect(page.locator("input[name=line_sku]").nth(1)).to_be_focused()
    first = page.locator("tr.line").first
    expect(first.locator("input[name=line_sku]")).to_have_value("PX-7969")
    expect(first.locator("input[name=line_qty]")).to_have_value("2")
    expect(page.get_by_test_id("order-total")).to_have_text("1593.80")
    page.keyboard.press("Enter")  # the empty line: the order is complete
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    order = ManualOrder.objects.get()
    assert list(order.lines.values_list("product_id", "quantity")) == [(product.pk, 2)]


@pytest.mark.parametrize("delay", [100, 30], ids=["typist-100ms", "scanner-30ms"])
def test_enter_on_a_text_that_is_no_single_product_commits_nothing(desk, page: Page, delay):
    operator, customer = desk
    priced_product(sku="TEA-001", price="12.50", stock="20", by=operator)
    green = priced_product(sku="TEA-002", price="30.00", stock="5", by=operator)
    sku = page.locator("input[name=line_sku]").first
    qty = page.locator("input[name=line_qty]").first
    with _suggestions_held(page):
        _keys(page, "TEA\n2\n", delay)
    # Not resolved: the suggestions open on the code, the line does not move on.
    expect(sku).to_be_focused()
    expect(page.locator("tr.line")).to_have_count(1)
    expect(page.locator("tr.line [role=option]")).to_have_count(2)
    expect(sku).to_have_attribute("aria-invalid", "true")
    expect(page.locator("input[name=line_product]").first).to_have_value("")
    expect(page.get_by_test_id("order-total")).to_have_text("0.00")
    # Submitting now is refused on the page, with an announced reason.
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Enter")
    blocked = page.get_by_test_id("order-entry").get_attribute("data-msg-blocked")
    expect(page.get_by_test_id("client-errors")).to_have_text(blocked)
    expect(page.get_by_test_id("client-errors")).to_have_attribute("role", "alert")
    expect(sku).to_be_focused()
    assert page.url.endswith("/orders/new/")
    assert not ManualOrder.objects.exists()
    # Choosing from the list resolves it; the quantity's content is replaced, not appended to.
    expect(page.locator("tr.line [role=option]")).to_have_count(2)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(sku).to_have_value("TEA-002")
    expect(qty).to_be_focused()
    _keys(page, "4\n", delay)
    expect(page.locator("input[name=line_sku]").nth(1)).to_be_focused()
    expect(page.get_by_test_id("order-total")).to_have_text("120.00")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    order = ManualOrder.objects.get()
    assert list(order.lines.values_list("product_id", "quantity")) == [(green.pk, 4)]


def test_a_quantity_field_selects_its_content_when_it_takes_the_focus(desk, page: Page):
    operator, _customer = desk
    priced_product(sku="CUP-001", price="30.00", stock="5", by=operator)
    _keys(page, "CUP-001\n3\n", 100)
    qty = page.locator("input[name=line_qty]").first
    expect(qty).to_have_value("3")
    qty.click()
    _keys(page, "5", 100)
    expect(qty).to_have_value("5")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    _keys(page, "6", 100)
    expect(qty).to_have_value("6")
    expect(page.get_by_test_id("order-total")).to_have_text("180.00")


def test_a_form_shown_again_after_an_error_keeps_names_prices_stock_and_total(
    desk, page: Page, settings
):
    settings.MANUAL_ORDERS_BLOCK_ON_NO_STOCK = True  # the server refuses what the page allowed
    operator, _customer = desk
    tea = priced_product(sku="TEA-001", price="12.50", stock="2", by=operator)
    _keys(page, "TEA-001\n3\n", 100)
    expect(page.get_by_test_id("order-total")).to_have_text("37.50")
    expect(page.get_by_test_id("stock-warning")).to_be_visible()
    page.keyboard.press("Enter")  # submit: more than the stock
    expect(page.get_by_test_id("form-errors")).to_be_focused()
    line = page.locator("tr.line").first
    expect(line.locator(".line-name")).to_have_text(tea.name)
    expect(line.locator("input[name=line_price]")).to_have_value("12.50")
    expect(line.locator(".line-available")).to_have_text("2")
    expect(line.locator(".line-total")).to_have_text("37.50")
    expect(page.get_by_test_id("order-total")).to_have_text("37.50")
    expect(page.get_by_test_id("stock-warning")).to_be_visible()
    expect(page.get_by_test_id("customer-chosen")).to_contain_text("赵敏")
    line.locator("input[name=line_qty]").focus()
    _keys(page, "2\n", 100)
    expect(page.get_by_test_id("order-total")).to_have_text("25.00")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    assert list(ManualOrder.objects.get().lines.values_list("product_id", "quantity")) == [
        (tea.pk, 2)
    ]


def test_a_phone_typed_in_the_customer_search_is_carried_into_the_new_customer_form(
    live_server, page: Page, make_user
):
    operator = make_user(Role.BUSINESS_SUPPORT, username="wang.fang", language="en")
    _sign_in(page, live_server, operator)
    page.goto(f"{live_server.url}/orders/new/")
    expect(page.get_by_test_id("customer-search")).to_be_focused()
    _keys(page, "139 0000 1111\n", 100)
    expect(page.locator("input[name=new_phone]")).to_have_value("139 0000 1111")
    expect(page.locator("input[name=new_name]")).to_be_focused()
    _keys(page, "李雷", 100)
    page.fill("input[name=delivery_address]", "北京市长安街 1 号")
    # Shown again after an error (no lines), the phone and the search are still there.
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("form-errors")).to_be_focused()
    expect(page.locator("input[name=new_phone]")).to_have_value("139 0000 1111")
    expect(page.locator("input[name=new_name]")).to_have_value("李雷")
    expect(page.get_by_test_id("customer-search")).to_have_value("139 0000 1111")


def test_add_at_least_one_line_is_announced_and_takes_the_focus(desk, page: Page):
    page.keyboard.press("Enter")  # an empty first line: submit
    errors = page.get_by_test_id("form-errors")
    expect(errors).to_have_attribute("role", "alert")
    expect(errors).to_be_focused()
    expect(page.locator("tr.line")).to_have_count(1)


def test_received_at_is_a_single_tab_stop(desk, page: Page):
    received = page.locator("input[name=received_at]")
    received.focus()
    page.keyboard.press("Tab")
    expect(page.locator("input[name=delivery_city]")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(received).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.locator("select[name=order_type]")).to_be_focused()


def _aria(page: Page, selector: str) -> dict:
    """What a screen reader is told about a combobox and its list."""
    return page.evaluate(
        """(selector) => {
          const input = document.querySelector(selector);
          const list = document.getElementById(input.getAttribute("aria-controls"));
          const options = Array.from(list.querySelectorAll("[role=option]"));
          return {
            role: input.getAttribute("role"),
            expanded: input.getAttribute("aria-expanded"),
            active: input.getAttribute("aria-activedescendant"),
            listRole: list.getAttribute("role"),
            listName: list.getAttribute("aria-label"),
            options: options.map((o) => [o.id, o.getAttribute("aria-selected")]),
          };
        }""",
        selector,
    )


def test_customer_and_product_search_follow_the_aria_combobox_pattern(
    live_server, page: Page, make_user
):
    operator = make_user(Role.BUSINESS_SUPPORT, username="wang.fang", language="en")
    for i in range(3):
        CustomerFactory(name=f"王{i}", phone=f"1381234000{i}")
    for i in range(3):
        priced_product(sku=f"TEA-00{i}", price="1.00", stock="5", by=operator)
    _sign_in(page, live_server, operator)
    page.goto(f"{live_server.url}/orders/new/")
    _keys(page, "138123", 100)
    expect(page.locator("#customer-results [role=option]")).to_have_count(3)
    _check_walk(page, "#customer-search", 3)
    page.locator("input[name=line_sku]").first.focus()
    _keys(page, "TEA", 100)
    expect(page.locator("tr.line [role=option]")).to_have_count(3)
    _check_walk(page, "input[name=line_sku]", 3)


def _check_walk(page: Page, selector: str, n: int) -> None:
    """Arrow down to the last suggestion and back up, reading the ARIA state at every step."""
    state = _aria(page, selector)
    assert (state["role"], state["listRole"], state["expanded"]) == (
        "combobox",
        "listbox",
        "true",
    )
    assert state["listName"]
    ids = [option_id for option_id, _selected in state["options"]]
    assert len(ids) == n and len(set(ids)) == n and all(ids)
    path = [*range(n), *range(n - 2, -1, -1)]  # 0, 1, 2, 1, 0
    for i, step in enumerate(path):
        state = _aria(page, selector)
        assert state["active"] == ids[step], (i, state)
        assert [s for _id, s in state["options"]] == [
            "true" if k == step else "false" for k in range(n)
        ]
        if i + 1 < len(path):
            page.keyboard.press("ArrowDown" if path[i + 1] > step else "ArrowUp")
    page.keyboard.press("Escape")
    state = _aria(page, selector)
    assert state["expanded"] == "false" and state["active"] is None
