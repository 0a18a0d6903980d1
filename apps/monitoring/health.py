"""``/health/`` (is the back-office itself well?) and ``/metrics`` (Prometheus text format).

``/health/`` answers JSON: each check's status and 200 when all pass, 503 otherwise. It reads the
latest probe samples from the database, so when Redis (or the scheduler) is down, the probes'
last results and the failing check are still shown. ``/metrics`` is built per request from the
database by a custom collector (no process-local counters: every web process answers the same).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Sum
from django.utils import timezone


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


def _check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure is the check's answer
        return Check("database", False, type(exc).__name__)
    return Check("database", True)


def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


def _check_redis_and_workers() -> list[Check]:
    if settings.JOB_RUNNER != "rq" or not settings.REDIS_URL:
        return [
            Check("redis", True, "not used"),
            Check("workers", True, f"in-process ({settings.JOB_RUNNER})"),
        ]
    try:
        conn = _redis()
        conn.ping()
    except Exception as exc:  # noqa: BLE001
        return [Check("redis", False, type(exc).__name__), Check("workers", False, "redis down")]
    from rq import Worker

    try:
        workers = Worker.all(connection=conn)
    except Exception as exc:  # noqa: BLE001
        return [Check("redis", True), Check("workers", False, type(exc).__name__)]
    return [
        Check("redis", True),
        Check("workers", bool(workers), f"{len(workers)} alive"),
    ]


def _check_scheduler() -> Check:
    """The scheduler is alive when the newest probe round is recent (it runs them every
    ``MONITORING_PROBE_SECONDS``); three missed rounds (and at least a minute) is a failure."""
    from .models import Sample

    newest = Sample.objects.aggregate(at=Max("at"))["at"]
    if newest is None:
        return Check("scheduler", False, "no probe round yet")
    allowed = timedelta(seconds=max(60, 3 * settings.MONITORING_PROBE_SECONDS))
    age = timezone.now() - newest
    return Check("scheduler", age <= allowed, f"last probe round {int(age.total_seconds())} s ago")


def backup_store_dirs() -> dict[str, str]:
    stores = {"local": settings.BACKUP_LOCAL_DIR}
    remote: dict[str, Any] = dict(settings.STORAGES.get("backups_remote") or {})
    if str(remote.get("BACKEND", "")).endswith("FileSystemStorage"):
        stores["remote"] = remote.get("OPTIONS", {}).get("location") or settings.BACKUP_REMOTE_DIR
    return stores


def _check_disks() -> list[Check]:
    checks = []
    for name, directory in backup_store_dirs().items():
        path = Path(directory)
        while not path.exists() and path != path.parent:
            path = path.parent
        try:
            free_mb = shutil.disk_usage(path).free // (1024 * 1024)
        except OSError as exc:
            checks.append(Check(f"disk_{name}", False, exc.strerror or "unreadable"))
            continue
        checks.append(
            Check(f"disk_{name}", free_mb >= settings.MONITORING_MIN_FREE_MB, f"{free_mb} MB free")
        )
    return checks


def health_report() -> tuple[bool, dict[str, Any]]:
    checks = [_check_database(), *_check_redis_and_workers(), _check_scheduler(), *_check_disks()]
    probes: dict[str, Any] = {}
    active = 0
    if checks[0].ok:
        from .choices import ACTIVE_ALARM_STATES
        from .models import Alarm
        from .selectors import probes_with_latest_sample

        for probe in probes_with_latest_sample():
            if not probe.enabled:
                continue
            latest = probe.latest  # type: ignore[attr-defined]
            probes[probe.name] = {
                "kind": probe.kind,
                "status": "unknown" if latest is None else ("ok" if latest.ok else "failing"),
                "at": latest.at.isoformat() if latest else None,
            }
        active = Alarm.objects.filter(state__in=ACTIVE_ALARM_STATES).count()
    ok = all(c.ok for c in checks)
    body = {
        "status": "ok" if ok else "failing",
        "checks": {
            c.name: {"status": "ok" if c.ok else "failing", "detail": c.detail} for c in checks
        },
        "order_system_probes": probes,
        "active_alarms": active,
    }
    return ok, body


# --- Prometheus ------------------------------------------------------------------------------------
class DatabaseCollector:
    """Reads the figures from the database at each scrape."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily

        from apps.backups.choices import RunState
        from apps.backups.models import BackupRun, BackupScope
        from apps.core.models import JobRecord

        from .choices import ACTIVE_ALARM_STATES, AlarmSeverity, AlarmState
        from .models import Alarm
        from .selectors import probes_with_latest_sample

        up = GaugeMetricFamily(
            "recovery_probe_up", "1 if the probe's latest sample answered", labels=["probe", "kind"]
        )
        value = GaugeMetricFamily(
            "recovery_probe_value", "The probe's latest measured value", labels=["probe", "kind"]
        )
        took = GaugeMetricFamily(
            "recovery_probe_duration_seconds",
            "How long the probe's latest sample took",
            labels=["probe", "kind"],
        )
        when = GaugeMetricFamily(
            "recovery_probe_last_sample_timestamp_seconds",
            "When the latest sample was taken",
            labels=["probe", "kind"],
        )
        for probe in probes_with_latest_sample():
            latest = probe.latest  # type: ignore[attr-defined]
            if latest is None or not probe.enabled:
                continue
            labels = [probe.name, probe.kind]
            up.add_metric(labels, 1.0 if latest.ok else 0.0)
            if latest.measured and latest.value is not None:
                value.add_metric(labels, float(latest.value))
            took.add_metric(labels, latest.duration_ms / 1000)
            when.add_metric(labels, latest.at.timestamp())
        yield from (up, value, took, when)

        alarms = GaugeMetricFamily(
            "recovery_alarm_active",
            "1 for each alarm not resolved",
            labels=["rule", "severity", "state"],
        )
        counts: dict[tuple[str, str], int] = {
            (s, str(st)): 0 for s in AlarmSeverity.values for st in ACTIVE_ALARM_STATES
        }
        for alarm in Alarm.objects.filter(state__in=ACTIVE_ALARM_STATES).select_related("rule"):
            alarms.add_metric([alarm.rule.name, alarm.severity, alarm.state], 1.0)
            counts[(alarm.severity, alarm.state)] += 1
        yield alarms
        by_state = GaugeMetricFamily(
            "recovery_alarms",
            "Alarms not resolved, by severity and state",
            labels=["severity", "state"],
        )
        for (severity, state), n in counts.items():
            by_state.add_metric([severity, str(state)], float(n))
        yield by_state
        yield GaugeMetricFamily(
            "recovery_alarms_resolved_total",
            "Alarms resolved so far",
            value=float(Alarm.objects.filter(state=AlarmState.RESOLVED).count()),
        )

        jobs = SummaryMetricFamily(
            "recovery_job_duration_seconds",
            "Finished tracked jobs: how long they ran",
            labels=["kind", "state"],
        )
        took_expr = ExpressionWrapper(
            F("finished_at") - F("started_at"), output_field=DurationField()
        )
        for row in (
            JobRecord.objects.filter(started_at__isnull=False, finished_at__isnull=False)
            .values("kind", "state")
            .annotate(n=Count("pk"), total=Sum(took_expr))
            .order_by("kind", "state")
        ):
            total = row["total"].total_seconds() if row["total"] else 0.0
            jobs.add_metric([row["kind"], row["state"]], count_value=row["n"], sum_value=total)
        yield jobs

        ages = GaugeMetricFamily(
            "recovery_backup_age_seconds",
            "Age of the newest complete, verified backup per scope",
            labels=["scope"],
        )
        newest = dict(
            BackupRun.objects.filter(state=RunState.COMPLETE, last_verify_ok=True)
            .values_list("scope__slug")
            .annotate(at=Max("finished_at"))
        )
        now = timezone.now()
        for slug in BackupScope.objects.values_list("slug", flat=True):
            if newest.get(slug):
                ages.add_metric([slug], (now - newest[slug]).total_seconds())
        yield ages


def metrics_text() -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return generate_latest(registry)
