"""Alarms: fire once after the duration, notify by real mail, escalate, declare, resolve, damp
flapping, group storms — driven by a real order system and a real HTTP server failing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.roles import Role
from apps.core.choices import Channel
from apps.core.errors import DomainError, StaleRecord
from apps.core.models import Notification
from apps.incidents.models import Incident, TimelineEntry
from apps.monitoring import events, services
from apps.monitoring.choices import AlarmSeverity, AlarmState, Condition, ProbeKind
from apps.monitoring.errors import MonitoringError
from apps.monitoring.models import Alarm, AlarmRule

from .factories import HttpProbeFactory, RuleFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)


def rounds(n, *, start=T0, every=15):
    """Run ``n`` probe rounds, 15 s apart, starting at ``start``; returns the last time."""
    at = start
    for i in range(n):
        at = start + timedelta(seconds=every * i)
        services.run_probes(now=at)
    return at


@pytest.fixture
def tech(make_user):
    return make_user(Role.TECH_SUPPORT, email="tech@example.com", phone="13900000001")


@pytest.fixture
def lead(make_user):
    return make_user(Role.EMERGENCY_LEAD, email="lead@example.com", phone="13900000002")


@pytest.fixture
def failing_shop(shop_server, only_probes):
    """One HTTP probe on a shop answering 500, with a rule of 3 failed samples in a row."""
    only_probes()
    shop_server.status = 500
    probe = HttpProbeFactory(url=shop_server.url)
    rule = RuleFactory(probe=probe, name="shop front down", consecutive=3)
    return rule


def test_an_alarm_fires_once_after_three_failed_samples_of_a_locked_out_database(
    order_system, only_probes, smtp_server, tech
):
    only_probes(ProbeKind.DATABASE)
    rule = AlarmRule.objects.get(probe__kind=ProbeKind.DATABASE)
    assert rule.consecutive == 3
    order_system.lock_out()
    rounds(2)
    assert not Alarm.objects.exists()
    rounds(4, start=T0 + timedelta(seconds=30))
    alarm = Alarm.objects.get()
    assert alarm.state == AlarmState.FIRING and alarm.severity == AlarmSeverity.CRITICAL
    assert alarm.fired_at == T0 + timedelta(seconds=30)
    assert len(alarm.evidence["samples"]) == 3
    assert all("not permitted to log in" in s["error"] for s in alarm.evidence["samples"])
    assert [m.rcpt_tos for m in smtp_server.messages] == [["tech@example.com"]]
    assert Notification.objects.filter(channel=Channel.SMS, address="13900000001").count() == 1


def test_the_alarm_mail_names_the_rule_and_its_evidence(failing_shop, smtp_server, tech):
    rounds(3)
    (mail,) = smtp_server.messages
    text = mail.content.decode("utf-8", "replace")
    assert "shop front down" in text or "shop front down" in str(
        Notification.objects.get(channel=Channel.EMAIL).body
    )
    assert "HTTP 500, expected 200" in Notification.objects.get(channel=Channel.EMAIL).body


def test_an_unacknowledged_alarm_escalates_to_the_emergency_lead_once(
    failing_shop, smtp_server, tech, lead
):
    failing_shop.escalate_after_minutes = 10
    failing_shop.save()
    fired_at = rounds(3)
    services.escalate_alarms(now=fired_at + timedelta(minutes=9))
    assert [m.rcpt_tos for m in smtp_server.messages] == [["tech@example.com"]]
    escalated = services.escalate_alarms(now=fired_at + timedelta(minutes=10, seconds=1))
    services.escalate_alarms(now=fired_at + timedelta(minutes=20))
    assert len(escalated) == 1
    assert [m.rcpt_tos for m in smtp_server.messages] == [
        ["tech@example.com"],
        ["lead@example.com"],
    ]
    assert Alarm.objects.get().escalated_at is not None


def test_an_acknowledged_alarm_is_not_escalated(failing_shop, smtp_server, tech, lead):
    fired_at = rounds(3)
    services.acknowledge_alarm(alarm=Alarm.objects.get(), by=tech)
    assert services.escalate_alarms(now=fired_at + timedelta(hours=1)) == []
    assert [m.rcpt_tos for m in smtp_server.messages] == [["tech@example.com"]]


def test_a_critical_rule_declares_the_incident_by_itself_with_the_evidence(
    failing_shop, smtp_server, tech
):
    failing_shop.severity = AlarmSeverity.CRITICAL
    failing_shop.auto_declare = True
    failing_shop.save()
    assert not Incident.objects.exists()
    rounds(3)
    alarm = Alarm.objects.get()
    incident = Incident.objects.get()
    assert alarm.incident == incident
    assert incident.title == "shop front down" and incident.severity == "critical"
    assert incident.detected_at == T0  # the first failed sample, not the firing
    evidence = TimelineEntry.objects.get(incident=incident, kind=events.ALARM_EVIDENCE)
    assert "HTTP 500, expected 200" in evidence.params["evidence"]
    assert len(evidence.data["evidence"]["samples"]) == 3


def test_auto_declare_joins_the_open_incident_instead_of_declaring_a_second(failing_shop):
    from tests.incidents.factories import IncidentFactory

    open_incident = IncidentFactory()
    failing_shop.severity = AlarmSeverity.CRITICAL
    failing_shop.auto_declare = True
    failing_shop.save()
    rounds(3)
    assert Incident.objects.count() == 1
    assert Alarm.objects.get().incident == open_incident
    assert TimelineEntry.objects.filter(incident=open_incident, kind=events.ALARM_EVIDENCE).exists()


def test_a_warning_rule_never_declares_an_incident(failing_shop):
    rounds(3)
    assert Alarm.objects.get().incident is None
    assert not Incident.objects.exists()


def test_the_alarm_resolves_by_itself_when_the_samples_recover(
    order_system, only_probes, smtp_server, tech
):
    only_probes(ProbeKind.DATABASE)
    order_system.lock_out()
    last = rounds(3)
    assert Alarm.objects.get().state == AlarmState.FIRING
    order_system.let_in()
    services.run_probes(now=last + timedelta(seconds=15))
    alarm = Alarm.objects.get()
    assert alarm.state == AlarmState.RESOLVED
    assert alarm.resolved_at == last + timedelta(seconds=15)


def test_a_flapping_alarm_stays_one_alarm_announced_once(
    failing_shop, shop_server, smtp_server, tech
):
    last = rounds(3)
    shop_server.status = 200
    last = rounds(1, start=last + timedelta(seconds=15))
    assert Alarm.objects.get().state == AlarmState.RESOLVED
    shop_server.status = 500
    rounds(3, start=last + timedelta(minutes=2))
    alarm = Alarm.objects.get()
    assert alarm.state == AlarmState.FIRING and alarm.refired == 1 and alarm.resolved_at is None
    assert len(smtp_server.messages) == 1


def test_trouble_back_after_the_flap_window_is_a_new_alarm(
    failing_shop, shop_server, settings, tech
):
    settings.MONITORING_FLAP_MINUTES = 10
    last = rounds(3)
    shop_server.status = 200
    last = rounds(1, start=last + timedelta(seconds=15))
    shop_server.status = 500
    rounds(3, start=last + timedelta(minutes=11))
    assert Alarm.objects.count() == 2


def test_an_alarm_storm_sends_one_grouped_message_per_person(
    shop_server, only_probes, smtp_server, tech, make_user
):
    make_user(Role.TECH_SUPPORT, email="tech2@example.com", phone="")
    only_probes()
    shop_server.status = 500
    for i in range(6):
        RuleFactory(probe=HttpProbeFactory(url=shop_server.url), name=f"api {i}", consecutive=1)
    services.run_probes(now=T0)
    assert Alarm.objects.count() == 6
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "tech2@example.com",
        "tech@example.com",
    ]
    body = Notification.objects.filter(channel=Channel.EMAIL).first().body
    assert all(f"api {i}" in body for i in range(6))
    assert Notification.objects.filter(channel=Channel.SMS).count() == 1


def test_samples_with_nothing_measured_never_fire_an_alarm(order_system, only_probes):
    only_probes(ProbeKind.JOURNAL_LAG)
    rule = AlarmRule.objects.get(probe__kind=ProbeKind.JOURNAL_LAG)
    rounds(rule.consecutive + 2)
    assert not Alarm.objects.exists()


def test_acknowledging_twice_or_a_resolved_alarm_is_refused(failing_shop, shop_server, tech):
    last = rounds(3)
    alarm = Alarm.objects.get()
    services.acknowledge_alarm(alarm=alarm, by=tech)
    with pytest.raises(DomainError) as exc:
        services.acknowledge_alarm(alarm=alarm, by=tech)
    assert exc.value.code == MonitoringError.ALARM_ACKNOWLEDGED
    shop_server.status = 200
    rounds(1, start=last + timedelta(seconds=15))
    with pytest.raises(DomainError) as exc:
        services.acknowledge_alarm(alarm=alarm, by=tech)
    assert exc.value.code == MonitoringError.ALARM_RESOLVED


def test_an_alarm_declares_at_most_one_incident(failing_shop, tech):
    rounds(3)
    alarm = Alarm.objects.get()
    incident = services.declare_incident_from_alarm(
        alarm=alarm, title="Shop down", severity="high", description="", by=tech
    )
    assert incident.declared_by == tech and Alarm.objects.get().incident == incident
    assert Alarm.objects.get().state == AlarmState.ACKNOWLEDGED
    with pytest.raises(DomainError) as exc:
        services.declare_incident_from_alarm(
            alarm=alarm, title="again", severity="high", description="", by=tech
        )
    assert exc.value.code == MonitoringError.ALARM_HAS_INCIDENT


def test_rule_edits_are_checked(make_user):
    admin = make_user(Role.ADMIN)
    rule = RuleFactory()
    with pytest.raises(DomainError) as exc:
        services.save_rule(rule=rule, version=rule.version, by=admin, condition=Condition.ABOVE)
    assert exc.value.code == MonitoringError.THRESHOLD_NEEDED
    with pytest.raises(DomainError) as exc:
        services.save_rule(rule=rule, version=rule.version, by=admin, auto_declare=True)
    assert exc.value.code == MonitoringError.AUTO_DECLARE_NOT_CRITICAL
    saved = services.save_rule(
        rule=rule, version=rule.version, by=admin, condition=Condition.ABOVE, threshold=500.0
    )
    assert saved.version == rule.version + 1
    with pytest.raises(StaleRecord):
        services.save_rule(rule=rule, version=rule.version, by=admin, threshold=1.0)


@pytest.mark.django_db(transaction=True)
def test_two_evaluations_racing_fire_one_alarm_and_send_one_message(shop_server, only_probes, tech):
    import threading

    from django.db import connection

    only_probes()
    shop_server.status = 500
    RuleFactory(probe=HttpProbeFactory(url=shop_server.url), name="race", consecutive=1)
    services.run_probes(now=T0, evaluate=False)
    barrier = threading.Barrier(2)
    errors = []

    def evaluate():
        try:
            barrier.wait(timeout=10)
            services.evaluate_alarms(now=T0)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluate) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert Alarm.objects.count() == 1
    assert Notification.objects.filter(channel=Channel.EMAIL).count() == 1
