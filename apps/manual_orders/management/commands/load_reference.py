from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import DomainError
from apps.manual_orders import services


class Command(BaseCommand):
    help = (
        "Load products (with prices) and customers for manual orders from the order system's "
        "database, or with --from-backup from its latest products and users backups. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from-backup", action="store_true")

    def handle(self, *args, from_backup, **options):
        try:
            if from_backup:
                counts = services.load_reference_from_latest_backup()
            else:
                counts = services.load_reference_from_order_system()
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{counts['products']} products and {counts['customers']} customers loaded."
            )
        )
