"""The flow agents use most: a phone case, the order found, its address changed, resolved."""

import re

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from apps.core.models import Notification
from apps.customer_care.models import Case
from apps.manual_orders import services as order_services
from apps.manual_orders.models import ManualOrder
from tests.factories import PASSWORD

from .factories import CustomerFactory, new_key, priced_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_agent_opens_a_phone_case_finds_the_order_changes_its_address_and_resolves_it(
    live_server, page: Page, make_user, settings, language
):
    settings.ORDER_SYSTEM_DATABASE_URL = "postgresql://nobody@127.0.0.1:1/down"  # it is down
    agent = make_user(Role.CARE_AGENT, username="yang.li", language=language)
    customer = CustomerFactory(
        name="周芷若", phone="13955556666", email="zhou@example.com", notify_by="email"
    )
    product = priced_product(price="12.50", stock="20", by=agent)
    order = order_services.place_order(
        idempotency_key=new_key(),
        customer=customer,
        channel="phone",
        delivery_address="杭州市文化路 8 号",
        lines=[order_services.LineInput(product_id=product.pk, quantity=2)],
        by=agent,
    ).order

    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", agent.username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("dashboard-title")).to_be_visible()

    # A phone case, keyed from the keyboard: the caller is found by phone number.
    page.goto(f"{live_server.url}/care/new/")
    expect(page.locator("input[name=caller_phone]")).to_be_focused()
    page.keyboard.type("139 5555 6666")
    page.select_option("select[name=case_type]", "change")
    page.fill("input[name=subject]", "改地址")
    page.locator("input[name=subject]").press("Enter")
    expect(page).to_have_url(re.compile(r"/care/\d+/$"))
    case = Case.objects.get()
    expect(page.get_by_test_id("case-reference")).to_have_text(case.reference)
    expect(page.get_by_test_id("case-customer")).to_contain_text("周芷若")

    # Find the order (the order system is down: manual orders are still found) and add it.
    page.get_by_test_id("find-order").click()
    expect(page.get_by_test_id("order-system-down")).to_be_visible()
    expect(page.get_by_test_id("lookup-results")).to_contain_text(order.number)
    page.get_by_test_id("add-to-case").click()
    expect(page.get_by_test_id("case-orders")).to_contain_text(order.number)

    # Change its delivery address through the manual orders' service.
    page.get_by_test_id("change-order").click()
    expect(page.get_by_test_id("order-number")).to_have_text(order.number)
    page.fill("input[name=delivery_address]", "杭州市滨江大道 99 号")
    page.get_by_test_id("save-order-change").click()
    expect(page.get_by_test_id("case-timeline")).to_contain_text(order.number)

    # Resolve the case.
    page.get_by_test_id("state-resolved").click()
    expect(page.get_by_test_id("case-state")).to_have_attribute("data-state", "resolved")

    assert ManualOrder.objects.get(pk=order.pk).delivery_address == "杭州市滨江大道 99 号"
    assert Notification.objects.filter(
        address="zhou@example.com", body__contains="滨江大道 99 号"
    ).exists()
    case.refresh_from_db()
    assert case.state == "resolved" and case.orders.get().manual_order_id == order.pk
