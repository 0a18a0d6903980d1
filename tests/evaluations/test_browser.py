"""A manager opens an incident's report, reads its charts, signs it off, creates an action."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from apps.evaluations.choices import ReportState
from apps.evaluations.models import EvaluationReport, ImprovementAction
from tests.browser.conftest import plan_data  # noqa: F401 - the checklist templates
from tests.browser.pages import DESKTOP, signed_in_context
from tests.browser.test_accessibility import axe_violations
from tests.factories import UserFactory

from .factories import incident_with_known_times

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "zh-hans": {
        "report": "评估报告",
        "backlog_chart": "手工订单：录入与回传",
        "roles_chart": "各角色按时完成的任务",
        "not_measured": "未测量",
        "action": "每月演练一次恢复",
    },
    "en": {
        "report": "Evaluation report",
        "backlog_chart": "Manual orders: taken vs handed back",
        "roles_chart": "Tasks done on time by role",
        "not_measured": "not measured",
        "action": "Rehearse a restore every month",
    },
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_manager_reads_the_charts_signs_the_report_off_and_creates_an_action(
    browser, live_server, language
):
    text = TEXT[language]
    scenario = incident_with_known_times(title="订单系统 5.0 升级失败")
    manager = UserFactory(roles=[Role.MANAGER], username="wang.fang", language=language)
    context = signed_in_context(browser, live_server, manager, language=language, viewport=DESKTOP)
    page: Page = context.new_page()

    page.goto(f"{live_server.url}/evaluations/")
    page.get_by_role("row", name=re.compile("订单系统 5.0 升级失败")).get_by_role(
        "link", name=text["report"]
    ).click()
    page.get_by_test_id("compute").click()
    expect(page).to_have_url(re.compile(r"/evaluations/reports/\d+/$"))

    # The charts are pictures with a name: the backlog and the tasks by role among them.
    expect(page.get_by_role("img", name=text["backlog_chart"])).to_be_visible()
    expect(page.get_by_role("img", name=text["roles_chart"])).to_be_visible()
    expect(page.locator("figure.chart svg")).to_have_count(4)
    expect(page.locator("#dimension-satisfaction")).to_contain_text(text["not_measured"])
    assert axe_violations(page) == []

    page.locator("textarea[name=recovery]").fill("恢复比目标慢，备份校验耗时。")
    page.get_by_test_id("save-narrative").click()
    page.get_by_test_id("sign-off").click()
    expect(page.get_by_test_id("report-state")).to_have_attribute("data-state", "signed")
    expect(page.locator("textarea[name=recovery]")).to_have_count(0)
    expect(page.locator("#dimension-recovery .narrative")).to_contain_text("恢复比目标慢")

    page.get_by_test_id("new-action-recovery").click()
    page.locator("input[name=title]").fill(text["action"])
    page.locator("select[name=category]").select_option("drills")
    page.locator("select[name=owner]").select_option(str(manager.pk))
    page.locator("input[name=due]").fill((timezone.localdate() + timedelta(days=30)).isoformat())
    page.get_by_test_id("create-action").click()
    expect(page.get_by_test_id("report-action")).to_contain_text(text["action"])

    report = EvaluationReport.objects.get(incident=scenario.incident)
    assert report.state == ReportState.SIGNED and report.signed_by == manager
    assert report.narratives == {"recovery": "恢复比目标慢，备份校验耗时。"}
    action = ImprovementAction.objects.get()
    assert (action.source, action.finding, action.owner) == (report, "recovery", manager)
    context.close()
