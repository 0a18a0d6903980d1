from django.core.management.base import BaseCommand

from apps.customer_care.outreach_selectors import remind_due_contacts


class Command(BaseCommand):
    help = "Tell the care leads about planned VIP contacts that are due (once per contact)."

    def handle(self, *args, **options):
        count = remind_due_contacts()
        self.stdout.write(f"{count} due contact(s) reminded")
