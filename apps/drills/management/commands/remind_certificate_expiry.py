"""``manage.py remind_certificate_expiry``: e-mail holders of certificates about to expire."""

from django.core.management.base import BaseCommand

from apps.drills import services


class Command(BaseCommand):
    help = "Remind each holder once of a certificate expiring soon (safe to run repeatedly)."

    def handle(self, *args, **options):
        sent = services.send_expiry_reminders()
        self.stdout.write(f"{sent} reminder(s) sent")
