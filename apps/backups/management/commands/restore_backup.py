from django.core.management.base import BaseCommand, CommandError

from apps.backups import services
from apps.backups.models import BackupScope, RestoreRun
from apps.core.errors import DomainError

from ._wait import wait_for_job


class Command(BaseCommand):
    help = (
        "Restore a scope (the proposed backup, or --backup NAME) into the order system, or "
        "into --target-url for a rehearsal. All or nothing; verified afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scope", required=True, action="append", help="repeatable")
        parser.add_argument("--backup", default=None, help="file name of the backup to use")
        parser.add_argument("--target-url", default=None)
        parser.add_argument(
            "--yes", action="store_true", help="confirm replacing the target's data"
        )

    def handle(self, *args, scope, backup, target_url, yes, **options):
        scopes = list(BackupScope.objects.filter(slug__in=scope))
        missing = set(scope) - {s.slug for s in scopes}
        if missing:
            raise CommandError(f"Unknown scope(s): {', '.join(sorted(missing))}")
        chosen = {}
        if backup:
            try:
                run = services.find_backup(backup)
            except DomainError as exc:
                raise CommandError(str(exc)) from exc
            if run is None:
                raise CommandError(f"No backup named {backup!r}")
            if run.scope.slug not in scope:
                raise CommandError(
                    f"{backup!r} is a backup of {run.scope.slug!r}, not of {', '.join(scope)}."
                )
            chosen[run.scope.slug] = run
        for s in scopes:
            if s.slug not in chosen:
                proposal = services.propose_restore(scope=s)
                self.stdout.write(f"{s.slug}: {proposal.backup or '-'} ({proposal.reason})")
        if not yes:
            raise CommandError("This replaces the target's tables. Re-run with --yes to confirm.")
        try:
            restore = services.start_restore(scopes=scopes, target_url=target_url, backups=chosen)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Queued restore #{restore.pk} into {restore.target_label}")
        job = wait_for_job(self, restore.job_id)
        restore = RestoreRun.objects.get(pk=restore.pk)
        if job.state != "succeeded":
            raise CommandError(f"Restore failed, target unchanged: {job.error or restore.error}")
        report = restore.report or {}
        for item in report.get("tables", []):
            mark = "ok" if item["ok"] else "MISMATCH"
            self.stdout.write(f"  {item['table']:<20} {item['rows_restored']:>12,} rows  {mark}")
        for check in report.get("checks", []):
            mark = (
                "ok" if check["ok"] else f"FAILED ({check.get('violations', check.get('error'))})"
            )
            self.stdout.write(f"  {check.get('name_en') or check['name']}: {mark}")
        if restore.checks_passed is False:
            raise CommandError("Restored, but some checks failed: see the report above.")
        self.stdout.write(self.style.SUCCESS("Restored and verified."))
