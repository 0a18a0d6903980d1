"""Job pages tell the truth: the page a person is watching reaches the job's end state by itself
(no reload), with the result, links to what the job produced and the buttons now possible."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from apps.backups import services
from apps.backups.models import BackupScope
from tests.factories import PASSWORD

from .conftest import worker_env

pytestmark = [pytest.mark.browser]


def _log_in(page: Page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("dashboard-title")).to_be_visible()


def test_a_backup_page_reaches_its_end_state_and_verify_shows_its_result_without_a_reload(
    rq_worker, settings, order_db, live_server, page: Page, make_user
):
    worker_env(rq_worker, settings)
    user = make_user(Role.TECH_SUPPORT, language="en")
    _log_in(page, live_server, user)
    page.select_option("#language-select", "en")
    expect(page.get_by_test_id("dashboard-title")).to_have_text("Dashboard")

    run = services.start_backup(scope=BackupScope.objects.get(slug="products"), by=user)
    page.goto(f"{live_server.url}{reverse('backups:backup-detail', args=[run.pk])}")
    expect(page.get_by_test_id("backup-state")).to_have_text("Queued")
    expect(page.get_by_test_id("backup-size")).to_have_text("—")
    expect(page.get_by_test_id("backup-remote")).to_have_text("—")
    page_loads = []
    page.on("load", lambda _: page_loads.append(page.url))

    rq_worker.start()  # the worker starts only once the page shows the queued backup

    expect(page.get_by_test_id("backup-state")).to_have_text("Complete", timeout=90_000)
    run.refresh_from_db()
    expect(page.get_by_test_id("job-state")).to_have_text("Succeeded")
    expect(page.get_by_test_id("job-step")).to_have_text("Succeeded")  # not the last step
    expect(page.get_by_test_id("backup-size")).not_to_have_text("—")
    expect(page.get_by_test_id("backup-remote")).to_contain_text(run.remote_name)
    expect(page.get_by_test_id("backup-remote")).not_to_contain_text("not created")
    expect(page.get_by_role("button", name="Verify now")).to_be_visible()
    assert page_loads == []  # htmx swapped the panel: no reload

    page.get_by_role("button", name="Verify now").click()
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]+/$"))
    result = page.get_by_test_id("job-result")
    expect(result).to_contain_text("intact", timeout=60_000)
    tables = len(run.manifest["tables"])
    rows = sum(t["rows"] for t in run.manifest["tables"])
    expect(result).to_contain_text(f"{tables} table")
    expect(result).to_contain_text(f"{rows} rows")
    back = page.get_by_test_id("job-subject")
    expect(back).to_have_attribute("href", reverse("backups:backup-detail", args=[run.pk]))
    expect(page.get_by_role("button", name="Verify again")).to_be_visible()
    expect(page.locator("#job-panel")).not_to_contain_text("Thread-")
    back.click()
    expect(page.get_by_test_id("backup-state")).to_have_text("Complete")
