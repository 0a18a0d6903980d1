import re

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
