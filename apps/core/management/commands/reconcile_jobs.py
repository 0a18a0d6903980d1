from django.core.management.base import BaseCommand

from apps.core.periodic import reconcile_dead_jobs


class Command(BaseCommand):
    help = (
        "Fail every queued or running job whose worker is gone (killed, crashed, lost by the "
        "queue). The scheduler runs it every minute."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"{reconcile_dead_jobs()} job(s) marked failed.")
