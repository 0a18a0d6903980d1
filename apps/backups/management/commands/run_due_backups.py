from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from apps.backups import services
from apps.core.errors import QueueUnavailable


class Command(BaseCommand):
    help = (
        "Start a backup for every policy whose interval has passed (real-time: every 15 min, "
        "daily: once a day by default). Run it every minute from cron or a systemd timer. "
        "It first enqueues what waits in the outbox (sweep_outbox)."
    )

    def handle(self, *args, **options):
        call_command("sweep_outbox", stdout=self.stdout, stderr=self.stderr)
        try:
            runs = services.start_due_backups()
        except QueueUnavailable as exc:
            raise CommandError(str(exc)) from exc
        for run in runs:
            self.stdout.write(f"Queued {run.scope.slug} ({run.kind}) as backup #{run.pk}")
        if not runs:
            self.stdout.write("Nothing is due.")
