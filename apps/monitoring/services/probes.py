"""Probes: measure the order system (and admins' HTTP URLs) once a round and record the samples."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from apps.backups.engine import gateway
from apps.core.errors import DomainError

from ..choices import BUILTIN_KINDS, AlarmSeverity, Condition, ProbeKind
from ..engine.http import check_url
from ..engine.logreader import read_new_lines
from ..errors import MonitoringError
from ..models import AlarmRule, Probe, Sample

if TYPE_CHECKING:
    from apps.accounts.models import User


@dataclass
class Measurement:
    """What one probe saw: ``ok`` (it answered), the value, or ``measured=False`` (nothing to
    measure yet, e.g. no change journal): a not-measured sample never raises an alarm."""

    ok: bool
    value: float | None = None
    measured: bool = True
    error: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0
    state: dict[str, Any] | None = None  # what the probe keeps for the next round


# Default rules given to each built-in probe when it is first created (admins edit them).
DEFAULT_RULES: dict[str, list[dict[str, Any]]] = {
    ProbeKind.DATABASE: [
        {"condition": Condition.FAILS, "severity": AlarmSeverity.CRITICAL, "consecutive": 3}
    ],
    ProbeKind.ORDER_RATE: [
        {"condition": Condition.BELOW, "threshold": 50.0, "severity": AlarmSeverity.WARNING}
    ],
    ProbeKind.PAYMENT_FAILURES: [
        {"condition": Condition.ABOVE, "threshold": 0.2, "severity": AlarmSeverity.WARNING}
    ],
    ProbeKind.LOG_ERRORS: [
        {"condition": Condition.ABOVE, "threshold": 20.0, "severity": AlarmSeverity.WARNING}
    ],
    ProbeKind.JOURNAL_LAG: [
        {"condition": Condition.ABOVE, "threshold": 256.0 * 1024 * 1024, "consecutive": 4}
    ],
    ProbeKind.BACKUP_AGE: [
        {"condition": Condition.ABOVE, "threshold": 24.0, "consecutive": 1},
    ],
}


def ensure_builtin_probes() -> list[Probe]:
    """Create the built-in probes that are missing (with their default rules); idempotent."""
    existing = set(Probe.objects.exclude(kind=ProbeKind.HTTP).values_list("kind", flat=True))
    made = []
    for kind in BUILTIN_KINDS:
        if kind in existing:
            continue
        with transaction.atomic():
            probe, created = Probe.objects.get_or_create(
                kind=kind,
                defaults={"name": kind.value, "timeout_ms": settings.MONITORING_DB_TIMEOUT_MS},
            )
            if created:
                # A rule's name is text admins edit: written in the deployment's language.
                with translation.override(settings.LANGUAGE_CODE):
                    name = str(kind.label)
                for rule in DEFAULT_RULES.get(kind, []):
                    AlarmRule.objects.create(probe=probe, name=name, **rule)
                made.append(probe)
    return made


# --- the measurements -------------------------------------------------------------------------
def _measure_database(probe: Probe, now: datetime) -> Measurement:
    started = time.monotonic()
    gateway.probe_reads([("SELECT 1", ())], timeout_ms=probe.timeout_ms)
    answer_ms = (time.monotonic() - started) * 1000
    return Measurement(ok=True, value=round(answer_ms, 1), details={"answer_ms": answer_ms})


def _measure_order_rate(probe: Probe, now: datetime) -> Measurement:
    minutes = settings.MONITORING_ORDER_RATE_WINDOW_MINUTES
    window = timedelta(minutes=minutes)
    week = timedelta(days=7)
    sql = "SELECT count(*) FROM orders WHERE created_at >= %s AND created_at < %s"
    current, last_week = gateway.probe_reads(
        [(sql, (now - window, now)), (sql, (now - week - window, now - week))],
        timeout_ms=probe.timeout_ms,
    )
    per_minute = (current[0] if current else 0) / minutes
    before = (last_week[0] if last_week else 0) / minutes
    details = {"per_minute": per_minute, "last_week_per_minute": before}
    if not before:
        # Nothing to compare with (a new shop, a quiet hour last week): not an alarm either way.
        return Measurement(ok=True, measured=False, details=details)
    return Measurement(ok=True, value=round(100 * per_minute / before, 1), details=details)


def _measure_payment_failures(probe: Probe, now: datetime) -> Measurement:
    end = now - timedelta(minutes=1)  # an order gets a minute to be paid
    start = end - timedelta(minutes=settings.MONITORING_PAYMENT_WINDOW_MINUTES)
    (row,) = gateway.probe_reads(
        [
            (
                "SELECT count(*), "
                "COALESCE(SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM payments p "
                "WHERE p.order_id = o.id) THEN 1 ELSE 0 END), 0) "
                "FROM orders o WHERE o.created_at >= %s AND o.created_at < %s "
                "AND o.status <> 'cancelled'",
                (start, end),
            )
        ],
        timeout_ms=probe.timeout_ms,
    )
    total, unpaid = (int(row[0]), int(row[1])) if row else (0, 0)
    details = {"orders": total, "unpaid": unpaid}
    if not total:
        return Measurement(ok=True, measured=False, details=details)
    return Measurement(ok=True, value=round(unpaid / total, 4), details=details)


def _measure_log_errors(probe: Probe, now: datetime) -> Measurement:
    from pathlib import Path

    directory = Path(settings.ORDER_SYSTEM_LOG_DIR)
    if not directory.is_dir():
        return Measurement(ok=False, error=f"no log directory at {directory}")
    cursors = (probe.state or {}).get("files")
    result = read_new_lines(
        directory,
        cursors or {},
        pattern=settings.MONITORING_LOG_PATTERN,
        error_pattern=settings.MONITORING_LOG_ERROR_PATTERN,
        start_at_end=cursors is None,
    )
    return Measurement(
        ok=True,
        value=float(result.error_lines),
        details={
            "lines": result.lines,
            "error_lines": result.error_lines,
            "bytes": result.bytes_read,
            "files": result.files,
            "examples": result.examples,
        },
        state={"files": result.cursors},
    )


def journal_slot_lag(*, timeout_ms: int) -> int | None:
    """The change journal's replication slot lag in bytes; None = not measured (no journal yet).

    The journal of issue #18 is built in parallel: until its slot exists on the order system
    (``MONITORING_JOURNAL_SLOT``), this answers None and the probe records "not measured".
    """
    return gateway.replication_slot_lag(settings.MONITORING_JOURNAL_SLOT, timeout_ms=timeout_ms)


def _measure_journal_lag(probe: Probe, now: datetime) -> Measurement:
    lag = journal_slot_lag(timeout_ms=probe.timeout_ms)
    if lag is None:
        return Measurement(
            ok=True, measured=False, details={"slot": settings.MONITORING_JOURNAL_SLOT}
        )
    return Measurement(
        ok=True, value=float(lag), details={"slot": settings.MONITORING_JOURNAL_SLOT}
    )


def _measure_backup_age(probe: Probe, now: datetime) -> Measurement:
    """Hours since the newest complete, verified backup of each scope; the value is the oldest."""
    from django.db.models import Max

    from apps.backups.choices import RunState
    from apps.backups.models import BackupRun, BackupScope

    newest = dict(
        BackupRun.objects.filter(state=RunState.COMPLETE, last_verify_ok=True)
        .values_list("scope__slug")
        .annotate(at=Max("finished_at"))
    )
    ages: dict[str, float | None] = {}
    for slug in BackupScope.objects.values_list("slug", flat=True):
        at = newest.get(slug)
        ages[slug] = round((now - at).total_seconds() / 3600, 2) if at else None
    if not ages:
        return Measurement(ok=True, measured=False, details={"scopes": {}})
    missing = sorted(s for s, age in ages.items() if age is None)
    if missing:
        return Measurement(
            ok=False, error="no verified backup of " + ", ".join(missing), details={"scopes": ages}
        )
    return Measurement(
        ok=True, value=max(a for a in ages.values() if a is not None), details={"scopes": ages}
    )


def _measure_http(probe: Probe, now: datetime) -> Measurement:
    outcome = check_url(
        probe.url, expected_status=probe.expected_status, timeout_s=probe.timeout_ms / 1000
    )
    return Measurement(
        ok=outcome.ok,
        value=round(outcome.duration_ms, 1),
        error=outcome.error,
        details={"status": outcome.status},
    )


MEASURE: dict[str, Callable[[Probe, datetime], Measurement]] = {
    ProbeKind.DATABASE: _measure_database,
    ProbeKind.ORDER_RATE: _measure_order_rate,
    ProbeKind.PAYMENT_FAILURES: _measure_payment_failures,
    ProbeKind.LOG_ERRORS: _measure_log_errors,
    ProbeKind.JOURNAL_LAG: _measure_journal_lag,
    ProbeKind.BACKUP_AGE: _measure_backup_age,
    ProbeKind.HTTP: _measure_http,
}
# Probes that read this site's own database run in the caller's thread (its connection, its
# transaction); the others run side by side in threads, each cut off at its timeout.
IN_CALLER = {ProbeKind.BACKUP_AGE}


def _measure(probe: Probe, now: datetime) -> Measurement:
    started = time.monotonic()
    try:
        m = MEASURE[probe.kind](probe, now)
    except Exception as exc:  # noqa: BLE001 - a probe that fails is a failed sample, with why
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        m = Measurement(ok=False, error=f"{type(exc).__name__}: {text}"[:500])
    m.duration_ms = (time.monotonic() - started) * 1000
    return m


@dataclass
class RoundResult:
    samples: list[Sample]
    fired: list[Any] = field(default_factory=list)
    resolved: list[Any] = field(default_factory=list)
    escalated: list[Any] = field(default_factory=list)


def measure_all(probes: list[Probe], now: datetime) -> dict[int, Measurement]:
    """Run the probes at once; one still running at its timeout counts as failed (cut off)."""
    results: dict[int, Measurement] = {}
    threaded = [p for p in probes if p.kind not in IN_CALLER]
    if threaded:
        pool = ThreadPoolExecutor(max_workers=min(8, len(threaded)), thread_name_prefix="probe")
        started = time.monotonic()
        futures = {p.pk: pool.submit(_measure, p, now) for p in threaded}
        for p in threaded:
            # Allow the driver's own timeout to answer first; then cut the probe off.
            remaining = started + p.timeout_ms / 1000 + 0.5 - time.monotonic()
            try:
                results[p.pk] = futures[p.pk].result(timeout=max(0.0, remaining))
            except FuturesTimeout:
                results[p.pk] = Measurement(
                    ok=False,
                    error=f"cut off: no answer within {p.timeout_ms} ms",
                    duration_ms=(time.monotonic() - started) * 1000,
                )
        pool.shutdown(wait=False, cancel_futures=True)
    for p in probes:
        if p.kind in IN_CALLER:
            results[p.pk] = _measure(p, now)
    return results


def run_probes(*, now: datetime | None = None, evaluate: bool = True) -> RoundResult:
    """One round: every enabled probe measured once, samples recorded, alarms evaluated.

    The scheduler calls it every ``MONITORING_PROBE_SECONDS``; ``manage.py run_probes`` runs one
    round by hand. Safe to run twice: each round adds its samples, and an alarm fires only once.
    """
    from .alarms import evaluate_alarms

    now = now or timezone.now()
    ensure_builtin_probes()
    probes = list(Probe.objects.filter(enabled=True))
    measurements = measure_all(probes, now)
    with transaction.atomic():
        samples = Sample.objects.bulk_create(
            [
                Sample(
                    probe=p,
                    at=now,
                    ok=m.ok,
                    measured=m.measured,
                    value=m.value,
                    duration_ms=round(m.duration_ms, 2),
                    error=m.error[:500],
                    details=m.details,
                )
                for p in probes
                for m in [measurements[p.pk]]
            ]
        )
        for p in probes:
            state = measurements[p.pk].state
            if state is not None:
                Probe.objects.filter(pk=p.pk).update(state=state)
        prune_samples(now=now)
    result = RoundResult(samples=samples)
    if evaluate:
        outcome = evaluate_alarms(now=now)
        result.fired, result.resolved, result.escalated = (
            outcome.fired,
            outcome.resolved,
            outcome.escalated,
        )
    return result


def prune_samples(*, now: datetime) -> int:
    """Delete samples past ``MONITORING_SAMPLE_RETENTION_DAYS`` (one indexed DELETE; alarms
    carry their evidence in their own row, so nothing points at a sample)."""
    cutoff = now - timedelta(days=settings.MONITORING_SAMPLE_RETENTION_DAYS)
    old = Sample.objects.filter(at__lt=cutoff)
    return old._raw_delete(old.db)


def run_probes_task() -> None:
    """The scheduler's entry point (no arguments)."""
    run_probes()


# --- HTTP probes, edited by administrators ---------------------------------------------------------
@transaction.atomic
def save_http_probe(
    *,
    by: User,
    name: str,
    url: str,
    expected_status: int,
    timeout_ms: int,
    enabled: bool = True,
    probe: Probe | None = None,
) -> Probe:
    """Add (or change) an HTTP probe: the URL must answer with ``expected_status`` in time."""
    if not url.lower().startswith(("http://", "https://")):
        raise DomainError(MonitoringError.BAD_URL, field="url")
    if probe is not None:
        probe = Probe.objects.select_for_update().get(pk=probe.pk)
        if probe.kind != ProbeKind.HTTP:
            raise DomainError(MonitoringError.NOT_HTTP)
    else:
        probe = Probe(kind=ProbeKind.HTTP)
    probe.name, probe.url = name, url
    probe.expected_status, probe.timeout_ms, probe.enabled = expected_status, timeout_ms, enabled
    from apps.core.errors import full_clean_or_refuse

    full_clean_or_refuse(probe)
    probe._history_user = by  # type: ignore[attr-defined]
    probe.save()
    if not probe.rules.exists():
        AlarmRule.objects.create(
            probe=probe, name=name, condition=Condition.FAILS, severity=AlarmSeverity.WARNING
        )
    return probe
