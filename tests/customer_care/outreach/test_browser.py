"""In the browser: a care lead sends a notice to the customers of an incident and watches it go
out; a care agent grants a coupon within their limit."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from apps.customer_care.models import Compensation, Notice, NoticeDelivery
from tests.factories import PASSWORD

from .factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("dashboard-title")).to_be_visible()


def test_a_lead_sends_a_notice_to_an_incidents_customers_and_watches_it_go_out(
    live_server, page: Page, make_user, settings
):
    from apps.manual_orders import services as orders
    from tests.incidents.factories import IncidentFactory
    from tests.manual_orders.factories import new_key, priced_product

    settings.JOB_RUNNER = "thread"
    lead = make_user(Role.CARE_LEAD)
    IncidentFactory(detected_at=timezone.now() - timedelta(hours=3))
    product = priced_product(by=lead)
    affected = CustomerFactory.create_batch(12)
    CustomerFactory()  # no order in the incident window: not told
    for customer in affected:
        orders.place_order(
            idempotency_key=new_key(),
            customer=customer,
            channel="phone",
            delivery_address="x",
            lines=[orders.LineInput(product_id=product.pk, quantity=1)],
            by=lead,
        )
    sign_in(page, live_server, lead)
    page.goto(f"{live_server.url}/care/outreach/notices/new/")
    page.fill("input[name=title]", "订单延迟通知")
    page.select_option("select[name=audience]", "incident_orders")
    page.fill("textarea[name=body_zh]", "{name}，您好：订单系统正在恢复，您的订单会延迟。")
    page.fill("textarea[name=body_en]", "Dear {name}, your order will be late.")
    page.fill("input[name=rate_per_second]", "4")
    page.locator("input[type=submit]").click()
    expect(page.get_by_test_id("notice-state")).to_have_text("草稿")

    page.fill("input[name=customer]", affected[0].phone)
    page.get_by_role("button", name="预览").click()
    expect(page.get_by_test_id("preview")).to_contain_text(f"{affected[0].name}，您好")

    page.get_by_role("button", name="发送").click()
    progress = page.locator(".job-progress")
    expect(progress).to_have_attribute("data-state", "running")
    expect(page.get_by_test_id("job-step")).to_contain_text("/ 12", timeout=20_000)
    expect(progress).to_have_attribute("data-state", "succeeded", timeout=30_000)
    expect(page.get_by_test_id("notice-state")).to_have_text("已发送")
    notice = Notice.objects.get()
    assert NoticeDelivery.objects.filter(notice=notice, state="sent").count() == 12
    phones = [
        json.loads(p.read_text())["phone"] for p in Path(settings.SMS_FILE_PATH).glob("*.json")
    ]
    assert sorted(phones) == sorted(c.phone for c in affected)


def test_an_agent_grants_a_coupon_within_their_limit(live_server, page: Page, make_user):
    agent = make_user(Role.CARE_AGENT)
    customer = CustomerFactory(name="韩梅梅")
    sign_in(page, live_server, agent)
    page.goto(f"{live_server.url}/care/outreach/compensation/grant/")
    expect(page.get_by_test_id("limit")).to_contain_text("50.00")
    page.fill("input[name=customer]", customer.phone)
    page.select_option("select[name=kind]", "coupon_amount")
    page.fill("input[name=amount]", "80")
    page.fill("input[name=reason]", "配送延迟")
    page.locator("input[type=submit]").click()
    expect(page.get_by_text("¥50.00", exact=False).last).to_be_visible()
    expect(page.locator("input[name=amount]")).to_have_value("80")
    assert not Compensation.objects.exists()

    page.fill("input[name=amount]", "30")
    page.locator("input[type=submit]").click()
    expect(page.get_by_test_id("ledger-row")).to_have_count(1)
    code = Compensation.objects.get().code
    expect(page.get_by_test_id("ledger-row")).to_contain_text(code)
