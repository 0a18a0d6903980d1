"""``restore_backup --until``: a point-in-time restore from the command line."""

from datetime import datetime

from django.core.management.base import CommandError
from django.utils import timezone

from apps.backups.journal.pitr import plan_point_in_time, start_point_in_time_restore
from apps.backups.models import RestoreRun
from apps.core.errors import DomainError

from ._wait import wait_for_job


def restore_to_point_in_time(command, *, scopes, until: str, target_url, yes: bool) -> None:
    try:
        when = datetime.fromisoformat(until)
    except ValueError as exc:
        raise CommandError(
            f"--until {until!r} is not a time (ISO 8601, e.g. 2026-11-30T09:15:00)"
        ) from exc
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    try:
        plan = plan_point_in_time(scopes=scopes, until=when)
    except DomainError as exc:
        raise CommandError(str(exc)) from exc
    for backup in plan.backups:
        command.stdout.write(
            f"{backup.scope.slug}: {backup.file_name} (finished {backup.finished_at:%Y-%m-%d %H:%M:%S})"
        )
    command.stdout.write(
        f"then {len(plan.segments)} journal segment(s), "
        f"{int(plan.seconds_after_backup)} s of changes after the backup"
        + (f"; {plan.gap}" if plan.gap else "")
    )
    if not yes:
        raise CommandError("This replaces the target's tables. Re-run with --yes to confirm.")
    try:
        restore = start_point_in_time_restore(scopes=scopes, until=when, target_url=target_url)
    except DomainError as exc:
        raise CommandError(str(exc)) from exc
    job = wait_for_job(command, restore.job_id)
    restore = RestoreRun.objects.get(pk=restore.pk)
    if job.state != "succeeded":
        raise CommandError(f"Restore failed, target unchanged: {job.error or restore.error}")
    report = restore.report or {}
    pit = report["point_in_time"]
    for check in report["checks"]:
        mark = "ok" if check["ok"] else f"FAILED ({check.get('violations', check.get('error'))})"
        command.stdout.write(f"  {check.get('name_en') or check['name']}: {mark}")
    command.stdout.write(
        f"{pit['transactions']} journaled transaction(s) replayed "
        f"({pit['skipped_in_backup']} already in the backup)."
    )
    if pit["stopped_early"]:
        command.stderr.write(f"STOPPED EARLY: {pit['stopped_early']}")
    achieved = timezone.localtime(datetime.fromisoformat(pit["achieved"]))
    command.stdout.write(f"Restored to {achieved:%Y-%m-%d %H:%M:%S.%f %Z}.")
    if restore.checks_passed is False:
        raise CommandError("Restored, but some checks failed: see the report above.")
