import re

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_log_in_switch_language_and_see_the_dashboard_in_both(
    live_server, page: Page, make_user
):
    user = make_user(Role.MANAGER, username="wang.fang", first_name="芳", last_name="王")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    # The default language is Simplified Chinese.
    expect(page.locator("h1")).to_have_text("登录")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("dashboard-title")).to_have_text("仪表盘")
    expect(page.get_by_text("经理").first).to_be_visible()

    page.select_option("#language-select", "en")
    expect(page.get_by_test_id("dashboard-title")).to_have_text("Dashboard")
    expect(page.get_by_text("Manager").first).to_be_visible()
    user.refresh_from_db()
    assert user.language == "en"

    page.select_option("#language-select", "zh-hans")
    expect(page.get_by_test_id("dashboard-title")).to_have_text("仪表盘")
