"""The monitoring pages: thin views over the services, errors shown next to the field."""

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.roles import Role
from apps.incidents.models import Incident
from apps.monitoring import services
from apps.monitoring.choices import AlarmState, ProbeKind
from apps.monitoring.models import Alarm, AlarmRule, Probe

from .factories import HttpProbeFactory, RuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def firing_alarm(shop_server, only_probes):
    only_probes()
    shop_server.status = 500
    RuleFactory(probe=HttpProbeFactory(url=shop_server.url), name="API 下单接口", consecutive=1)
    services.run_probes(now=timezone.now())
    return Alarm.objects.get()


def test_tech_support_sees_probes_and_active_alarms(client, make_user, firing_alarm):
    client.force_login(make_user(Role.TECH_SUPPORT))
    page = client.get(reverse("monitoring:overview")).content.decode()
    assert (
        "API 下单接口" in page
        and reverse("monitoring:alarm-detail", args=[firing_alarm.pk]) in page
    )
    dashboard = client.get(reverse("core:dashboard")).content.decode()
    assert 'data-testid="dashboard-alarms"' in dashboard


def test_acknowledge_from_the_alarm_page(client, make_user, firing_alarm):
    tech = make_user(Role.TECH_SUPPORT)
    client.force_login(tech)
    response = client.post(reverse("monitoring:alarm-acknowledge", args=[firing_alarm.pk]))
    assert response.status_code == 302
    firing_alarm.refresh_from_db()
    assert firing_alarm.state == AlarmState.ACKNOWLEDGED and firing_alarm.acknowledged_by == tech


def test_the_declare_page_is_prefilled_from_the_alarm(client, make_user, firing_alarm):
    client.force_login(make_user(Role.TECH_SUPPORT))
    url = reverse("monitoring:alarm-declare", args=[firing_alarm.pk])
    page = client.get(url).content.decode()
    assert 'value="API 下单接口"' in page and "HTTP 500, expected 200" in page
    response = client.post(url, {"title": "下单接口故障", "severity": "high", "description": "x"})
    incident = Incident.objects.get()
    assert response["Location"] == reverse("incidents:incident-detail", args=[incident.pk])
    assert Alarm.objects.get().incident == incident


def test_a_rule_error_is_shown_next_to_its_field_and_keeps_what_was_typed(client, make_user):
    client.force_login(make_user(Role.ADMIN))
    client.cookies["django_language"] = "en"
    rule = RuleFactory(name="支付比例")
    response = client.post(
        reverse("monitoring:rule-edit", args=[rule.pk]),
        {
            "version": rule.version,
            "name": "支付比例（新）",
            "condition": "above",
            "threshold": "",
            "consecutive": 3,
            "severity": "warning",
            "escalate_after_minutes": 10,
        },
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "A rule that compares the value needs a threshold." in text
    assert "支付比例（新）" in text
    assert AlarmRule.objects.get(pk=rule.pk).name == "支付比例"


def test_an_admin_adds_an_http_probe_with_a_default_rule(client, make_user):
    client.force_login(make_user(Role.ADMIN))
    response = client.post(
        reverse("monitoring:probe-add"),
        {
            "name": "商城首页",
            "url": "https://shop.example.com/",
            "expected_status": 200,
            "timeout_ms": 2000,
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    probe = Probe.objects.get(kind=ProbeKind.HTTP)
    assert probe.rules.get().condition == "fails"


def test_a_builtin_probe_cannot_be_edited_as_an_http_probe(client, make_user):
    client.force_login(make_user(Role.ADMIN))
    services.ensure_builtin_probes()
    probe = Probe.objects.get(kind=ProbeKind.DATABASE)
    response = client.post(
        reverse("monitoring:probe-edit", args=[probe.pk]),
        {"name": "x", "url": "https://x.example/", "expected_status": 200, "timeout_ms": 1000},
    )
    assert "这里只能添加或编辑 HTTP 探针。" in response.content.decode()  # the default language
    assert Probe.objects.get(pk=probe.pk).url == ""


def test_a_warehouse_clerk_may_report_problems_but_not_watch_alarms(client, make_user):
    client.force_login(make_user(Role.WAREHOUSE_CLERK))
    assert client.get(reverse("monitoring:overview")).status_code == 403
    assert client.get(reverse("monitoring:problem-report")).status_code == 200
