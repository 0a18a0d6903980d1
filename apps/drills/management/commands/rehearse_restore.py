"""``manage.py rehearse_restore [--scope S ...] [--target NAME]``: a restore rehearsal, now."""

from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import DomainError
from apps.drills import services
from apps.drills.choices import RehearsalState


class Command(BaseCommand):
    help = (
        "Restore the latest backup of every scope (or --scope S ...) into a scratch database, "
        "verify, drop it, and print RTO and RPO per scope and in total."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scope", action="append", dest="scopes", default=None)
        parser.add_argument(
            "--target",
            default=None,
            help="A BACKUP_SCRATCH_TARGETS name or a scratch database URL (default: the first).",
        )

    def handle(self, *args, scopes=None, target=None, **options):
        try:
            rehearsal = services.start_rehearsal(
                by=None, target=target, scopes=scopes, in_caller=True
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        for row in rehearsal.scopes:
            if "rto_seconds" in row:
                self.stdout.write(
                    f"{row['scope']} RTO {row['rto_seconds']:.1f} s RPO {row['rpo_seconds']:.0f} s"
                    f" {'ok' if row['ok'] else 'FAILED'}"
                )
            else:
                self.stdout.write(f"{row['scope']} FAILED {row.get('error', '')}")
        if rehearsal.state != RehearsalState.PASSED:
            raise CommandError(rehearsal.error_message or rehearsal.error or "rehearsal failed")
        self.stdout.write(f"RTO {rehearsal.rto_seconds:.1f} s RPO {rehearsal.rpo_seconds:.0f} s")
