"""``manage.py rehearse_if_due``: the periodic rehearsal's task, for cron-less testing."""

from django.core.management.base import BaseCommand

from apps.drills import services


class Command(BaseCommand):
    help = "Start a restore rehearsal when none ran within DRILLS_REHEARSAL_EVERY_HOURS."

    def handle(self, *args, **options):
        rehearsal = services.rehearse_if_due()
        self.stdout.write(f"rehearsal #{rehearsal.pk} started" if rehearsal else "not due")
