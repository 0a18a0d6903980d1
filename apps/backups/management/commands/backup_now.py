from django.core.management.base import BaseCommand, CommandError

from apps.backups import services
from apps.backups.choices import BackupKind
from apps.backups.models import BackupRun, BackupScope
from apps.core.errors import DomainError

from ._wait import wait_for_job


class Command(BaseCommand):
    help = "Queue a backup of one scope on the backups queue; --wait follows it to the end."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scope", required=True, help="orders, transactions, users, products, logs"
        )
        parser.add_argument("--kind", choices=BackupKind.values, default=None)
        parser.add_argument("--wait", action="store_true", help="return when the job ends")

    def handle(self, *args, scope, kind, wait, **options):
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
