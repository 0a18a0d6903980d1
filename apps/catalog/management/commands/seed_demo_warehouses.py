from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.catalog import services
from apps.catalog.models import Warehouse
from apps.catalog.services import LocationData, WarehouseData

DEMO = [
    ("SH01", "上海一号仓", "A", 12),
    ("GZ01", "广州中心仓", "B", 8),
]


class Command(BaseCommand):
    help = "Create two demo warehouses with bins (idempotent). Refused in production mode."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo_warehouses is for development and demos only.")
        ids = services.upsert_warehouses(
            warehouses=[WarehouseData(code=code, name=name) for code, name, _a, _b in DEMO],
            by=None,
            reason="demo",
        ).ids
        for code, _name, aisle, bins in DEMO:
            services.upsert_locations(
                warehouse=Warehouse.objects.get(pk=ids[code]),
                locations=[
                    LocationData(code=f"{aisle}-{n:02d}", barcode=f"LOC-{code}-{aisle}{n:02d}")
                    for n in range(1, bins + 1)
                ],
                update_existing=False,
                by=None,
                reason="demo",
            )
        self.stdout.write(self.style.SUCCESS(f"{len(DEMO)} demo warehouses with bins ready."))
