from django.core.management.base import BaseCommand, CommandError

from apps.backups import services
from apps.backups.choices import BackupKind
from apps.backups.models import BackupRun, BackupScope
from apps.core.errors import DomainError

from ._wait import wait_for_job


class Command(BaseCommand):
    help = (
        "Queue a backup of one scope (--scope) or of every scope, each verified (--all: the "
        "backup before an upgrade); --wait follows it to the end."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--scope", help="orders, transactions, users, products, logs")
        which.add_argument(
            "--all", action="store_true", help="every scope, each verified (before an upgrade)"
        )
        parser.add_argument("--kind", choices=BackupKind.values, default=None)
        parser.add_argument("--wait", action="store_true", help="return when the job ends")

    def handle(self, *args, scope, kind, wait, **options):
        if options["all"]:
            return self._all(wait=wait)
        try:
            scope_obj = BackupScope.objects.get(slug=scope)
        except BackupScope.DoesNotExist as exc:
            known = ", ".join(BackupScope.objects.values_list("slug", flat=True))
            raise CommandError(f"Unknown scope {scope!r}; known scopes: {known}") from exc
        try:
            run = services.start_backup(scope=scope_obj, kind=kind)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Queued backup #{run.pk} (job {run.job_id})")
        if not wait:
            return
        job = wait_for_job(self, run.job_id)
        run = services.refresh_run_state(BackupRun.objects.get(pk=run.pk))
        if job.state != "succeeded":
            raise CommandError(f"Backup failed: {job.error or run.error}")
        self.stdout.write(run.local_path)

    def _all(self, *, wait: bool) -> None:
        from django.conf import settings

        from apps.backups.full_backup import start_full_backup
        from apps.backups.models import FullBackup

        try:
            full, created = start_full_backup()
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        verb = "Queued" if created else "Already under way:"
        self.stdout.write(f"{verb} full backup #{full.pk} (job {full.job_id})")
        # Jobs in threads of this process (embedded default) die with it: always wait then.
        if not wait and settings.JOB_RUNNER != "thread":
            return
        job = wait_for_job(self, full.job_id)
        full = FullBackup.objects.get(pk=full.pk)
        for item in full.report:
            mark = "verified" if item["ok"] else f"FAILED: {item.get('message', '')}"
            self.stdout.write(f"  {item['scope']}: {item.get('file_name', '-')} {mark}")
        if job.state != "succeeded" or not full.all_verified:
            raise CommandError(f"Full backup #{full.pk} failed: {job.display_error or full.error}")
        self.stdout.write(f"Full backup #{full.pk}: every scope backed up and verified.")
