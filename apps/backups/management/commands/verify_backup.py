from django.core.management.base import BaseCommand, CommandError

from apps.backups import services


class Command(BaseCommand):
    help = (
        "Check a backup end to end (decrypt, checksums, manifest) without restoring it: "
        "NAME is a backup's file name as listed on the backups page; --file PATH checks a "
        "file outside the stores (nothing is recorded)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="the backup's file name (not a path)")
        parser.add_argument("--file", dest="file", default=None, help="a file outside the stores")

    def handle(self, *args, name, file, **options):
        if bool(name) == bool(file):
            raise CommandError("Give either a backup NAME or --file PATH.")
        outcome = services.verify_file(path=file) if file else services.verify_backup(name=name)
        if not outcome.ok:
            raise CommandError(outcome.message)
        report = outcome.report
        assert report is not None  # an intact outcome carries its report
        for table in report.tables:
            self.stdout.write(f"  {table.name:<20} {table.rows:>12,} rows")
        for f in report.files:
            self.stdout.write(f"  {f.name:<20} {f.size:>12,} bytes")
        self.stdout.write(self.style.SUCCESS(outcome.message))
