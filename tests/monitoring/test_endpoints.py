"""/health/ and /metrics: what they say, and who may read /metrics."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.monitoring import services
from apps.monitoring.choices import ProbeKind
from apps.monitoring.models import Alarm

from .factories import HttpProbeFactory, RuleFactory

pytestmark = pytest.mark.django_db


def test_health_is_ok_with_database_and_a_recent_probe_round(client, only_probes, order_system):
    only_probes(ProbeKind.DATABASE)
    services.run_probes()
    response = client.get("/health/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) >= {"database", "redis", "workers", "scheduler", "disk_local"}
    assert body["order_system_probes"]["database"]["status"] == "ok"


def test_health_fails_when_no_probe_round_ran_recently(client, only_probes, order_system):
    only_probes(ProbeKind.DATABASE)
    services.run_probes(now=timezone.now() - timedelta(minutes=5))
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["scheduler"]["status"] == "failing"


def test_health_fails_when_a_backup_store_is_short_of_space(client, settings, tmp_path):
    settings.BACKUP_LOCAL_DIR = str(tmp_path)
    settings.MONITORING_MIN_FREE_MB = 10**12
    body = client.get("/health/").json()
    assert body["checks"]["disk_local"]["status"] == "failing"


def test_with_redis_down_health_says_so_and_still_shows_the_failing_probes(
    client, settings, only_probes, order_system
):
    only_probes(ProbeKind.DATABASE)
    order_system.lock_out()
    services.run_probes()
    settings.JOB_RUNNER = "rq"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/health/")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["redis"]["status"] == "failing"
    assert body["checks"]["workers"]["status"] == "failing"
    assert body["order_system_probes"]["database"]["status"] == "failing"


def test_health_counts_live_rq_workers(client, settings, rq_worker, only_probes):
    only_probes()
    settings.JOB_RUNNER = "rq"
    body = client.get("/health/").json()
    assert body["checks"]["redis"]["status"] == "ok"
    assert body["checks"]["workers"]["status"] == "failing"  # no worker started yet
    proc = rq_worker.start()
    try:
        from tests.conftest import wait_for

        wait_for(
            lambda: client.get("/health/").json()["checks"]["workers"]["status"] == "ok",
            timeout=60,
            message="the worker never registered",
        )
    finally:
        rq_worker.kill()
    assert proc.pid


def test_metrics_need_the_token(client, settings):
    settings.MONITORING_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert ok.status_code == 200 and ok["Content-Type"].startswith("text/plain")


def test_without_a_token_metrics_answer_loopback_clients_only(client, settings):
    settings.MONITORING_METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403


def test_metrics_carry_probe_samples_alarm_states_job_durations_and_backup_ages(
    client, shop_server, only_probes, make_user
):
    from apps.backups.models import BackupScope
    from apps.core.models import JobRecord
    from tests.backups.factories import BackupRunFactory

    only_probes()
    shop_server.status = 500
    probe = HttpProbeFactory(url=shop_server.url, name="api")
    RuleFactory(probe=probe, name="api down", consecutive=1, severity="critical")
    services.run_probes()
    assert Alarm.objects.count() == 1
    now = timezone.now()
    user = make_user()
    JobRecord.objects.create(
        kind="backup",
        title="t",
        state="succeeded",
        started_by=user,
        started_at=now - timedelta(seconds=30),
        finished_at=now,
    )
    scope = BackupScope.objects.get(slug="orders")
    BackupRunFactory(scope=scope, finished_at=now - timedelta(hours=1), last_verify_ok=True)
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'recovery_probe_up{kind="http",probe="api"} 0.0' in text
    assert 'recovery_probe_value{kind="http",probe="api"}' in text
    assert 'recovery_alarm_active{rule="api down",severity="critical",state="firing"} 1.0' in text
    assert 'recovery_alarms{severity="critical",state="firing"} 1.0' in text
    assert 'recovery_job_duration_seconds_count{kind="backup",state="succeeded"} 1.0' in text
    assert 'recovery_job_duration_seconds_sum{kind="backup",state="succeeded"} 30.0' in text
    line = next(
        x for x in text.splitlines() if x.startswith('recovery_backup_age_seconds{scope="orders"}')
    )
    assert 3590 < float(line.split()[-1]) < 3700
