from django.core.management.base import BaseCommand

from apps.backups import services


class Command(BaseCommand):
    help = (
        "Start a backup for every policy whose interval has passed (real-time: every 15 min, "
        "daily: once a day by default). Run it every minute from cron or a systemd timer."
    )

    def handle(self, *args, **options):
        runs = services.start_due_backups()
        for run in runs:
            self.stdout.write(f"Queued {run.scope.slug} ({run.kind}) as backup #{run.pk}")
        if not runs:
            self.stdout.write("Nothing is due.")
