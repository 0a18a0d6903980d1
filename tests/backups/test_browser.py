import re

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from apps.backups.models import BackupScope
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_restore_step_one_with_no_scope_shows_an_error_and_keeps_the_target(
    live_server, page: Page, make_user, transactional_db, settings
):
    settings.BACKUP_SCRATCH_TARGETS = {"rehearsal": "sqlite:///unused.sqlite3"}
    lead = make_user(Role.EMERGENCY_LEAD)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", lead.username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("dashboard-title")).to_be_visible()

    page.goto(f"{live_server.url}/backups/restores/new/")
    page.select_option("select[name=target]", "rehearsal")
    page.locator("#submit-id-next").click()
    expect(page.get_by_text("请至少选择一个要恢复的范围。")).to_be_visible()
    expect(page.locator("select[name=target]")).to_have_value("rehearsal")

    orders = BackupScope.objects.get(slug="orders")
    page.locator(f"input[name=scopes][value='{orders.pk}']").check()
    page.locator("#submit-id-next").click()
    expect(page).to_have_url(re.compile(r"scopes="))
    expect(page.get_by_text("请至少选择一个要恢复的范围。")).to_have_count(0)
