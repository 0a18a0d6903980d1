from django.core.management.base import BaseCommand

from apps.backups.retention import prune


class Command(BaseCommand):
    help = (
        "Apply the policies' retention: old files leave the local store first and the remote "
        "store later; the newest verified backup, files in use and journal segments a retained "
        "backup needs are kept. Every deletion is audited. --dry-run lists what would go. "
        "The scheduler runs it every hour."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list, delete nothing")

    def handle(self, *args, dry_run, **options):
        plan = prune(dry_run=dry_run)
        for d in plan.deletions:
            state = "would delete" if dry_run else ("deleted" if d.done else f"kept ({d.error})")
            self.stdout.write(f"{state}: {d.file_name} [{d.store}] — {d.reason}")
        if not plan.deletions:
            self.stdout.write("Nothing to delete.")
