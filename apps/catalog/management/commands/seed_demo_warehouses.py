from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.catalog.models import Location, Warehouse

DEMO = [
    ("SH01", "上海一号仓", "A", 12),
    ("GZ01", "广州中心仓", "B", 8),
]


class Command(BaseCommand):
    help = "Create two demo warehouses with bins (idempotent). Refused in production mode."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo_warehouses is for development and demos only.")
        with transaction.atomic():
            for code, name, aisle, bins in DEMO:
                warehouse, _ = Warehouse.objects.get_or_create(code=code, defaults={"name": name})
                for n in range(1, bins + 1):
                    Location.objects.get_or_create(
                        warehouse=warehouse,
                        code=f"{aisle}-{n:02d}",
                        defaults={"barcode": f"LOC-{code}-{aisle}{n:02d}"},
                    )
        self.stdout.write(self.style.SUCCESS(f"{len(DEMO)} demo warehouses with bins ready."))
