import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.backups import demo_order_system


class Command(BaseCommand):
    help = "Fill the demo order system (ORDER_SYSTEM_DATABASE_URL) with reproducible data."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=1000)
        parser.add_argument("--url", default=None, help="defaults to ORDER_SYSTEM_DATABASE_URL")
        parser.add_argument("--log-dir", default=None, help="defaults to ORDER_SYSTEM_LOG_DIR")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the orders table has rows"
        )

    def handle(self, *args, orders, url, log_dir, if_empty, **options):
        if settings.PRODUCTION:
            raise CommandError(
                "seed_order_system replaces the order system's tables: not in production."
            )
        if orders < 1:
            raise CommandError("--orders must be at least 1.")
        url = url or settings.ORDER_SYSTEM_DATABASE_URL
        if if_empty and demo_order_system.count_orders(url):
            self.stdout.write("The order system already has orders: left as it is.")
            return
        started = time.monotonic()
        counts = demo_order_system.seed(url, orders=orders)
        logs = demo_order_system.write_logs(log_dir or settings.ORDER_SYSTEM_LOG_DIR)
        for table, count in counts.items():
            self.stdout.write(f"  {table:<12} {count:>12,}")
        self.stdout.write(f"  {len(logs)} log files")
        self.stdout.write(self.style.SUCCESS(f"Done in {time.monotonic() - started:.1f}s"))
