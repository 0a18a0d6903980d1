"""Restore rehearsals (8.3(4)): the latest backup of every scope into a scratch database.

Built on the backups app, never beside it: each scope's newest intact backup is chosen by
``backups.services.propose_restore``, restored and verified by ``backups.services.start_restore``
(a real ``RestoreRun``, the scope's own integrity and business checks) into a scratch target the
gateway accepts; scopes go in the order their foreign keys need (from the backups' manifests),
the scratch database is dropped afterwards. Measured: RTO (restore + verify wall time per scope
and in total) and RPO (the age of the newest data restored, per scope and the worst of them).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.roles import Role
from apps.backups import services as backups
from apps.backups.choices import RunState as BackupRunState
from apps.backups.engine import gateway
from apps.core.choices import Channel, JobState
from apps.core.errors import DomainError, JobFailure
from apps.core.events import message
from apps.core.jobs import Progress, refresh_job_state, start_job
from apps.core.notifications import send_notification
from apps.core.timeline import post_to_timeline

from .. import events
from ..choices import RehearsalState
from ..errors import DrillsError
from ..models import RestoreRehearsal

if TYPE_CHECKING:
    from apps.accounts.models import User
    from apps.backups.models import BackupRun, BackupScope

logger = logging.getLogger(__name__)

ALARM_SUBJECT = _("Restore rehearsal #%(id)s FAILED")
ALARM_BODY = _(
    "The restore rehearsal #%(id)s into %(target)s failed: %(reason)s\n\n"
    "The backups may not restore when they are needed. Look at the rehearsal page and fix it."
)
ALARM_SMS = _("Restore rehearsal #%(id)s failed: %(reason)s")


def _is_url(target: str) -> bool:
    return "://" in target


def resolve_target(target: str | None) -> tuple[str, str]:
    """(name, URL) of a scratch target; refuses anything the gateway does not call scratch."""
    targets = backups.scratch_targets()
    if not target:
        if not targets:
            raise DomainError(DrillsError.NO_SCRATCH_TARGET)
        target = sorted(targets)[0]
    if _is_url(target):
        name, url = backups.target_label(target), target
    elif target in targets:
        name, url = target, targets[target]
    else:
        raise DomainError(DrillsError.UNKNOWN_TARGET, params={"target": target}, field="target")
    if not gateway.is_scratch_url(url):
        logger.error(
            "restore rehearsal refused a non-scratch target: %s", backups.target_label(url)
        )
        raise DomainError(
            DrillsError.NOT_SCRATCH, params={"target": backups.target_label(url)}, field="target"
        )
    return name, url


def _scopes(slugs: list[str] | None) -> list[BackupScope]:
    from apps.backups.models import BackupScope

    if not slugs:
        return list(BackupScope.objects.order_by("position", "slug"))
    found = {s.slug: s for s in BackupScope.objects.filter(slug__in=slugs)}
    for slug in slugs:
        if slug not in found:
            raise DomainError(DrillsError.UNKNOWN_SCOPE, params={"scope": slug}, field="scopes")
    return [found[s] for s in slugs]


def start_rehearsal(
    *,
    by: User | None,
    target: str | None = None,
    scopes: list[str] | None = None,
    in_caller: bool = False,
) -> RestoreRehearsal:
    """Record a rehearsal and hand it to a worker (the ``backups`` queue) after the commit.

    ``target`` is a configured scratch name (default: the first) or, from the command line
    only, a URL: that one runs in the caller, so a password never travels through Redis.
    """
    name, url = resolve_target(target)
    chosen = _scopes(scopes)
    with transaction.atomic():
        # One rehearsal at a time (they share the scratch database): the scopes are the lock.
        from apps.backups.models import BackupScope

        list(BackupScope.objects.select_for_update().order_by("pk"))
        for other in RestoreRehearsal.objects.filter(
            state__in=[RehearsalState.QUEUED, RehearsalState.RUNNING]
        ).select_related("job"):
            if other.job is None or refresh_job_state(other.job).state not in JobState.finished():
                raise DomainError(DrillsError.REHEARSAL_RUNNING, params={"id": other.pk})
            RestoreRehearsal.objects.filter(pk=other.pk).update(
                state=RehearsalState.FAILED, error=str(other.job.error or "")
            )
        rehearsal = RestoreRehearsal.objects.create(
            target=name,
            target_label=backups.target_label(url),
            requested_scopes=[s.slug for s in chosen] if scopes else [],
            started_by=by,
        )
        kwargs: dict[str, Any] = {"rehearsal_id": rehearsal.pk}
        if _is_url(target or ""):
            kwargs["target_url"] = url
        rehearsal.job = start_job(
            kind="rehearsal",
            title=message(events.REHEARSAL_TITLE, id=rehearsal.pk, target=rehearsal.target_label),
            func="apps.drills.jobs.rehearse_restore_job",
            kwargs=kwargs,
            queue="backups",
            by=by,
            in_caller=in_caller or "target_url" in kwargs,
        )
        RestoreRehearsal.objects.filter(pk=rehearsal.pk).update(job=rehearsal.job)
    rehearsal.refresh_from_db()
    return rehearsal


def restore_order(runs: dict[str, BackupRun], scopes: list[BackupScope]) -> list[BackupScope]:
    """Scopes sorted so that every scope comes after the scopes its foreign keys point to
    (read from the backups' manifests); ties keep the plan's order (position)."""
    owner = {backups.bare_table_name(t): s.slug for s in scopes for t in s.tables}
    needs: dict[str, set[str]] = {s.slug: set() for s in scopes}
    for scope in scopes:
        run = runs.get(scope.slug)
        if run is None:
            continue
        for targets in backups.referenced_tables(run.manifest).values():
            for table in targets:
                other = owner.get(table)
                if other and other != scope.slug:
                    needs[scope.slug].add(other)
    ordered: list[BackupScope] = []
    done: set[str] = set()
    pending = sorted(scopes, key=lambda s: (s.position, s.slug))
    while pending:
        ready = [s for s in pending if needs[s.slug] <= done] or pending[:1]  # a cycle: as listed
        for scope in ready:
            ordered.append(scope)
            done.add(scope.slug)
            pending.remove(scope)
            break
    return ordered


def _data_time(run: BackupRun) -> datetime:
    """When the backup's snapshot began (its manifest), else when the run was recorded."""
    started = (run.manifest or {}).get("started_at")
    if started:
        try:
            return datetime.fromisoformat(str(started).replace("Z", "+00:00"))
        except ValueError:
            pass
    return run.created_at


def perform_rehearsal(
    *, rehearsal_id: int, progress: Progress, target_url: str | None = None
) -> dict[str, Any]:
    """Worker side: pick, order, restore and verify each scope, drop the scratch database."""
    rehearsal = RestoreRehearsal.objects.select_related("started_by").get(pk=rehearsal_id)
    now = timezone.now()
    RestoreRehearsal.objects.filter(pk=rehearsal.pk).update(
        state=RehearsalState.RUNNING, started_at=now
    )
    rehearsal.started_at = now
    by = rehearsal.started_by
    results: list[dict[str, Any]] = []
    failure: DomainError | None = None
    url = ""
    t_total = time.monotonic()
    rto_total: float | None = None
    try:
        url = target_url or resolve_target(rehearsal.target)[1]
        if not gateway.is_scratch_url(url):  # the configuration changed since it was queued
            raise DomainError(DrillsError.NOT_SCRATCH, params={"target": backups.target_label(url)})
        scopes = _scopes(rehearsal.requested_scopes or None)
        runs: dict[str, BackupRun] = {}
        for scope in scopes:
            proposal = backups.propose_restore(scope=scope)
            if proposal.backup is None:
                results.append(
                    {
                        "scope": scope.slug,
                        "name": scope.name_en,
                        "name_zh": scope.name_zh,
                        "ok": False,
                        "error": str(proposal.reason),
                    }
                )
                raise DomainError(f"{scope.name}: {proposal.reason}")
            runs[scope.slug] = proposal.backup
        # A clean scratch database: whatever a previous rehearsal left is dropped first.
        gateway.drop_scratch_database(url)
        gateway.create_scratch_database(url)
        ordered = restore_order(runs, scopes)
        t_total = time.monotonic()
        for n, scope in enumerate(ordered, start=1):
            run = runs[scope.slug]
            progress.update(
                percent=int(5 + 90 * (n - 1) / len(ordered)),
                step=message(events.REHEARSAL_SCOPE, scope=scope.name, n=n, total=len(ordered)),
            )
            t0 = time.monotonic()
            restore = backups.start_restore(
                scopes=[scope], target_url=url, backups={scope.slug: run}, by=by
            )
            restore.refresh_from_db()
            rto = round(time.monotonic() - t0, 3)
            rpo = round((rehearsal.started_at - _data_time(run)).total_seconds(), 3)
            ok = restore.state == BackupRunState.COMPLETE and restore.checks_passed is not False
            results.append(
                {
                    "scope": scope.slug,
                    "name": scope.name_en,
                    "name_zh": scope.name_zh,
                    "backup": run.file_name,
                    "restore_id": restore.pk,
                    "rto_seconds": rto,
                    "rpo_seconds": max(rpo, 0.0),
                    "ok": ok,
                    "error": "" if ok else (restore.error or _failed_checks(restore)),
                }
            )
            progress.log(f"{scope.slug}: RTO {rto:.1f} s, RPO {max(rpo, 0):.0f} s, ok={ok}")
            if not ok:
                raise DomainError(f"{scope.name}: {results[-1]['error']}")
        rto_total = round(time.monotonic() - t_total, 3)
    except DomainError as exc:
        failure = exc
    except Exception as exc:  # noqa: BLE001 - recorded and alarmed, then re-raised below
        failure = DomainError(f"{type(exc).__name__}: {exc}")
        logger.exception("restore rehearsal %s failed", rehearsal.pk)
    finally:
        dropped = _drop(url)
    if rto_total is None:
        rto_total = round(time.monotonic() - t_total, 3)
    rpo_values = [r["rpo_seconds"] for r in results if "rpo_seconds" in r]
    fields: dict[str, Any] = {
        "finished_at": timezone.now(),
        "scopes": results,
        "scratch_dropped": dropped,
        "rto_seconds": rto_total if results else None,
        "rpo_seconds": max(rpo_values) if rpo_values else None,
    }
    if failure is not None:
        code = failure.code if failure.code in DrillsError.values else ""
        fields.update(
            state=RehearsalState.FAILED,
            error=str(failure),
            error_code=code,
            error_params=failure.params if code else {},
        )
        RestoreRehearsal.objects.filter(pk=rehearsal.pk).update(**fields)
        _alarm(rehearsal, str(failure))
        raise JobFailure(str(failure), result={"rehearsal_id": rehearsal.pk})
    fields["state"] = RehearsalState.PASSED
    RestoreRehearsal.objects.filter(pk=rehearsal.pk).update(**fields)
    post_to_timeline(
        kind=events.REHEARSAL_PASSED,
        id=rehearsal.pk,
        rto=round(fields["rto_seconds"] or 0),
        rpo=round(fields["rpo_seconds"] or 0),
        by=by,
    )
    progress.update(percent=100)
    return {
        "rehearsal_id": rehearsal.pk,
        "rto_seconds": fields["rto_seconds"],
        "rpo_seconds": fields["rpo_seconds"],
    }


def _failed_checks(restore: Any) -> str:
    checks = (restore.report or {}).get("checks") or []
    failed = [str(c.get("name_en") or c.get("name")) for c in checks if not c.get("ok")]
    return "checks failed: " + ", ".join(failed)


def _drop(url: str) -> bool:
    """Drop the scratch database; True when it is gone (never drops a non-scratch one)."""
    if not url or not gateway.is_scratch_url(url):
        return False
    try:
        gateway.drop_scratch_database(url)
    except Exception:  # noqa: BLE001 - reported as "not dropped" on the rehearsal
        logger.exception("could not drop the scratch database after a rehearsal")
        return False
    return True


def _alarm(rehearsal: RestoreRehearsal, reason: str) -> None:
    """A failed rehearsal: tell every tech-support member (e-mail and SMS) and the timeline."""
    from django.contrib.auth import get_user_model

    params = {"id": rehearsal.pk, "target": rehearsal.target_label, "reason": reason[:300]}
    people = get_user_model().objects.filter(is_active=True, groups__name=Role.TECH_SUPPORT)
    for person in people.distinct():
        for channel, body in ((Channel.EMAIL, ALARM_BODY), (Channel.SMS, ALARM_SMS)):
            try:
                send_notification(
                    channel=channel,
                    recipient=person,
                    subject=ALARM_SUBJECT if channel == Channel.EMAIL else "",
                    body=body,
                    params=params,
                )
            except DomainError:  # no address for this channel
                continue
    post_to_timeline(
        kind=events.REHEARSAL_FAILED, id=rehearsal.pk, reason=reason[:300], by=rehearsal.started_by
    )


def rehearse_if_due(*, now: datetime | None = None) -> RestoreRehearsal | None:
    """The schedule's task: start a rehearsal when none started within
    ``DRILLS_REHEARSAL_EVERY_HOURS`` (safe to call twice: the second finds the first)."""
    now = now or timezone.now()
    since = now - timedelta(hours=settings.DRILLS_REHEARSAL_EVERY_HOURS)
    if RestoreRehearsal.objects.filter(created_at__gte=since).exists():
        return None
    if not backups.scratch_targets():
        logger.warning("no scratch target configured: periodic restore rehearsal skipped")
        return None
    try:
        return start_rehearsal(by=None)
    except DomainError as exc:
        logger.warning("periodic restore rehearsal not started: %s", exc)
        return None
