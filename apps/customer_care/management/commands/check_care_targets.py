from django.core.management.base import BaseCommand

from apps.customer_care import services


class Command(BaseCommand):
    help = "Record cases that missed their response targets and warn leads of those about to."

    def handle(self, *args, **options):
        counts = services.check_response_targets()
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in counts.items()))
