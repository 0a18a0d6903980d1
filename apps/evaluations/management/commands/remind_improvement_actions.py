from django.core.management.base import BaseCommand

from apps.evaluations.services import send_action_reminders


class Command(BaseCommand):
    help = "Remind owners of improvement actions due soon or overdue (each reminder once)."

    def handle(self, *args, **options):
        sent = send_action_reminders()
        self.stdout.write(f"{sent} reminder(s) sent")
