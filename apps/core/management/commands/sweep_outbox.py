from django.core.management.base import BaseCommand

from apps.core.errors import QueueUnavailable
from apps.core.jobs import ensure_queue_available, sweep_waiting_jobs
from apps.core.notifications import sweep_waiting_notifications


class Command(BaseCommand):
    help = (
        "Enqueue the jobs and notifications that are waiting for the queue (Redis was down "
        "when they were made). Safe to run at any time and from several places: each record is "
        "claimed once. run_due_backups calls it every minute."
    )

    def handle(self, *args, **options):
        try:
            ensure_queue_available()
        except QueueUnavailable as exc:
            self.stderr.write(str(exc))
            return
        jobs = sweep_waiting_jobs()
        notifications = sweep_waiting_notifications()
        self.stdout.write(f"Outbox: {jobs} job(s) and {notifications} notification(s) enqueued.")
