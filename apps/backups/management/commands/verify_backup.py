from django.core.management.base import BaseCommand, CommandError

from apps.backups import services


class Command(BaseCommand):
    help = "Check a backup end to end (decrypt, checksums, manifest) without restoring it."

    def add_arguments(self, parser):
        parser.add_argument("name_or_path")

    def handle(self, *args, name_or_path, **options):
        outcome = services.verify_backup(name_or_path=name_or_path)
        if not outcome.ok:
            raise CommandError(outcome.message)
        report = outcome.report
        for table in report.tables:
            self.stdout.write(f"  {table.name:<20} {table.rows:>12,} rows")
        for f in report.files:
            self.stdout.write(f"  {f.name:<20} {f.size:>12,} bytes")
        self.stdout.write(self.style.SUCCESS(outcome.message))
