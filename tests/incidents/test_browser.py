import re

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from apps.incidents.choices import IncidentState, TaskState
from apps.incidents.models import Incident
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_declares_an_incident_assigns_the_team_and_completes_a_task(
    live_server, page: Page, make_user
):
    lead = make_user(Role.EMERGENCY_LEAD, username="li.lei", first_name="雷", last_name="李")
    tech = make_user(Role.TECH_SUPPORT, username="zhang.wei", first_name="伟", last_name="张")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", lead.username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("dashboard-title")).to_be_visible()

    page.goto(f"{live_server.url}/incidents/declare/")
    page.fill("input[name=title]", "订单系统 5.0 升级失败")
    page.select_option("select[name=severity]", "critical")
    page.fill("input[name=detected_at]", _minutes_ago(5))
    page.get_by_test_id("declare-submit").click()
    expect(page).to_have_url(re.compile(r"/incidents/\d+/$"))
    expect(page.get_by_test_id("incident-state")).to_have_attribute("data-state", "declared")
    incident = Incident.objects.get()

    assign = page.get_by_test_id("assign-form")
    assign.locator("select[name=team_role]").select_option("leader")
    assign.locator("select[name=user]").select_option(str(lead.pk))
    assign.locator("input[type=submit]").click()
    assign = page.get_by_test_id("assign-form")
    assign.locator("select[name=team_role]").select_option("tech_support")
    assign.locator("select[name=user]").select_option(str(tech.pk))
    assign.locator("input[type=submit]").click()
    expect(page.get_by_test_id("team-table")).to_contain_text("zhang.wei")
    page.get_by_test_id("acknowledge").click()
    expect(page.get_by_test_id("acknowledge")).to_have_count(0)

    page.get_by_test_id("transition-form").locator("select[name=to]").select_option(
        "team_assembled"
    )
    page.get_by_test_id("transition-form").locator("input[type=submit]").click()
    expect(page.get_by_test_id("incident-state")).to_have_attribute("data-state", "team_assembled")

    task = incident.tasks.get(template__title_en__startswith="Stop the upgrade")
    page.get_by_test_id(f"task-done-{task.pk}").click()
    expect(page.locator(f"tr[data-task='{task.pk}']")).to_have_attribute("data-state", "done")

    incident.refresh_from_db()
    task.refresh_from_db()
    assert incident.state == IncidentState.TEAM_ASSEMBLED and incident.team_assembled_at
    assert task.state == TaskState.DONE and task.completed_by == lead
    assert incident.team.get(user=lead).acknowledged_at is not None
    assert incident.team.get(user=tech).acknowledged_at is None


def _minutes_ago(n: int) -> str:
    from datetime import timedelta

    from django.utils import timezone

    return timezone.localtime(timezone.now() - timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M")
