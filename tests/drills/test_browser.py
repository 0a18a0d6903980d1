"""A manager plans a drill, starts it, records its phases and closes it with an improvement
action, in Chinese (the default) in Debian's Chromium."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from apps.drills.choices import DrillPhase, RunState
from apps.drills.models import DrillRun
from apps.evaluations.models import ImprovementAction
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_plans_starts_times_and_closes_a_drill_with_an_improvement_action(
    live_server, page: Page, make_user
):
    manager = make_user(Role.MANAGER, username="wang.fang", first_name="芳", last_name="王")
    tech = make_user(Role.TECH_SUPPORT, username="zhang.wei", first_name="伟", last_name="张")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("dashboard-title")).to_be_visible()

    page.goto(f"{live_server.url}/drills/")
    page.get_by_test_id("plan-drill").click()
    page.fill("input[name=title]", "迁移后订单不一致演习")
    page.select_option("select[name=scenario_category]", "data_migration")
    page.select_option("select[name=scenario_detail]", "migration_error")
    when = timezone.localtime() + timedelta(days=2)
    page.fill("input[name=scheduled_at]", when.strftime("%Y-%m-%d %H:%M"))
    page.select_option("select[name=participants]", [str(tech.pk)])
    page.locator("input[type=submit]").click()
    expect(page.get_by_test_id("plan-title")).to_have_text("迁移后订单不一致演习")

    page.get_by_test_id("start-drill").click()
    expect(page).to_have_url(re.compile(r"/drills/runs/\d+/$"))
    expect(page.get_by_test_id("drill-badge")).to_be_visible()
    run = DrillRun.objects.get()
    assert run.incident.is_drill

    # Closing before the phases are timed is refused, with the reason.
    close = page.get_by_test_id("close-form")
    close.locator("input[type=submit]").click()
    expect(page.locator(".invalid-feedback, .alert-danger, .alert-block").first).to_contain_text(
        "阶段时间"
    )
    page.goto(f"{live_server.url}/drills/runs/{run.pk}/")

    for phase in DrillPhase.values[1:]:
        form = page.get_by_test_id("phase-form")
        form.locator("select[name=phase]").select_option(phase)
        form.locator("input[type=submit]").click()
        expect(page.locator(f"tr[data-phase='{phase}'] td").nth(2)).not_to_have_text("—")

    close = page.get_by_test_id("close-form")
    close.locator("textarea[name=went_wrong]").fill("值班电话表过期")
    close.locator("textarea[name=action_description]").fill("更新值班电话表")
    close.locator("select[name=action_owner]").select_option(str(tech.pk))
    close.locator("input[name=action_due_on]").fill(
        (timezone.localdate() + timedelta(days=7)).isoformat()
    )
    close.locator("input[type=submit]").click()
    expect(page.get_by_test_id("run-state")).to_have_attribute("data-state", "closed")
    expect(page.get_by_test_id("actions")).to_contain_text("更新值班电话表")

    run.refresh_from_db()
    assert run.state == RunState.CLOSED and run.went_wrong == "值班电话表过期"
    assert run.phase_times.count() == len(DrillPhase.values)
    action = ImprovementAction.objects.get()
    assert action.owner == tech and action.source == run and action.category == "drills"
