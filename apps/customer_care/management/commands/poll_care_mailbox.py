from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import DomainError
from apps.customer_care import services


class Command(BaseCommand):
    help = "Take new mail from the care mailbox (CARE_IMAP_URL): open or thread cases."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="", help="imap[s]://user:password@host:port/MAILBOX")
        parser.add_argument("--limit", type=int, default=0, help="at most this many messages")

    def handle(self, *args, url="", limit=0, **options):
        try:
            counts = services.poll_mailbox(url=url or None, limit=limit or None)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in counts.items()))
