"""Probes against a real PostgreSQL order system, a real log directory and a real HTTP server."""

import time
from datetime import timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.backups.engine import gateway
from apps.monitoring import services
from apps.monitoring.choices import ProbeKind
from apps.monitoring.models import Probe, Sample

from .factories import HttpProbeFactory

pytestmark = pytest.mark.django_db


def _latest(kind):
    return Sample.objects.filter(probe__kind=kind).latest("at", "pk")


def test_the_database_probe_records_how_fast_the_order_system_answers(order_system, only_probes):
    only_probes(ProbeKind.DATABASE)
    services.run_probes()
    sample = _latest(ProbeKind.DATABASE)
    assert sample.ok and sample.value is not None and 0 <= sample.value < 3000


def test_a_locked_order_system_user_is_a_failed_sample_with_the_reason(order_system, only_probes):
    only_probes(ProbeKind.DATABASE)
    order_system.lock_out()
    services.run_probes()
    sample = _latest(ProbeKind.DATABASE)
    assert not sample.ok
    assert "not permitted to log in" in sample.error


def test_a_query_slower_than_the_timeout_is_cancelled_by_the_statement_timeout(order_system):
    started = time.monotonic()
    with pytest.raises(psycopg.errors.QueryCanceled):
        gateway.probe_reads([("SELECT pg_sleep(20)", ())], timeout_ms=300)
    assert time.monotonic() - started < 5


def test_a_locked_orders_table_makes_the_order_rate_probe_fail_within_its_timeout(
    order_system, only_probes
):
    probes = only_probes(ProbeKind.ORDER_RATE)
    Probe.objects.filter(pk=probes[ProbeKind.ORDER_RATE].pk).update(timeout_ms=500)
    blocker = psycopg.connect(order_system.owner_url)
    try:
        blocker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        services.run_probes()
        took = time.monotonic() - started
    finally:
        blocker.rollback()
        blocker.close()
    sample = _latest(ProbeKind.ORDER_RATE)
    assert not sample.ok and "timeout" in sample.error.lower()
    assert took < 5


def test_the_gateway_reads_are_read_only(order_system):
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        gateway.probe_reads([("DELETE FROM orders", ())], timeout_ms=1000)


def test_orders_per_minute_are_compared_with_the_same_window_last_week(
    order_system, only_probes, settings
):
    settings.MONITORING_ORDER_RATE_WINDOW_MINUTES = 5
    now = timezone.now()
    week = timedelta(days=7)
    order_system.add_orders([now - timedelta(minutes=m) for m in (1, 2, 3)])
    order_system.add_orders([now - week - timedelta(minutes=m, seconds=30) for m in range(6)][:6])
    order_system.add_orders([now - timedelta(minutes=30)])  # outside the window: not counted
    only_probes(ProbeKind.ORDER_RATE)
    services.run_probes(now=now)
    sample = _latest(ProbeKind.ORDER_RATE)
    assert sample.details["per_minute"] == pytest.approx(3 / 5)
    assert sample.details["last_week_per_minute"] == pytest.approx(5 / 5)
    assert sample.value == pytest.approx(60.0)


def test_order_rate_with_nothing_last_week_is_not_measured(order_system, only_probes):
    order_system.add_orders([timezone.now() - timedelta(minutes=1)])
    only_probes(ProbeKind.ORDER_RATE)
    services.run_probes()
    sample = _latest(ProbeKind.ORDER_RATE)
    assert sample.ok and not sample.measured and sample.value is None


def test_failed_payments_ratio_counts_orders_of_the_window_without_payment(
    order_system, only_probes
):
    now = timezone.now()
    order_system.add_orders([now - timedelta(minutes=m) for m in (2, 3, 4)], paid=True)
    order_system.add_orders([now - timedelta(minutes=5)], paid=False)
    order_system.add_orders([now - timedelta(minutes=6)], paid=False, status="cancelled")
    only_probes(ProbeKind.PAYMENT_FAILURES)
    services.run_probes(now=now)
    sample = _latest(ProbeKind.PAYMENT_FAILURES)
    assert sample.details == {"orders": 4, "unpaid": 1}
    assert sample.value == pytest.approx(0.25)


def test_the_log_probe_counts_error_lines_appended_between_rounds(log_dir, only_probes):
    (log_dir / "order.log").write_bytes(b"ERROR history before monitoring\n" * 10)
    only_probes(ProbeKind.LOG_ERRORS)
    services.run_probes()
    assert _latest(ProbeKind.LOG_ERRORS).value == 0
    with open(log_dir / "order.log", "ab") as f:
        f.write(b"INFO fine\n" + b"ERROR payment gateway refused\n" * 4)
    services.run_probes()
    sample = _latest(ProbeKind.LOG_ERRORS)
    assert sample.value == 4 and sample.details["lines"] == 5
    assert sample.details["examples"][0] == "ERROR payment gateway refused"


def test_the_journal_lag_is_not_measured_while_the_journal_has_no_slot(order_system, only_probes):
    only_probes(ProbeKind.JOURNAL_LAG)
    services.run_probes()
    sample = _latest(ProbeKind.JOURNAL_LAG)
    assert sample.ok and not sample.measured


def test_the_journal_lag_is_read_from_its_replication_slot(order_system, only_probes, settings):
    slot = f"mon_{order_system.name[-10:]}"
    settings.MONITORING_JOURNAL_SLOT = slot
    order_system.sql("SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", (slot,))
    try:
        order_system.add_orders([timezone.now()] * 20)
        only_probes(ProbeKind.JOURNAL_LAG)
        services.run_probes()
        sample = _latest(ProbeKind.JOURNAL_LAG)
        assert sample.measured and sample.value > 0
    finally:
        order_system.sql("SELECT pg_drop_replication_slot(%s)", (slot,))


def test_backup_age_is_the_oldest_scopes_newest_verified_backup(only_probes):
    from apps.backups.models import BackupScope
    from tests.backups.factories import BackupRunFactory

    now = timezone.now()
    scopes = list(BackupScope.objects.all())
    assert scopes, "the plan's scopes come from a migration"
    for i, scope in enumerate(scopes):
        BackupRunFactory(scope=scope, finished_at=now - timedelta(hours=2 + i), last_verify_ok=True)
    # A newer but unverified backup of the last scope does not count.
    BackupRunFactory(scope=scopes[-1], finished_at=now, last_verify_ok=False)
    only_probes(ProbeKind.BACKUP_AGE)
    services.run_probes(now=now)
    sample = _latest(ProbeKind.BACKUP_AGE)
    assert sample.value == pytest.approx(2 + len(scopes) - 1, abs=0.01)


def test_a_scope_with_no_verified_backup_fails_the_backup_age_probe(only_probes):
    only_probes(ProbeKind.BACKUP_AGE)
    services.run_probes()
    sample = _latest(ProbeKind.BACKUP_AGE)
    assert not sample.ok and "no verified backup of" in sample.error


def test_an_http_probe_checks_the_status(shop_server, only_probes):
    only_probes()
    probe = HttpProbeFactory(url=shop_server.url, expected_status=200)
    services.run_probes()
    assert Sample.objects.get(probe=probe).ok
    shop_server.status = 503
    services.run_probes()
    failed = Sample.objects.filter(probe=probe).latest("at", "pk")
    assert not failed.ok and failed.details["status"] == 503 and "503" in failed.error


def test_a_hanging_http_endpoint_is_cut_off_at_its_timeout(shop_server, only_probes):
    only_probes()
    shop_server.hang = True
    probe = HttpProbeFactory(url=shop_server.url, timeout_ms=400)
    started = time.monotonic()
    services.run_probes()
    assert time.monotonic() - started < 3
    sample = Sample.objects.get(probe=probe)
    assert not sample.ok and "timed out" in sample.error


def test_run_probes_command_runs_one_round(order_system, log_dir, only_probes):
    only_probes(ProbeKind.DATABASE, ProbeKind.LOG_ERRORS)
    from io import StringIO

    out = StringIO()
    call_command("run_probes", stdout=out)
    assert Sample.objects.count() == 2
    assert "ok" in out.getvalue()


def test_the_probes_are_registered_with_the_scheduler_every_15_seconds():
    from apps.core.schedules import get_schedule

    schedule = get_schedule("monitoring.probes")
    assert schedule.every == timedelta(seconds=15)
    from django.utils.module_loading import import_string

    assert import_string(schedule.task) is services.run_probes_task


def test_samples_past_the_retention_are_deleted_by_the_rounds(settings, only_probes, log_dir):
    settings.MONITORING_SAMPLE_RETENTION_DAYS = 14
    only_probes(ProbeKind.LOG_ERRORS)
    now = timezone.now()
    services.run_probes(now=now - timedelta(days=15))
    services.run_probes(now=now - timedelta(days=13))
    services.run_probes(now=now)
    assert sorted(Sample.objects.values_list("at", flat=True)) == [
        now - timedelta(days=13),
        now,
    ]
