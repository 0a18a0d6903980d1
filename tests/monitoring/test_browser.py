"""Tech support acknowledges an alarm and declares the incident from it, in Chromium."""

import importlib
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.accounts.roles import Role
from apps.incidents.models import Incident, TimelineEntry
from apps.monitoring import events, services
from apps.monitoring.choices import AlarmState
from apps.monitoring.models import Alarm
from tests.factories import PASSWORD

from .factories import HttpProbeFactory, RuleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def plan_templates(transactional_db):
    from django.apps import apps

    module = importlib.import_module("apps.incidents.migrations.0002_default_task_templates")
    module.create_templates(apps, None)


def test_tech_support_acknowledges_an_alarm_and_declares_the_incident_from_it(
    live_server, page: Page, make_user, shop_server, only_probes, plan_templates
):
    tech = make_user(Role.TECH_SUPPORT, username="zhang.wei", first_name="伟", last_name="张")
    only_probes()
    shop_server.status = 502
    probe = HttpProbeFactory(url=shop_server.url, name="商城首页")
    RuleFactory(probe=probe, name="商城首页无法访问", consecutive=1, severity="critical")
    services.run_probes(now=timezone.now())
    alarm = Alarm.objects.get()

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", tech.username)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    alarms_card = page.get_by_test_id("dashboard-alarms")
    expect(alarms_card).to_contain_text("商城首页无法访问")
    alarms_card.get_by_role("link", name="商城首页无法访问").click()
    expect(page).to_have_url(re.compile(rf"/monitoring/alarms/{alarm.pk}/$"))
    expect(page.locator("main")).to_contain_text("HTTP 502, expected 200")

    page.get_by_test_id("acknowledge").click()
    expect(page.get_by_test_id("acknowledged")).to_contain_text("zhang.wei")
    expect(page.get_by_test_id("acknowledge")).to_have_count(0)

    page.get_by_test_id("declare-from-alarm").click()
    expect(page.locator("input[name=title]")).to_have_value("商城首页无法访问")
    expect(page.locator("select[name=severity]")).to_have_value("critical")
    expect(page.locator("textarea[name=description]")).to_contain_text("HTTP 502")
    page.fill("input[name=title]", "商城首页 502，顾客无法下单")
    page.get_by_test_id("declare-submit").click()
    expect(page).to_have_url(re.compile(r"/incidents/\d+/$"))

    incident = Incident.objects.get()
    alarm.refresh_from_db()
    assert incident.title == "商城首页 502，顾客无法下单" and incident.declared_by == tech
    assert alarm.incident == incident and alarm.state == AlarmState.ACKNOWLEDGED
    assert alarm.acknowledged_by == tech
    assert TimelineEntry.objects.filter(incident=incident, kind=events.ALARM_EVIDENCE).exists()
    expect(page.locator("main")).to_contain_text("商城首页无法访问")
