from django.core.management.base import BaseCommand, CommandError

from apps.backups.journal.health import check_journal_health
from apps.backups.models import JournalState


class Command(BaseCommand):
    help = (
        "Measure the change journal's slot lag, raise or clear its alarm and copy segments "
        "whose remote copy failed. The scheduler runs it every minute."
    )

    def handle(self, *args, **options):
        alarms = check_journal_health()
        for state in JournalState.objects.all():
            self.stdout.write(
                f"{state.slot}: retained {state.retained_bytes} bytes, lag {state.lag_bytes} "
                f"bytes{' — ALARM: ' + state.last_error_text if state.alarm else ''}"
            )
        if alarms:
            raise CommandError(f"{alarms} journal alarm(s)")
